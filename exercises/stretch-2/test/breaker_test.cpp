// Stretch 2 · acceptance tests for the breaker option [AC8]: each backend
// gets a task-18 circuit_breaker of its own; after failure_threshold
// failures (500s, or timeouts) no more requests reach that backend, and its
// breaker's refusals are re-routed at once to another backend, never
// answered 502; once reset_period has passed on the injected clock, the
// first request that picks the backend is the breaker's probe, and exactly
// one request reaches it; and health probes bypass the breaker.
//
// The breakers read a manual clock: it moves only when a test says so.
// These tests need task 18's breaker to pass its own tests.
#include "fixtures.hpp"

#include <workbook/test_client.hpp>

#include <catch2/catch.hpp>

using namespace stretch2_test;

namespace {

adjust_fn with_breaker(unsigned threshold, task18::clock_type::duration reset_period,
                       std::shared_ptr<workbook::manual_clock> clock)
{
  return [=](stretch2::balancer_options& o) {
    task18::breaker_options b;
    b.failure_threshold = threshold;
    b.reset_period = reset_period;
    b.clock = [clock] { return clock->now(); };
    o.breaker = b;
  };
}

int with_status(std::vector<workbook::response> const& rs, int status)
{
  return static_cast<int>(std::count_if(rs.begin(), rs.end(), [&](auto const& r) { return r.status == status; }));
}

std::string breaker_of(lb_rig const& rig, std::string const& id)
{
  auto const b = rig.status(id).breaker;
  return b ? task18::to_string(*b) : "none";
}

} // namespace

TEST_CASE("a backend answering 500 is cut off after failure_threshold requests", "[AC8]")
{
  auto clock = std::make_shared<workbook::manual_clock>();
  backend_farm farm;
  farm.set_traffic("b", traffic_mode::fail500);
  lb_rig rig(farm, with_breaker(3, 30s, clock));
  rig.settled();

  auto client = rig.proxy();
  auto const rs = get_n(client, 60);
  INFO("b answers 500, threshold 3; 60 GETs came back: " << describe(rs) << "\n" << rig.state());
  CHECK(farm.traffic("b") == 3);
  CHECK(with_status(rs, 500) == 3);
  CHECK(with_status(rs, 200) == 57);
  for (auto const& r : rs)
    if (r.status != 200) CHECK(served_by(r) == "b");

  CHECK(breaker_of(rig, "b") == "open");
  CHECK(breaker_of(rig, "a") == "closed");
  CHECK(breaker_of(rig, "c") == "closed");
  CHECK(rig.log.await(breaker_moved("b", breaker_state::closed, breaker_state::open), scaled(1s)).has_value());
  CHECK(rig.log.count(is(event_kind::breaker)) == 1);
  // Three answers; the refusals are neither responses nor failures.
  CHECK(rig.status("b").responses == 3);
  CHECK(rig.status("b").failures == 0);
  CHECK(rig.status("b").state == stretch2::health::up);
}

TEST_CASE("an open breaker's refusals go to another backend at once", "[AC8]")
{
  auto clock = std::make_shared<workbook::manual_clock>();
  backend_farm farm;
  farm.set_traffic("b", traffic_mode::silent);
  lb_rig rig(farm, with_breaker(2, 30s, clock));  // backend_timeout 300 ms

  // b times out twice: 504, 504, and its breaker opens.
  auto client = rig.proxy();
  std::vector<workbook::response> opening;
  while (opening.size() < 6 && with_status(opening, 504) < 2) opening.push_back(client.get("/"));
  INFO("b never answers, threshold 2; the GETs until two 504s: " << describe(opening) << "\n" << rig.state());
  REQUIRE(with_status(opening, 504) == 2);
  REQUIRE(rig.log.await(breaker_moved("b", breaker_state::closed, breaker_state::open), scaled(1s)).has_value());

  std::vector<workbook::response> rs;
  std::vector<long long> took;
  for (int i = 0; i < 20; ++i) {
    auto const start = steady_clock::now();
    rs.push_back(client.get("/"));
    took.push_back(since(start).count());
  }
  std::string times;
  for (auto t : took) times += std::to_string(t) + " ";
  INFO("with b's breaker open, 20 GETs came back: " << describe(rs) << "\nin (ms): " << times);
  CHECK(with_status(rs, 200) == 20);
  for (auto t : took) CHECK(milliseconds(t) < scaled(150ms));
  CHECK(farm.traffic("b") == 2);
}

