// Task 18 · acceptance tests for the outcomes that are neither failure nor
// success [AC4]: a 4xx (the caller's mistake) and a call its caller
// cancelled neither count towards opening nor reset the count, and a probe
// that ends either way decides nothing.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

using namespace task18_test;

TEST_CASE("a hundred 4xx answers never open the breaker", "[AC4]")
{
  rig r;
  r.upstream.quiet(true);
  int const statuses[] = {400, 401, 403, 404, 418, 429, 460, 499};
  for (int i = 0; i < 100; ++i) {
    int const status = statuses[i % 8];
    auto a = r.call("/status/" + std::to_string(status));
    INFO("call " << i + 1 << ": GET /status/" << status << " -> " << a.describe() << "; state() "
                 << task18::to_string(r.breaker.state()));
    REQUIRE(a.completed);
    REQUIRE(a.status == status);
    REQUIRE(r.breaker.state() == breaker_state::closed);
  }
  CHECK(r.upstream.calls() == 100);
  CHECK(r.log.text() == "(none)");
}

TEST_CASE("a 4xx between failures neither counts nor resets the count", "[AC4]")
{
  rig r;
  // 418: a 4xx Beast has no name for.
  for (auto target : {"/status/500", "/status/500", "/status/404", "/status/500", "/status/418", "/status/500"})
    r.must_answer(target);
  INFO("500, 500, 404, 500, 418, 500: four failures, whatever the 4xx between them; state() is "
       << task18::to_string(r.breaker.state()) << ". A 4xx that counted as a failure would have opened it.");
  CHECK(r.breaker.state() == breaker_state::closed);

  r.must_answer("/status/500");
  INFO("then a fifth 500: state() is " << task18::to_string(r.breaker.state())
                                       << ". A 4xx that reset the count would leave it closed.");
  CHECK(r.breaker.state() == breaker_state::open);
}

TEST_CASE("a call cancelled by its caller does not count as a failure", "[AC4]")
{
  rig r;
  for (int i = 0; i < 4; ++i) r.must_answer("/status/500");
  for (int i = 0; i < 3; ++i) {
    auto call = r.start("/hold");
    REQUIRE(r.until_held(1));
    call.cancel();
    auto a = call.wait();
    INFO("after 4 failures, cancelled call " << i + 1 << " -> " << a.describe() << "; state() is "
                                             << task18::to_string(r.breaker.state()));
    REQUIRE(a.completed);
    CHECK(a.ec == asio::error::operation_aborted);
    CHECK(r.breaker.state() == breaker_state::closed);
  }
  r.must_answer("/status/500");
  INFO("then a fifth failure: state() is " << task18::to_string(r.breaker.state()));
  CHECK(r.breaker.state() == breaker_state::open);
}

TEST_CASE("a 4xx or a cancelled probe decides nothing and the next call probes", "[AC4]")
{
  rig r;
  REQUIRE(r.open_it());
  r.clock.advance(30s);

  auto a = r.call("/status/404");
  INFO("the first call after the period, the probe, is answered 404: " << a.describe() << "; state() is "
                                                                       << task18::to_string(r.breaker.state()));
  REQUIRE(a.completed);
  CHECK(a.status == 404);
  CHECK(r.upstream.calls() == 6);
  CHECK(r.breaker.state() == breaker_state::half_open);

  auto probe = r.start("/hold");
  bool const reached = r.until_held(1);
  INFO("the next call is the next probe: it reached the upstream: " << (reached ? "yes" : "no"));
  REQUIRE(reached);
  probe.cancel();
  auto b = probe.wait();
  INFO("that probe was cancelled by its caller: " << b.describe() << "; state() is "
                                                  << task18::to_string(r.breaker.state()));
  REQUIRE(b.completed);
  CHECK(b.ec == asio::error::operation_aborted);
  CHECK(r.breaker.state() == breaker_state::half_open);

  auto c = r.call("/status/200");
  INFO("so the next call is the probe again: " << c.describe() << "; state() is "
                                               << task18::to_string(r.breaker.state()) << "; transitions "
                                               << r.log.text());
  REQUIRE(c.completed);
  CHECK(c.status == 200);
  CHECK(r.upstream.calls() == 8);
  CHECK(r.breaker.state() == breaker_state::closed);
  CHECK(r.log.text() == "closed→open, open→half_open, half_open→closed");
}
