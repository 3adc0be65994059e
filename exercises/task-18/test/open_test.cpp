// Task 18 · acceptance tests for the open state [AC3]: a call is refused at
// once with the breaker's own error, never reaches the upstream, and its
// handler still runs on its own executor, after the call has returned.
#include "fixtures.hpp"

#include <workbook/test_server.hpp>

#include <catch2/catch.hpp>

#include <cctype>

using namespace task18_test;

namespace {

std::string lower(std::string s)
{
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

} // namespace

TEST_CASE("the 6th call after 5 failures never reaches the upstream", "[AC3]")
{
  auto upstream = workbook::test_server::serving([](workbook::request const& r) {
    return workbook::response{500, "", {}, "the upstream is failing: " + r.target, ""};
  });
  asio::io_context ioc;
  workbook::plain_transport transport(ioc.get_executor(), local(upstream.port()));
  transitions log;
  test_clock clock;
  task18::circuit_breaker breaker(ioc.get_executor(), transport, options_with(5, 30s, clock, log));
  workbook::io_threads threads(ioc);
  int const caller = workbook::transcript::open_connection("caller");

  for (int i = 1; i <= 5; ++i) {
    auto a = start_call(breaker, get("/call/" + std::to_string(i)), ioc.get_executor(), caller).wait();
    INFO("call " << i << " -> " << a.describe());
    REQUIRE(a.completed);
    REQUIRE(a.status == 500);
  }
  REQUIRE(upstream.requests() == 5);

  auto sixth = start_call(breaker, get("/call/6"), ioc.get_executor(), caller).wait();
  INFO("after 5 answers of 500 the 6th call -> " << sixth.describe() << "; the upstream has read "
                                                << upstream.requests() << " requests");
  REQUIRE(sixth.completed);
  CHECK(sixth.ec == task18::breaker_errc::open);
  CHECK(&sixth.ec.category() == &task18::breaker_category());
  std::string const name = sixth.ec.category().name();
  CHECK(name != "generic");
  CHECK(name != "system");
  INFO("the error's message: \"" << sixth.ec.message() << "\"");
  CHECK(lower(sixth.ec.message()).find("open") != std::string::npos);

  // And nor do the next ones, however many.
  for (int i = 7; i <= 16; ++i) {
    auto a = start_call(breaker, get("/call/" + std::to_string(i)), ioc.get_executor(), caller).wait();
    REQUIRE(a.completed);
    CHECK(a.ec == task18::breaker_errc::open);
  }
  bool const reached = workbook::eventually([&] { return upstream.requests() > 5; }, 200ms);
  INFO("after 11 refused calls the upstream has read " << upstream.requests()
       << " requests, and the transport has opened " << transport.connections_opened() << " connections");
  CHECK_FALSE(reached);
  CHECK(upstream.requests() == 5);
  CHECK(transport.connections_opened() == 1);
}

TEST_CASE("while open, 400 calls from four threads all fail fast", "[AC3]")
{
  rig r;
  REQUIRE(r.open_it());
  r.upstream.quiet(true);
  auto t = std::make_shared<tally>();
  call_from_threads(r.breaker, "/status/200", 4, 100, t);
  bool const all = workbook::eventually([&] { return t->completed() == 400 || t->dropped > 0; }, 1500ms);
  INFO("400 calls while open: " << t->describe() << "; the upstream saw " << r.upstream.calls() << " calls");
  REQUIRE(all);
  CHECK(t->refused == 400);
  CHECK(r.upstream.calls() == 5);
  CHECK(r.breaker.state() == breaker_state::open);
}

TEST_CASE("a refusal completes on the handler's executor, never inside the call", "[AC3]")
{
  rig r;
  REQUIRE(r.open_it());

  // The caller's io_context runs on this thread, and only when the test says so.
  asio::io_context mine;
  auto box = std::make_shared<answer_box>();
  box->caller = r.caller;
  r.breaker.async_round_trip(get("/status/200"), asio::bind_executor(mine.get_executor(), workbook::answer_reporter(box)));
  bool const inside = box->done();
  INFO("the breaker is open; a call whose handler is bound to an io_context nobody runs yet: the handler "
       << (inside ? "had run before async_round_trip returned" : "had not run when async_round_trip returned"));
  CHECK_FALSE(inside);

  // Nothing else may run it: give a wrongly chosen executor time to show.
  bool const elsewhere = workbook::eventually([&] { return box->done(); }, 100ms);
  mine.run_for(1s);
  auto a = box->wait(0ms);
  INFO("then, running the caller's io_context on the test's thread: " << a.describe() << "; it ran "
       << (a.thread == std::this_thread::get_id() ? "on the test's thread (the handler's executor)"
                                                  : "on another thread (not the handler's executor)"));
  CHECK_FALSE(elsewhere);
  REQUIRE(a.completed);
  CHECK(a.ec == task18::breaker_errc::open);
  CHECK(a.thread == std::this_thread::get_id());
}
