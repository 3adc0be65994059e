// Stretch 2 · acceptance tests for failover [AC4]: while four clients load
// the proxy, a backend killed (its listener and connections closed) is
// marked down within one health interval, and one wedged (reading and
// never answering) within one interval plus probe_timeout, its requests in
// flight ending in 504 after backend_timeout; after the down event no
// request gets a 5xx. Before any probe notices, a request refused at
// connect is sent to another backend, so the client never sees the
// refusal.
//
// Times are measured from the test's own clock: the kill or wedge, the
// event's arrival in the log, each request's start and end at the client.
#include "fixtures.hpp"

#include <workbook/test_client.hpp>

#include <catch2/catch.hpp>

using namespace stretch2_test;

namespace {

adjust_fn interval(milliseconds every)
{
  return [every](stretch2::balancer_options& o) { o.health_interval = every; };
}

std::vector<sample> started_after(std::vector<sample> const& all, steady_clock::time_point t)
{
  std::vector<sample> out;
  for (auto const& s : all)
    if (s.start >= t) out.push_back(s);
  return out;
}

long long ms_between(steady_clock::time_point from, steady_clock::time_point to)
{
  return std::chrono::duration_cast<milliseconds>(to - from).count();
}

} // namespace

TEST_CASE("a backend killed under load causes no 5xx after one health interval", "[AC4]")
{
  backend_farm farm;
  lb_rig rig(farm, interval(100ms));
  rig.settled();

  auto const origin = steady_clock::now();
  load_driver load(rig.port(), 4);
  REQUIRE(load.until_started_after(origin, 40, scaled(2s)));

  auto const killed_at = steady_clock::now();
  farm.kill("b");
  auto const down = rig.log.await(is(event_kind::down, "b"), scaled(2s));
  INFO("b killed at +" << ms_between(origin, killed_at) << " ms\n" << rig.state());
  REQUIRE(down.has_value());
  INFO("down(b) arrived " << ms_between(killed_at, down->at) << " ms after the kill");
  CHECK(down->at - killed_at <= scaled(500ms));

  bool const enough = load.until_started_after(down->at, 200, scaled(5s));
  load.stop();
  auto const after = started_after(load.samples(), down->at);
  INFO("requests started after down(b): " << describe(after, origin));
  CHECK(enough);
  for (auto const& s : after) {
    if (s.status == 200 && s.served_by != "b") continue;
    INFO("started +" << ms_between(origin, s.start) << " ms: " << s.status << " " << s.served_by << " " << s.error);
    CHECK(s.status == 200);
    CHECK(s.served_by != "b");
  }
}

TEST_CASE("a wedged backend is out within one interval plus probe timeout", "[AC4]")
{
  backend_farm farm;
  lb_rig rig(farm, interval(100ms));  // probe_timeout 100 ms, backend_timeout 300 ms
  rig.settled();

  auto const origin = steady_clock::now();
  load_driver load(rig.port(), 4);
  REQUIRE(load.until_started_after(origin, 40, scaled(2s)));

  auto const wedged_at = steady_clock::now();
  farm.wedge("b");
  auto const down = rig.log.await(is(event_kind::down, "b"), scaled(2s));
  INFO("b wedged at +" << ms_between(origin, wedged_at) << " ms\n" << rig.state());
  REQUIRE(down.has_value());
  INFO("down(b) arrived " << ms_between(wedged_at, down->at) << " ms after the wedge");
  CHECK(down->at - wedged_at <= scaled(600ms));

  bool const enough = load.until_started_after(down->at, 200, scaled(5s));
  load.stop();
  auto const all = load.samples();
  INFO("every request: " << describe(all, origin));
  CHECK(enough);

  // What b took while wedged ended in 504, after backend_timeout and well
  // before the client's own patience.
  int timeouts = 0;
  for (auto const& s : all) {
    if (s.status == 200) continue;
    INFO("started +" << ms_between(origin, s.start) << " ms, took " << ms_between(s.start, s.end)
                     << " ms: " << s.status << " " << s.served_by << " " << s.error);
    CHECK(s.status == 504);
    CHECK(s.end - s.start <= scaled(800ms));
    ++timeouts;
  }
  CHECK(timeouts >= 1);
  for (auto const& s : started_after(all, down->at)) {
    if (s.status == 200) continue;
    INFO("after down(b), started +" << ms_between(origin, s.start) << " ms: " << s.status << " " << s.served_by);
    CHECK(s.status == 200);
  }
}

TEST_CASE("a request refused at connect is sent to another backend", "[AC4]")
{
  backend_farm farm;
  lb_rig rig(farm);  // an interval of 1 h: no probe notices the kill
  rig.settled();

  auto client = rig.proxy();
  auto const warm = get_n(client, 3);
  INFO("before the kill: " << describe(warm));
  REQUIRE(count_served(warm) == std::map<std::string, int>{{"a", 1}, {"b", 1}, {"c", 1}});

  farm.kill("b");
  auto const rs = get_n(client, 30);
  auto const counts = count_served(rs);
  INFO("b killed; 30 GETs came back: " << describe(rs) << "\n" << rig.state());
  for (auto const& r : rs) CHECK(r.status == 200);
  CHECK(counts.count("b") == 0);
  CHECK(counts.count("a") + counts.count("c") == 2);
  CHECK((counts.count("a") ? counts.at("a") : 0) + (counts.count("c") ? counts.at("c") : 0) == 30);

  auto const b = rig.status("b");
  CHECK(b.state == stretch2::health::up);  // no probe has run since
  CHECK(b.failures >= 1);
  CHECK(b.in_flight == 0);
}

TEST_CASE("with two of three backends killed the last carries everything", "[AC4]")
{
  backend_farm farm;
  lb_rig rig(farm, interval(50ms));
  rig.settled();

  farm.kill("a");
  farm.kill("c");
  auto const down_a = rig.log.await(is(event_kind::down, "a"), scaled(1s));
  auto const down_c = rig.log.await(is(event_kind::down, "c"), scaled(1s));
  INFO(rig.state());
  REQUIRE(down_a.has_value());
  REQUIRE(down_c.has_value());

  auto client = rig.proxy();
  auto const rs = get_n(client, 50);
  INFO("a and c down; 50 GETs came back: " << describe(rs));
  for (auto const& r : rs) CHECK(r.status == 200);
  CHECK(count_served(rs) == std::map<std::string, int>{{"b", 50}});
  CHECK(farm.traffic("b") == 50);
}
