// Task 19 · acceptance tests for Retry-After on a 503 [AC5]: its seconds
// (one second lasts retry_after_unit, 1 ms here) or its HTTP-date, measured
// against the injected clock, replace the jitter, never beyond the cap; a
// value that is neither, or the field on another status, leaves the jitter.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

using namespace task19_test;
using namespace std::chrono_literals;

TEST_CASE("a 503 with Retry-After in seconds waits that long instead of the jitter", "[AC5]")
{
  scripted_upstream upstream({status(503, {{"Retry-After", "7"}}), status(503, {{"Retry-After", "0"}}),
                              status(503, {{"Retry-After", "3"}}), status(200)});
  retry_log log;
  auto options = test_options(log, constant(0.5));
  options.max_attempts = 4;
  options.cap = 30ms;
  rig r(upstream.port(), options);

  auto const res = round_trip(r, get("/busy"));
  INFO(describe(res));
  INFO(log.describe());
  REQUIRE(res);
  REQUIRE_FALSE(res->ec);
  CHECK(res->response.result_int() == 200);
  auto const events = log.events();
  REQUIRE(events.size() == 3);
  CHECK(events[0].delay == 7ms);
  CHECK(events[1].delay == 0ms);
  CHECK(events[2].delay == 3ms);
  for (auto const& e : events) {
    CHECK(e.status == 503);
    CHECK(e.from_retry_after);
  }
  // And the sleep was that long: the upstream saw the second request no
  // sooner than 7 ms after the first.
  auto const seen = upstream.seen();
  REQUIRE(seen.size() == 4);
  INFO("the upstream saw request 2 " << micros_between(seen[0].at, seen[1].at).count() << " us after request 1");
  CHECK(micros_between(seen[0].at, seen[1].at) >= 7ms);
}

TEST_CASE("Retry-After beyond the cap waits the cap, however large the number", "[AC5]")
{
  retry_log log;
  auto options = test_options(log, constant(0.5));
  options.cap = 30ms;
  rig r({status(503, {{"Retry-After", "1000"}}), status(503, {{"Retry-After", "99999999999999999999999"}}), status(200)},
        options);

  auto const res = round_trip(r, get("/"));
  INFO(describe(res));
  INFO(log.describe());
  REQUIRE(res);
  REQUIRE_FALSE(res->ec);
  CHECK(res->response.result_int() == 200);
  auto const events = log.events();
  REQUIRE(events.size() == 2);
  CHECK(events[0].delay == 30ms);
  CHECK(events[1].delay == 30ms);
  CHECK(events[0].from_retry_after);
  CHECK(events[1].from_retry_after);
}

TEST_CASE("an HTTP-date in Retry-After is measured against the injected clock", "[AC5]")
{
  using namespace std::chrono;
  // Friday, 1 March 2024, 12:00:00 UTC, whatever the machine's clock says.
  auto const now = sys_days{year{2024} / March / 1} + 12h;
  retry_log log;
  auto options = test_options(log, constant(0.5));
  options.max_attempts = 5;
  options.cap = 30ms;
  options.now = [now] { return system_clock::time_point(now); };
  rig r({status(503, {{"Retry-After", "Fri, 01 Mar 2024 12:00:05 GMT"}}),
         status(503, {{"Retry-After", "Fri, 01 Mar 2024 12:00:20 GMT"}}),
         status(503, {{"Retry-After", "Thu, 29 Feb 2024 23:59:59 GMT"}}),
         status(503, {{"Retry-After", "Fri, 01 Mar 2024 13:00:00 GMT"}}), status(200)},
        options);

  auto const res = round_trip(r, get("/"));
  INFO("now() is Fri, 01 Mar 2024 12:00:00 GMT; each second lasts 1 ms; the cap is 30 ms");
  INFO(describe(res));
  INFO(log.describe());
  REQUIRE(res);
  REQUIRE_FALSE(res->ec);
  CHECK(res->response.result_int() == 200);
  auto const events = log.events();
  REQUIRE(events.size() == 4);
  CHECK(events[0].delay == 5ms);   // five seconds ahead
  CHECK(events[1].delay == 20ms);  // twenty
  CHECK(events[2].delay == 0ms);   // in the past: at once
  CHECK(events[3].delay == 30ms);  // an hour ahead: the cap
  for (auto const& e : events) CHECK(e.from_retry_after);
}

TEST_CASE("a Retry-After that is not seconds or a date, or on a 500, leaves the jitter", "[AC5]")
{
  std::vector<double> const u{0.3, 0.6, 0.9, 0.2, 0.7};
  retry_log log;
  auto options = test_options(log, sequence(u));
  options.max_attempts = 6;
  options.base = 1ms;
  options.cap = 4ms;
  rig r({status(503, {{"Retry-After", "soon"}}), status(503, {{"Retry-After", "1.5"}}),
         status(503, {{"Retry-After", "-5"}}), status(500, {{"Retry-After", "3"}}),
         status(503, {{"Retry-After", "Friday, 01-Mar-24 12:00:05 GMT"}}), status(200)},
        options);

  auto const res = round_trip(r, get("/"));
  INFO(describe(res));
  INFO(log.describe());
  REQUIRE(res);
  REQUIRE_FALSE(res->ec);
  CHECK(res->response.result_int() == 200);
  auto const events = log.events();
  REQUIRE(events.size() == 5);
  for (int n = 1; n <= 5; ++n) {
    auto const& e = events[static_cast<std::size_t>(n - 1)];
    auto const want = expected_delay(u[static_cast<std::size_t>(n - 1)], options.base, options.cap, n);
    INFO("after attempt " << n << ": " << e.delay.count() << " us; the jitter says " << want.count() << " us");
    CHECK(same_delay(e.delay, want));
    CHECK_FALSE(e.from_retry_after);
  }
}
