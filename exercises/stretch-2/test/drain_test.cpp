// Stretch 2 · acceptance tests for draining [AC5]: POST /drain/{id} stops
// new requests to that backend at once, under every policy (a sticky
// cookie naming it included), while the requests it holds complete with
// their own responses; `drained` is reported only once the last of them
// has ended; POST /undrain/{id} puts it back in the rotation; and with
// every backend draining a new request gets the balancer's own 503.
#include "fixtures.hpp"

#include <workbook/test_client.hpp>

#include <catch2/catch.hpp>

#include <deque>

using namespace stretch2_test;

namespace {

adjust_fn hold_long()
{
  return [](stretch2::balancer_options& o) { o.backend_timeout = 5000ms; };
}

nlohmann::json drain_reply(std::string const& id, bool draining, int in_flight)
{
  return {{"id", id}, {"draining", draining}, {"in_flight", in_flight}};
}

// GETs until one is served by `id`: under round robin the next request
// then goes to the backend after it.
bool advance_past(workbook::test_client& client, std::string const& id)
{
  for (int i = 0; i < 3; ++i)
    if (served_by(client.get("/")) == id) return true;
  return false;
}

} // namespace

TEST_CASE("drain stops new requests at once under every policy", "[AC5]")
{
  stretch2::policy policy = stretch2::policy::round_robin;
  workbook::header_list headers;
  SECTION("round robin") {}
  SECTION("least connections") { policy = stretch2::policy::least_connections; }
  SECTION("sticky, with a cookie naming the draining backend")
  {
    policy = stretch2::policy::sticky_cookie;
    headers = {{"Cookie", "lb=b"}};
  }

  backend_farm farm;
  lb_rig rig(farm, [policy](stretch2::balancer_options& o) { o.policy = policy; });
  auto client = rig.proxy();
  auto const before = get_n(client, 3);
  INFO("policy " << stretch2::to_string(policy) << "; before the drain: " << describe(before));
  REQUIRE(count_served(before) == std::map<std::string, int>{{"a", 1}, {"b", 1}, {"c", 1}});

  auto const drain = rig.admin_post("/drain/b");
  INFO("POST /drain/b: " << drain.describe());
  CHECK(drain.status() == 202);
  CHECK(drain.json == drain_reply("b", true, 0));
  CHECK(rig.log.count(is(event_kind::draining, "b")) == 1);

  auto const rs = get_n(client, 30, "/", headers);
  INFO("30 GETs" << (headers.empty() ? "" : " with Cookie: lb=b") << " came back: " << describe(rs) << "\n"
                 << rig.state());
  for (auto const& r : rs) CHECK(r.status == 200);
  CHECK(count_served(rs) == std::map<std::string, int>{{"a", 15}, {"c", 15}});
  CHECK(farm.traffic("b") == 1);
  CHECK(rig.status("b").draining);
}

TEST_CASE("requests in flight on a draining backend finish with their answers", "[AC5]")
{
  backend_farm farm;
  lb_rig rig(farm, hold_long());
  auto client = rig.proxy();

  // Three requests held at b: each sent right after one served by a.
  std::deque<background_get> held;
  for (int k = 1; k <= 3; ++k) {
    REQUIRE(advance_past(client, "a"));
    held.emplace_back(rig.port(), "/hold/" + std::to_string(k));
    REQUIRE(farm.until_held("b", k, scaled(2s)));
  }

  auto const drain = rig.admin_post("/drain/b");
  INFO("POST /drain/b while b holds 3: " << drain.describe());
  CHECK(drain.status() == 202);
  CHECK(drain.json == drain_reply("b", true, 3));

  auto const rs = get_n(client, 30);
  INFO("30 GETs while b drains came back: " << describe(rs) << "\n" << rig.state());
  for (auto const& r : rs) CHECK(r.status == 200);
  CHECK(count_served(rs) == std::map<std::string, int>{{"a", 15}, {"c", 15}});
  CHECK(farm.held("b") == 3);
  CHECK(rig.status("b").in_flight == 3);
  CHECK(rig.log.count(is(event_kind::drained, "b")) == 0);

  auto const released_at = steady_clock::now();
  farm.release("b");
  for (auto& h : held) {
    auto const r = h.wait(scaled(2s));
    INFO("a held request, released: " << describe(r));
    CHECK(r.status == 200);
    CHECK(served_by(r) == "b");
    CHECK(r.body == "backend b");
  }
  auto const drained = rig.log.await(is(event_kind::drained, "b"), scaled(1s));
  INFO(rig.state());
  REQUIRE(drained.has_value());
  CHECK(drained->at >= released_at);
  CHECK(rig.log.count(is(event_kind::drained, "b")) == 1);
  CHECK(rig.status("b").in_flight == 0);
  CHECK(rig.status("b").responses == 3);
}

