// Task 19 · acceptance tests for the caller's cancellation [AC6]: during
// the sleep it ends the call at once with operation_aborted and nothing
// more is sent; during an attempt it ends that attempt and starts no
// other; and a cancellation that arrives together with a 500 is still a
// cancellation: no retry.
#include "fixtures.hpp"

#include <workbook/upstreams.hpp>

#include <catch2/catch.hpp>

#include <thread>

using namespace task19_test;
using namespace std::chrono_literals;

TEST_CASE("cancelling during the sleep ends the call at once with operation_aborted", "[AC6]")
{
  // The first attempt fails; the retrier announces a sleep of 599 ms and
  // begins it. The test cancels then, and waits for the call for at most
  // 300 ms. Then it waits until the sleep would have ended and looks at
  // the upstream: nothing more may have come.
  scripted_upstream upstream({status(500), status(200)});
  retry_log log;
  auto options = test_options(log, constant(0.999));
  options.base = 600ms;
  options.cap = 600ms;
  rig r(upstream.port(), options);

  call c(r, get("/"));
  bool const announced = workbook::eventually([&] { return log.size() >= 1 || c.done(); }, 2000ms);
  auto const sleep_began = clock_type::now();
  INFO((c.done() ? c.describe() + ", before any retry" : "the call is in flight"));
  INFO(log.describe());
  REQUIRE(announced);
  REQUIRE_FALSE(c.done());
  REQUIRE(log.size() == 1);

  c.cancel();
  bool const ended = c.wait(300ms);
  INFO((ended ? c.describe() : "the call had not completed 300 ms after the cancellation"));
  CHECK(ended);
  if (ended) CHECK(c.get().ec == asio::error::operation_aborted);

  // Past the moment the sleep would have ended: still one request.
  auto const rest = 700ms - since(sleep_began);
  if (rest > 0ms) std::this_thread::sleep_for(rest);
  CHECK(upstream.requests() == 1);
  if (!ended) CHECK(c.wait(2000ms));
}

TEST_CASE("cancelling while an attempt waits for its answer sends no other attempt", "[AC6]")
{
  // The upstream reads the request and never answers.
  auto upstream = workbook::test_server::scripted(workbook::upstreams::silent());
  retry_log log;
  rig r(upstream.port(), test_options(log));

  call c(r, get("/"));
  bool const arrived = workbook::eventually([&] { return upstream.requests() >= 1 || c.done(); }, 2000ms);
  INFO((c.done() ? c.describe() : "the call is in flight"));
  REQUIRE(arrived);
  REQUIRE_FALSE(c.done());

  c.cancel();
  bool const ended = c.wait(1000ms);
  INFO((ended ? c.describe() : "the call had not completed 1 s after the cancellation"));
  INFO(log.describe());
  CHECK(ended);
  if (ended) CHECK(c.get().ec == asio::error::operation_aborted);
  // Nothing more arrives: no second connection, no second request.
  bool const more = workbook::eventually([&] { return upstream.accepted() > 1 || upstream.requests() > 1; }, 200ms);
  INFO("the upstream accepted " << upstream.accepted() << " connection(s) and read " << upstream.requests()
                                << " request(s)");
  CHECK_FALSE(more);
  CHECK(log.size() == 0);
}

TEST_CASE("a cancellation arriving with a 500 ends the call without a retry", "[AC6]")
{
  // The fake inner does not answer cancellation: the signal is emitted on
  // the io thread just before it hands over its 500, the way a
  // cancellation can cross an answer already on its way.
  retry_log log;
  rig r({status(500), status(200)}, test_options(log));
  auto& signal = r.new_signal();
  r.fake().before_answer([&signal](int n) {
    if (n == 1) signal.emit(asio::cancellation_type::terminal);
  });

  call c(r, get("/"), signal);
  bool const ended = c.wait(2000ms);
  INFO((ended ? c.describe() : "the call did not complete"));
  INFO(log.describe());
  REQUIRE(ended);
  CHECK(c.get().ec == asio::error::operation_aborted);
  CHECK(r.fake().count() == 1);
  CHECK(log.size() == 0);
}