TEST_CASE("after the reset period exactly one request probes the backend", "[AC8]")
{
  auto clock = std::make_shared<workbook::manual_clock>();
  backend_farm farm;
  farm.set_traffic("b", traffic_mode::fail500);
  lb_rig rig(farm, with_breaker(2, 10s, clock));
  auto client = rig.proxy();

  auto const opening = get_n(client, 6);
  INFO("b answers 500, threshold 2; 6 GETs: " << describe(opening));
  REQUIRE(farm.traffic("b") == 2);
  REQUIRE(rig.log.await(breaker_moved("b", breaker_state::closed, breaker_state::open), scaled(1s)).has_value());

  // One nanosecond short of the period: still open.
  clock->advance(10s - 1ns);
  auto const early = get_n(client, 10);
  INFO("at reset_period - 1 ns, 10 GETs: " << describe(early) << "\n" << rig.state());
  CHECK(with_status(early, 200) == 10);
  CHECK(farm.traffic("b") == 2);

  // The period is over and b is healed: the first request that picks b
  // is the probe, and closes the breaker.
  farm.set_traffic("b", traffic_mode::ok);
  clock->advance(1ns);
  auto const after = get_n(client, 3);
  INFO("at reset_period, b healed, 3 GETs: " << describe(after) << "\n" << rig.state());
  CHECK(with_status(after, 200) == 3);
  CHECK(count_served(after).count("b") == 1);
  CHECK(farm.traffic("b") == 3);
  CHECK(rig.log.await(breaker_moved("b", breaker_state::open, breaker_state::half_open), scaled(1s)).has_value());
  CHECK(rig.log.await(breaker_moved("b", breaker_state::half_open, breaker_state::closed), scaled(1s)).has_value());
  CHECK(breaker_of(rig, "b") == "closed");

  auto const shares = get_n(client, 30);
  INFO("30 GETs with b's breaker closed again: " << describe(shares));
  CHECK(count_served(shares) == std::map<std::string, int>{{"a", 10}, {"b", 10}, {"c", 10}});
}

TEST_CASE("each backend has its own breaker and probes bypass it", "[AC8]")
{
  auto clock = std::make_shared<workbook::manual_clock>();
  backend_farm farm;
  farm.set_traffic("b", traffic_mode::fail500);
  lb_rig rig(farm, with_breaker(2, 30s, clock));
  rig.settled();
  auto client = rig.proxy();

  auto const opening = get_n(client, 6);
  INFO("b answers 500, threshold 2; 6 GETs: " << describe(opening));
  REQUIRE(rig.log.await(breaker_moved("b", breaker_state::closed, breaker_state::open), scaled(1s)).has_value());
  auto const more = get_n(client, 9);
  INFO("9 more GETs: " << describe(more) << "\n" << rig.state());
  CHECK(with_status(more, 200) == 9);
  CHECK(farm.traffic("b") == 2);
  CHECK(breaker_of(rig, "a") == "closed");
  CHECK(breaker_of(rig, "b") == "open");
  CHECK(breaker_of(rig, "c") == "closed");
  CHECK(rig.log.count(is(event_kind::breaker, "a")) == 0);
  CHECK(rig.log.count(is(event_kind::breaker, "c")) == 0);

  // A probe goes round b's open breaker: it reaches b, passes, and b stays up.
  auto const checked = rig.check();
  INFO("POST /check with b's breaker open: " << checked.describe() << "\n" << rig.state());
  REQUIRE(checked.status() == 200);
  CHECK(farm.probes("b") == 2);
  CHECK(checked.field("b", "probes") == 2);
  CHECK(checked.field("b", "health") == "up");
  CHECK(checked.field("b", "breaker") == "open");
  CHECK(checked.field("a", "breaker") == "closed");
  CHECK(rig.log.count(is(event_kind::down, "b")) == 0);
}
