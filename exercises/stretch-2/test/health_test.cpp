// Stretch 2 · acceptance tests for health checks [AC3]: every backend is
// probed with GET /healthz once per interval (rounds are counted by the
// round_done events, and timed where the probes arrive); a failed probe
// (a non-2xx, or nothing within probe_timeout) takes a backend out of
// routing at once; a down backend needs `rise` consecutive passes to come
// back; and probes are never counted as traffic, nor traffic as probes.
#include "fixtures.hpp"

#include <workbook/test_client.hpp>

#include <catch2/catch.hpp>

using namespace stretch2_test;

namespace {

adjust_fn interval(milliseconds every)
{
  return [every](stretch2::balancer_options& o) { o.health_interval = every; };
}

// The round of the n-th round_done event (1: start()'s), or 0 if it did not
// come within a second.
std::uint64_t nth_round(workbook::event_log<lb_event> const& log, std::size_t n)
{
  auto const done = log.await_nth(is(event_kind::round_done), n, scaled(1s));
  return done ? done->event.round : 0;
}

std::string probe_times(std::vector<probe_seen> const& probes, steady_clock::time_point origin)
{
  std::string out;
  for (auto const& p : probes)
    out += " +" + std::to_string(std::chrono::duration_cast<milliseconds>(p.at - origin).count()) + " ms \"" +
           printable(p.line) + "\"";
  return out.empty() ? " (none)" : out;
}

} // namespace

TEST_CASE("a failing probe takes a backend out of rotation", "[AC3]")
{
  backend_farm farm;
  lb_rig rig(farm, interval(50ms));
  rig.settled();
  REQUIRE(rig.log.count(is(event_kind::down)) == 0);

  auto const sick_at = steady_clock::now();
  farm.set_health("b", health_mode::sick);
  auto const down = rig.log.await(is(event_kind::down, "b"), scaled(1s));
  INFO("b answers its probes 503 from +0 ms on\n" << rig.state());
  REQUIRE(down.has_value());
  CHECK(down->at - sick_at <= scaled(1s));

  auto client = rig.proxy();
  auto const rs = get_n(client, 30);
  INFO("30 GETs after down(b) came back: " << describe(rs));
  CHECK(count_served(rs) == std::map<std::string, int>{{"a", 15}, {"c", 15}});
  CHECK(farm.traffic("b") == 0);

  auto const table = rig.admin_get("/backends");
  INFO("GET /backends: " << table.describe());
  CHECK(table.field("b", "health") == "down");
  CHECK(table.field("a", "health") == "up");
  CHECK(table.field("c", "health") == "up");
}

TEST_CASE("a backend returns only after rise consecutive passed probes", "[AC3]")
{
  backend_farm farm;
  lb_rig rig(farm, [](stretch2::balancer_options& o) { o.rise = 2; });
  rig.settled();
  auto client = rig.proxy();

  farm.set_health("b", health_mode::sick);
  auto const failed = rig.check();
  INFO("b sick, POST /check: " << failed.describe());
  REQUIRE(failed.field("b", "health") == "down");

  farm.set_health("b", health_mode::ok);
  auto const once = rig.check();
  INFO("b healed, one pass, POST /check: " << once.describe() << "\n" << rig.state());
  CHECK(once.field("b", "health") == "down");
  CHECK(rig.log.count(is(event_kind::up, "b")) == 1);  // round 1's
  auto const still_out = get_n(client, 6);
  INFO("6 GETs after one pass came back: " << describe(still_out));
  CHECK(count_served(still_out) == std::map<std::string, int>{{"a", 3}, {"c", 3}});

  auto const twice = rig.check();
  auto const second_pass = nth_round(rig.log, 4);  // start()'s, then three checks
  INFO("two passes, POST /check: " << twice.describe() << "\n" << rig.state());
  CHECK(twice.field("b", "health") == "up");
  auto const up = rig.log.await_nth(is(event_kind::up, "b"), 2, scaled(1s));
  REQUIRE(up.has_value());
  CHECK(up->event.round == second_pass);

  auto const back = get_n(client, 3);
  INFO("3 GETs after two passes came back: " << describe(back));
  CHECK(count_served(back) == std::map<std::string, int>{{"a", 1}, {"b", 1}, {"c", 1}});
}

