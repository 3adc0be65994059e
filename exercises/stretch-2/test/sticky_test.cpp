// Stretch 2 · acceptance tests for the sticky policy [AC2]: a request
// without a valid cookie is placed by rotation and answered with
// "Set-Cookie: lb=<id>; Path=/; HttpOnly" naming the backend that served
// it; a cookie naming an eligible backend keeps its client there and gets
// no new cookie; a cookie naming an unknown, down or draining backend is
// replaced; only a pair of exactly that name counts, in any Cookie field;
// and the backend's own Set-Cookie fields pass through, before the
// balancer's.
#include "fixtures.hpp"

#include <workbook/test_client.hpp>

#include <catch2/catch.hpp>

using namespace stretch2_test;

namespace {

adjust_fn sticky()
{
  return [](stretch2::balancer_options& o) { o.policy = stretch2::policy::sticky_cookie; };
}

std::string cookie_for(std::string const& id) { return "lb=" + id + "; Path=/; HttpOnly"; }

workbook::header_list with_cookie(std::string const& value) { return {{"Cookie", value}}; }

std::vector<std::string> set_cookies(workbook::response const& r) { return values_of(r.headers, "Set-Cookie"); }

} // namespace

TEST_CASE("a first request gets a cookie naming the backend that served it", "[AC2]")
{
  backend_farm farm;
  lb_rig rig(farm, sticky());

  // Three clients without a cookie: placed by rotation, each told where.
  std::vector<std::string> placed;
  for (int i = 0; i < 3; ++i) {
    auto client = rig.proxy();
    auto const r = client.get("/");
    INFO("client " << i + 1 << ", GET / without a cookie: " << describe(r));
    REQUIRE(r.status == 200);
    REQUIRE(r.has_header("X-Served-By"));
    CHECK(set_cookies(r) == std::vector<std::string>{cookie_for(served_by(r))});
    placed.push_back(served_by(r));
  }
  INFO("placed on " << joined(placed));
  CHECK(joined(placed) == "a b c");
}

TEST_CASE("a client with the cookie stays on its backend and gets no new cookie", "[AC2]")
{
  backend_farm farm;
  lb_rig rig(farm, sticky());

  struct sticky_client {
    workbook::test_client client;
    std::string cookie;
    std::vector<workbook::response> answers;
  };
  std::vector<sticky_client> clients;
  for (int i = 0; i < 3; ++i) clients.push_back({rig.proxy(), "", {}});

  // The first request of each, without a cookie; then 19 rounds, the
  // clients taking turns, each sending the cookie it was given.
  for (auto& c : clients) {
    auto const r = c.client.get("/");
    c.answers.push_back(r);
    auto const given = set_cookies(r);
    if (given.size() == 1) c.cookie = given.front().substr(0, given.front().find(';'));
  }
  for (int round = 0; round < 19; ++round)
    for (auto& c : clients) c.answers.push_back(c.client.send({"GET", "/", with_cookie(c.cookie), ""}));

  std::vector<std::string> homes;
  for (std::size_t i = 0; i < clients.size(); ++i) {
    auto const& c = clients[i];
    auto const first = c.answers.front();
    INFO("client " << i + 1 << " was given \"" << c.cookie << "\"; its 20 GETs came back: " << describe(c.answers));
    REQUIRE(first.status == 200);
    CHECK(c.cookie == "lb=" + served_by(first));
    CHECK(count_served(c.answers) == std::map<std::string, int>{{served_by(first), 20}});
    for (std::size_t k = 1; k < c.answers.size(); ++k) {
      INFO("answer " << k + 1 << ": " << describe(c.answers[k]));
      CHECK(c.answers[k].status == 200);
      CHECK(set_cookies(c.answers[k]).empty());
    }
    homes.push_back(served_by(first));
  }
  INFO("the clients live on " << joined(homes) << "\n" << rig.state());
  CHECK(joined(homes) == "a b c");
  CHECK(farm.traffic() == std::map<std::string, int>{{"a", 20}, {"b", 20}, {"c", 20}});
}

