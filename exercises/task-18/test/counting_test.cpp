// Task 18 · acceptance tests for counting failures in the closed state
// [AC2]: consecutive transport errors and 5xx open the breaker at exactly
// the threshold, and a success starts the count again.
#include "fixtures.hpp"

#include <workbook/test_server.hpp>

#include <catch2/catch.hpp>

using namespace task18_test;

TEST_CASE("five consecutive 5xx open the breaker and four do not", "[AC2]")
{
  rig r;
  int const statuses[] = {500, 502, 520, 504, 599};  // 520: a 5xx Beast has no name for
  for (int i = 0; i < 5; ++i) {
    auto const target = "/status/" + std::to_string(statuses[i]);
    auto a = r.call(target);
    INFO("failure " << i + 1 << ": GET " << target << " -> " << a.describe() << "; state() is now "
                    << task18::to_string(r.breaker.state()) << "; transitions " << r.log.text());
    REQUIRE(a.completed);
    CHECK(a.status == statuses[i]);
    // Counted before the handler runs: the fifth failure's caller sees the breaker open.
    CHECK(r.breaker.state() == (i < 4 ? breaker_state::closed : breaker_state::open));
  }
  CHECK(r.upstream.calls() == 5);
}

TEST_CASE("transport errors count as failures, like a 5xx", "[AC2]")
{
  rig r;
  for (int i = 0; i < 5; ++i) {
    auto a = r.call(i == 2 ? "/status/500" : "/refused");
    INFO("failure " << i + 1 << " (connection refused, except the third: a 500) -> " << a.describe()
                    << "; state() is now " << task18::to_string(r.breaker.state()));
    REQUIRE(a.completed);
    CHECK(r.breaker.state() == (i < 4 ? breaker_state::closed : breaker_state::open));
  }

  // And from a real transport: five refused connections.
  unsigned short closed_port = 0;
  {
    auto gone = workbook::test_server::serving([](auto const&) { return workbook::response{200, "", {}, "", ""}; });
    closed_port = gone.port();
  }  // nobody listens there any more
  workbook::plain_transport nowhere(r.ioc.get_executor(), local(closed_port));
  transitions log;
  task18::circuit_breaker breaker(r.ioc.get_executor(), nowhere, options_with(5, 30s, r.clock, log));
  for (int i = 0; i < 5; ++i) {
    auto a = start_call(breaker, get("/"), r.ioc.get_executor(), r.caller).wait();
    INFO("refused connection " << i + 1 << " through plain_transport -> " << a.describe() << "; state() is now "
                               << task18::to_string(breaker.state()));
    REQUIRE(a.completed);
    CHECK(a.ec == asio::error::connection_refused);
    CHECK(breaker.state() == (i < 4 ? breaker_state::closed : breaker_state::open));
  }
}

TEST_CASE("a success resets the count of consecutive failures", "[AC2]")
{
  rig r;
  // Four failures, a success, four failures: never five in a row.
  std::string const script[] = {"/status/500", "/status/500", "/refused",    "/status/503", "/status/200",
                                "/status/500", "/refused",    "/status/502", "/status/500"};
  for (auto const& target : script) r.must_answer(target);
  INFO("4 failures, a 200, 4 failures: state() is " << task18::to_string(r.breaker.state())
                                                    << "; transitions " << r.log.text());
  CHECK(r.breaker.state() == breaker_state::closed);
  CHECK(r.log.size() == 0);
  // The fifth in a row opens it.
  r.must_answer("/status/500");
  INFO("then one more 500: state() is " << task18::to_string(r.breaker.state()));
  CHECK(r.breaker.state() == breaker_state::open);

  // And a 3xx is a success too.
  rig s;
  for (auto target : {"/status/500", "/status/500", "/status/500", "/status/500", "/status/304", "/status/500"})
    s.must_answer(target);
  INFO("4 failures, a 304, 1 failure: state() is " << task18::to_string(s.breaker.state()));
  CHECK(s.breaker.state() == breaker_state::closed);
}

TEST_CASE("the threshold is the breaker's option", "[AC2]")
{
  rig three(3);
  for (int i = 0; i < 3; ++i) {
    three.must_answer("/status/500");
    INFO("failure_threshold 3, after " << i + 1 << " failures: " << task18::to_string(three.breaker.state()));
    CHECK(three.breaker.state() == (i < 2 ? breaker_state::closed : breaker_state::open));
  }

  rig one(1);
  one.must_answer("/status/200");
  CHECK(one.breaker.state() == breaker_state::closed);
  one.must_answer("/refused");
  INFO("failure_threshold 1, after one failure: " << task18::to_string(one.breaker.state()));
  CHECK(one.breaker.state() == breaker_state::open);
}

TEST_CASE("twenty failures completing at once open the breaker once", "[AC2]")
{
  rig r;
  auto t = std::make_shared<tally>();
  for (int i = 0; i < 20; ++i) r.breaker.async_round_trip(get("/hold"), counting_handler(t));
  REQUIRE(r.until_held(20));
  r.upstream.release_all(500);  // twenty 500s, counted on two threads
  bool const all = workbook::eventually([&] { return t->completed() == 20; }, 1s);
  INFO("20 calls went through while closed, then all failed at once: " << t->describe() << "; transitions "
                                                                       << r.log.text());
  REQUIRE(all);
  CHECK(t->answered == 20);
  CHECK(r.breaker.state() == breaker_state::open);
  CHECK(r.log.text() == "closed→open");
}