TEST_CASE("undrain returns the backend to rotation", "[AC5]")
{
  backend_farm farm;
  lb_rig rig(farm);
  auto client = rig.proxy();

  auto const drain = rig.admin_post("/drain/b");
  INFO("POST /drain/b: " << drain.describe());
  REQUIRE(drain.status() == 202);
  auto const out = get_n(client, 6);
  INFO("6 GETs while b drains: " << describe(out));
  CHECK(count_served(out) == std::map<std::string, int>{{"a", 3}, {"c", 3}});

  auto const undrain = rig.admin_post("/undrain/b");
  INFO("POST /undrain/b: " << undrain.describe());
  CHECK(undrain.status() == 200);
  CHECK(undrain.json == drain_reply("b", false, 0));
  CHECK_FALSE(rig.status("b").draining);

  auto const before = farm.traffic();
  auto const back = get_n(client, 30);
  INFO("30 GETs after the undrain came back: " << describe(back) << "\n" << rig.state());
  for (auto const& r : back) CHECK(r.status == 200);
  CHECK(count_served(back) == std::map<std::string, int>{{"a", 10}, {"b", 10}, {"c", 10}});
  CHECK(delta(before, farm.traffic()) == std::map<std::string, int>{{"a", 10}, {"b", 10}, {"c", 10}});

  // draining, then undrained, each once.
  auto const draining = rig.log.await(is(event_kind::draining, "b"), 0ms);
  auto const undrained = rig.log.await(is(event_kind::undrained, "b"), scaled(1s));
  REQUIRE(draining.has_value());
  REQUIRE(undrained.has_value());
  CHECK(draining->at <= undrained->at);
  CHECK(rig.log.count(is(event_kind::draining, "b")) == 1);
  CHECK(rig.log.count(is(event_kind::undrained, "b")) == 1);
}

TEST_CASE("with every backend draining new requests get 503 and held ones finish", "[AC5]")
{
  backend_farm farm;
  lb_rig rig(farm, hold_long());

  background_get held(rig.port(), "/hold/1");
  REQUIRE(workbook::eventually([&] { return farm.held() == 1; }, scaled(2s)));
  for (auto const& id : farm.ids()) {
    auto const drain = rig.admin_post("/drain/" + id);
    INFO("POST /drain/" << id << ": " << drain.describe());
    REQUIRE(drain.status() == 202);
  }

  auto client = rig.proxy();
  auto const r = client.get("/");
  INFO("GET / with every backend draining: " << describe(r) << "\n" << rig.state());
  CHECK(r.status == 503);
  CHECK(r.header("Retry-After") == std::optional<std::string>("1"));
  CHECK(r.body == "no backend available\n");
  CHECK(farm.traffic("a") + farm.traffic("b") + farm.traffic("c") == 1);  // the held one

  for (auto const& id : farm.ids()) farm.release(id);
  auto const answer = held.wait(scaled(2s));
  INFO("the held request, released: " << describe(answer));
  CHECK(answer.status == 200);
  CHECK(answer.body == "backend " + served_by(answer));
  for (auto const& id : farm.ids()) {
    INFO("drained " << id << "?\n" << rig.log.describe());
    CHECK(rig.log.await(is(event_kind::drained, id), scaled(1s)).has_value());
  }
}