TEST_CASE("a probe unanswered within probe_timeout fails", "[AC3]")
{
  backend_farm farm;
  lb_rig rig(farm);  // probe_timeout 100 ms
  rig.settled();

  farm.set_health("b", health_mode::silent);
  auto const start = steady_clock::now();
  auto const checked = rig.check();
  auto const took = since(start);
  INFO("b never answers its probe; POST /check took " << took.count() << " ms: " << checked.describe() << "\n"
                                                       << rig.state());
  REQUIRE(checked.status() == 200);
  CHECK(took <= scaled(1s));
  CHECK(checked.field("b", "health") == "down");
  CHECK(checked.field("a", "health") == "up");
  CHECK(checked.field("c", "health") == "up");
  CHECK(rig.log.await(is(event_kind::down, "b"), scaled(1s)).has_value());
}

TEST_CASE("probes run on the interval and only on the health path", "[AC3]")
{
  auto const origin = steady_clock::now();
  backend_farm farm;
  lb_rig rig(farm, interval(50ms));
  auto const sixth = rig.log.await(round_done(6), scaled(2s));
  INFO(rig.state());
  REQUIRE(sixth.has_value());

  for (auto const& id : farm.ids()) {
    auto probes = farm.probe_log(id);
    INFO("backend " << id << " received, from the test's start:" << probe_times(probes, origin));
    REQUIRE(probes.size() >= 6);
    probes.resize(6);
    for (auto const& p : probes) CHECK(p.line.rfind("GET /healthz HTTP/1.", 0) == 0);
    for (std::size_t i = 1; i < probes.size(); ++i) {
      auto const gap = std::chrono::duration_cast<milliseconds>(probes[i].at - probes[i - 1].at);
      INFO("gap between probes " << i << " and " << i + 1 << ": " << gap.count() << " ms");
      CHECK(gap >= 25ms);
      CHECK(gap <= scaled(300ms));
    }
    // Five intervals of 50 ms from the first probe to the sixth.
    CHECK(probes.back().at - probes.front().at >= 225ms);
    CHECK(farm.traffic(id) == 0);
  }
  auto const table = rig.table();
  INFO("backends():\n" << describe(table));
  for (auto const& b : table) {
    CHECK(b.probes >= 6);
    CHECK(b.responses == 0);
    CHECK(b.failures == 0);
  }
}

TEST_CASE("probes are not traffic and traffic does not decide health", "[AC3]")
{
  backend_farm farm;
  farm.set_traffic("b", traffic_mode::fail500);
  lb_rig rig(farm);
  rig.settled();

  auto client = rig.proxy();
  auto const rs = get_n(client, 9);
  INFO("b answers traffic 500, probes 200; 9 GETs came back: " << describe(rs));
  CHECK(joined(served_sequence(rs)) == "a b c a b c a b c");
  for (std::size_t i = 0; i < rs.size(); ++i) CHECK(rs[i].status == (i % 3 == 1 ? 500 : 200));

  auto const checked = rig.check();
  INFO("POST /check: " << checked.describe() << "\n" << rig.state());
  REQUIRE(checked.status() == 200);
  for (auto const& id : farm.ids()) {
    INFO("backend " << id);
    CHECK(checked.field(id, "health") == "up");
    // Two rounds: start()'s and the check's. Three requests each, all answered.
    CHECK(checked.field(id, "probes") == 2);
    CHECK(checked.field(id, "responses") == 3);
    CHECK(checked.field(id, "failures") == 0);
    CHECK(farm.probes(id) == 2);
    CHECK(farm.traffic(id) == 3);
  }
}
