// Task 05 · acceptance tests for idle time, [AC4]. The transport's clock is
// a workbook::manual_clock: idle_timeout is 30 s, and no test waits for it.
#include "fixtures.hpp"

#include <workbook/eventually.hpp>
#include <workbook/manual_clock.hpp>

#include <catch2/catch.hpp>

using namespace task05_test;

namespace {

constexpr auto idle_timeout = std::chrono::seconds(30);

workbook::test_server hello_server()
{
  return workbook::test_server::serving([](workbook::request const& req) {
    return workbook::response{200, "", {}, "hello " + req.target + "\n", ""};
  });
}

// A transport on a manual clock, recording into `log`.
std::shared_ptr<task05::transport> transport_on(std::shared_ptr<workbook::manual_clock> clock,
                                                std::shared_ptr<got_conn_log> log)
{
  task05::transport_options options;
  options.max_idle_per_host = 4;
  options.idle_timeout = idle_timeout;
  options.clock = [clock] { return clock->now(); };
  return make_transport(options, log);
}

task05::response get(std::shared_ptr<task05::transport> t, workbook::test_server& server, std::string target)
{
  auto const url = server.url() + target;
  auto r = drive(t, {&server}, [url](task05::transport& tr) { return tr.get(url); });
  INFO("GET " << url << ": " << describe(r));
  REQUIRE(!r.error);
  REQUIRE(r.status == 200);
  return r;
}

std::string ms(task05::clock_type::duration d)
{
  return std::to_string(std::chrono::duration_cast<milliseconds>(d).count()) + " ms";
}

} // namespace

TEST_CASE("idle time is measured with the transport's clock; a connection idle for less than idle_timeout "
          "is reused",
          "[AC4]")
{
  auto server = hello_server();
  auto clock = std::make_shared<workbook::manual_clock>();
  auto log = std::make_shared<got_conn_log>();
  auto t = transport_on(clock, log);

  get(t, server, "/first");
  clock->advance(idle_timeout - 1ms);
  get(t, server, "/second");

  auto const calls = log->calls();
  INFO(describe(calls));
  REQUIRE(calls.size() == 2);
  CHECK_FALSE(calls[0].reused);
  CHECK(calls[1].reused);
  INFO("the manual clock moved " << ms(idle_timeout - 1ms) << " between the two requests, and nothing else "
       "did; on_got_conn reported idle_for " << ms(calls[1].idle_for) << ". Idle time must come from "
       "options.clock, not from std::chrono::steady_clock");
  CHECK(calls[1].idle_for == idle_timeout - 1ms);
  CHECK(server.accepted() == 1);
}

TEST_CASE("a connection idle for idle_timeout is never handed out again, and is closed", "[AC4]")
{
  auto server = hello_server();
  auto clock = std::make_shared<workbook::manual_clock>();
  auto log = std::make_shared<got_conn_log>();
  auto t = transport_on(clock, log);

  get(t, server, "/first");
  clock->advance(idle_timeout);
  get(t, server, "/second");

  auto const calls = log->calls();
  INFO(describe(calls));
  REQUIRE(calls.size() == 2);
  INFO("the connection had been idle for exactly idle_timeout (" << ms(idle_timeout) << ") by the clock");
  CHECK_FALSE(calls[1].reused);
  CHECK(calls[1].idle_for == task05::clock_type::duration::zero());
  CHECK(server.accepted() == 2);
  bool const closed = workbook::eventually([&] { return server.open() == 1; }, 1s);
  INFO("connections the server still sees open: " << server.open()
       << " (expected 1: the new one; the expired one must be closed, not just skipped)");
  CHECK(closed);
}

TEST_CASE("close_expired_idle closes the expired idle connections of every origin, and only those", "[AC4]")
{
  auto a = hello_server();
  auto b = hello_server();
  auto clock = std::make_shared<workbook::manual_clock>();
  auto log = std::make_shared<got_conn_log>();
  auto t = transport_on(clock, log);

  get(t, a, "/");                      // A's connection idle from t0
  clock->advance(20s);
  get(t, b, "/");                      // B's from t0 + 20 s
  clock->advance(15s);                 // now A has been idle 35 s, B 15 s
  REQUIRE(a.open() == 1);
  REQUIRE(b.open() == 1);

  auto const closed = drive(t, {&a, &b}, [](task05::transport& tr) { return tr.close_expired_idle(); });
  INFO("close_expired_idle() returned " << closed << " with A idle for 35 s and B for 15 s (idle_timeout 30 s)");
  CHECK(closed == 1);
  CHECK(idle_count(t, {&a, &b}) == 1);
  CHECK(idle_count(t, {&a, &b}, a.url()) == 0);
  CHECK(idle_count(t, {&a, &b}, b.url()) == 1);
  bool const a_closed = workbook::eventually([&] { return a.open() == 0; }, 1s);
  INFO("connections the servers still see open: A " << a.open() << ", B " << b.open());
  CHECK(a_closed);
  CHECK(b.open() == 1);

  get(t, b, "/again");
  auto const calls = log->calls();
  INFO(describe(calls));
  REQUIRE(calls.size() == 3);
  CHECK(calls[2].reused);
  CHECK(calls[2].idle_for == std::chrono::seconds(15));
}

TEST_CASE("destroying the transport closes its idle connections", "[AC4]")
{
  auto a = hello_server();
  auto b = hello_server();
  auto clock = std::make_shared<workbook::manual_clock>();
  auto log = std::make_shared<got_conn_log>();
  auto t = transport_on(clock, log);

  get(t, a, "/");
  get(t, b, "/");
  REQUIRE(idle_count(t, {&a, &b}) == 2);
  REQUIRE(a.open() == 1);
  REQUIRE(b.open() == 1);

  t.reset();  // destroys it, on a thread of its own (see destroy_bounded)
  bool const closed = workbook::eventually([&] { return a.open() == 0 && b.open() == 0; }, 1s);
  INFO("connections the servers still see open after the transport was destroyed: A " << a.open()
       << ", B " << b.open());
  CHECK(closed);
}