TEST_CASE("the backend's own cookies pass through beside the proxy's", "[AC2]")
{
  backend_farm farm;
  lb_rig rig(farm, sticky());

  auto client = rig.proxy();
  auto const first = client.get("/cookie");
  INFO("GET /cookie without a cookie: " << describe(first));
  REQUIRE(first.status == 200);
  REQUIRE(first.has_header("X-Served-By"));
  auto const home = served_by(first);
  // The backend's two, byte for byte and in order, then the balancer's.
  CHECK(set_cookies(first) == std::vector<std::string>{backend_cookies[0], backend_cookies[1], cookie_for(home)});

  auto const again = client.send({"GET", "/cookie", with_cookie("theme=dark; lb=" + home), ""});
  INFO("GET /cookie with lb=" << home << ": " << describe(again));
  CHECK(again.status == 200);
  CHECK(served_by(again) == home);
  CHECK(set_cookies(again) == backend_cookies);
}

TEST_CASE("a cookie naming an unknown, down or draining backend is replaced", "[AC2]")
{
  backend_farm farm;
  lb_rig rig(farm, sticky());
  rig.settled();
  std::string cookie;
  bool b_eligible = true;

  SECTION("a backend no one has")
  {
    cookie = "lb=zz";
  }
  SECTION("a backend that is down")
  {
    farm.set_health("b", health_mode::sick);
    auto const checked = rig.check();
    INFO("POST /check: " << checked.describe());
    REQUIRE(checked.field("b", "health") == "down");
    cookie = "lb=b";
    b_eligible = false;
  }
  SECTION("a backend that drains")
  {
    auto const drained = rig.admin_post("/drain/b");
    INFO("POST /drain/b: " << drained.describe());
    REQUIRE(drained.status() == 202);
    cookie = "lb=b";
    b_eligible = false;
  }

  // Placed by rotation, each told where it landed.
  auto client = rig.proxy();
  auto const rs = get_n(client, 4, "/", with_cookie(cookie));
  INFO("4 GETs with \"Cookie: " << cookie << "\" came back: " << describe(rs) << "\n" << rig.state());
  for (auto const& r : rs) {
    INFO(describe(r));
    CHECK(r.status == 200);
    CHECK(r.has_header("X-Served-By"));
    CHECK(set_cookies(r) == std::vector<std::string>{cookie_for(served_by(r))});
  }
  if (b_eligible) {
    CHECK(joined(served_sequence(rs)) == "a b c a");
  } else {
    CHECK(joined(served_sequence(rs)) == "a c a c");
    CHECK(farm.traffic("b") == 0);
  }
}

TEST_CASE("only a cookie of exactly that name counts", "[AC2]")
{
  backend_farm farm;
  lb_rig rig(farm, sticky());
  auto client = rig.proxy();

  // No pair is named exactly "lb": every request is placed by rotation and
  // given a cookie.
  auto const unnamed = get_n(client, 3, "/", with_cookie("xlb=c; LB=c; lb2=c"));
  {
    INFO("3 GETs with \"Cookie: xlb=c; LB=c; lb2=c\" came back: " << describe(unnamed));
    CHECK(joined(served_sequence(unnamed)) == "a b c");
    for (auto const& r : unnamed) CHECK(set_cookies(r) == std::vector<std::string>{cookie_for(served_by(r))});
  }

  // The exact name, after a pair whose name merely ends in it.
  auto const exact = get_n(client, 3, "/", with_cookie("xlb=c; lb=b"));
  {
    INFO("3 GETs with \"Cookie: xlb=c; lb=b\" came back: " << describe(exact));
    CHECK(joined(served_sequence(exact)) == "b b b");
    for (auto const& r : exact) CHECK(set_cookies(r).empty());
  }

  // The first pair of that name, in the second Cookie field.
  workbook::header_list const two_fields = {{"Cookie", "a=1"}, {"Cookie", "z=2; lb=c; lb=a"}};
  auto const second_field = get_n(client, 3, "/", two_fields);
  {
    INFO("3 GETs with \"Cookie: a=1\" and \"Cookie: z=2; lb=c; lb=a\" came back: " << describe(second_field));
    CHECK(joined(served_sequence(second_field)) == "c c c");
    for (auto const& r : second_field) CHECK(set_cookies(r).empty());
  }
  INFO(rig.state());
  CHECK(farm.traffic() == std::map<std::string, int>{{"a", 1}, {"b", 4}, {"c", 4}});
}
