// Task 02 · acceptance tests. Each TEST_CASE is tagged with the criterion it
// checks ([AC1] ... [AC4], as in README.md; AC5 is in timer_line_test.cpp).
//
// fetch() blocks, and a wrong one may block for good (a blocking read on a
// tcp_stream never times out), so every call runs on a thread of its own
// and the test waits for it a bounded time.
#include "fetch.hpp"

#include <workbook/bounded_call.hpp>
#include <workbook/eventually.hpp>
#include <workbook/ports.hpp>
#include <workbook/test_server.hpp>
#include <workbook/upstreams.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <mutex>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

namespace net = boost::asio;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

// How long a test waits for fetch() before it stops the upstream, whatever
// the timeout under test (all of them are well below it).
constexpr milliseconds patience = 3s;

using fetch_run = workbook::bounded_outcome<task02::fetch_result>;

// Calls task02::fetch("127.0.0.1", port, target, timeout) on a thread of its
// own (workbook::call_bounded). If it has not returned within `patience`,
// `stop_upstream` closes the upstream's connections, which ends a blocking
// read that the stream's deadline never would.
fetch_run run_fetch(unsigned short port, std::string target, milliseconds timeout,
                    std::function<void()> stop_upstream)
{
  return workbook::call_bounded(
      [port, target = std::move(target), timeout] { return task02::fetch("127.0.0.1", port, target, timeout); },
      patience, std::move(stop_upstream));
}

std::string describe(boost::system::error_code const& ec)
{
  if (!ec) return "no error";
  std::ostringstream s;
  s << "\"" << ec.message() << "\" (category " << ec.category().name() << ", value " << ec.value() << ")";
  return s.str();
}

std::string describe(fetch_run const& run)
{
  std::ostringstream s;
  if (!run.exception.empty()) {
    s << "fetch threw after " << run.elapsed.count() << " ms: " << run.exception;
    return s.str();
  }
  if (!run.value) return "fetch never returned, even after the upstream was stopped";
  auto const& r = *run.value;
  s << "fetch returned after " << run.elapsed.count() << " ms: status " << r.status << ", "
    << r.body.size() << " bytes of body, error " << describe(r.error);
  if (run.returned_after_rescue) s << " (only once the test had stopped the upstream)";
  return s.str();
}

// Fails the test unless fetch returned on its own within `patience`.
void require_returned(fetch_run const& run)
{
  INFO(describe(run));
  if (run.overran)
    FAIL("fetch had not returned " << patience.count()
         << " ms after the call, so the test stopped the upstream. tcp_stream's deadline applies "
            "only to asynchronous operations: a blocking connect, write or http::read goes "
            "straight to the socket and waits as long as the peer likes. Is a deadline set "
            "(expires_after) before async_connect, and does the io_context run?");
  REQUIRE(run.exception.empty());
  REQUIRE(run.value.has_value());
}

// "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n" + 20 bytes: 59 bytes, one
// every 30 ms, is about 1.7 s of steady progress.
std::string const dribbled_body(20, 'x');
constexpr milliseconds dribble_interval = 30ms;

} // namespace

TEST_CASE("a healthy upstream: status 200, the whole body, no error", "[AC1]")
{
  std::mutex mutex;
  std::optional<workbook::request> seen;
  auto upstream = workbook::test_server::serving([&](workbook::request const& req) {
    std::lock_guard lock(mutex);
    seen = req;
    return workbook::response{200, "", {{"Content-Type", "text/plain"}}, "hello from upstream\n", ""};
  });

  auto const run = run_fetch(upstream.port(), "/greeting?lang=en", 2s, [&] { upstream.stop(); });
  require_returned(run);
  auto const& r = *run.value;
  INFO(describe(run));
  CHECK(!r.error);
  CHECK(r.status == 200);
  CHECK(r.body == "hello from upstream\n");

  std::lock_guard lock(mutex);
  REQUIRE(seen.has_value());
  INFO("the upstream received " << seen->method << " " << seen->target);
  CHECK(seen->method == "GET");
  CHECK(seen->target == "/greeting?lang=en");
  INFO("an HTTP/1.1 request needs a Host field, e.g. \"127.0.0.1:" << upstream.port() << "\"");
  CHECK(std::any_of(seen->headers.begin(), seen->headers.end(),
                    [](auto const& field) { return workbook::iequals(field.first, "Host"); }));
}

TEST_CASE("a 404 is an answer, not an error: status and body come back", "[AC1]")
{
  auto upstream = workbook::test_server::serving([](workbook::request const&) {
    return workbook::response{404, "", {}, "no such thing\n", ""};
  });

  auto const run = run_fetch(upstream.port(), "/missing", 2s, [&] { upstream.stop(); });
  require_returned(run);
  auto const& r = *run.value;
  INFO(describe(run));
  CHECK(!r.error);
  CHECK(r.status == 404);
  CHECK(r.body == "no such thing\n");
}

TEST_CASE("a slow upstream that answers within the deadline is not cut off", "[AC1]")
{
  auto upstream = workbook::test_server::scripted(workbook::upstreams::slow(150ms, "worth the wait\n"));

  auto const run = run_fetch(upstream.port(), "/", 1500ms, [&] { upstream.stop(); });
  require_returned(run);
  auto const& r = *run.value;
  INFO(describe(run));
  CHECK(!r.error);
  CHECK(r.status == 200);
  CHECK(r.body == "worth the wait\n");
}

TEST_CASE("an upstream that answers after 2 s: fetch returns after the 200 ms timeout", "[AC2]")
{
  auto upstream = workbook::test_server::scripted(workbook::upstreams::slow(2s));

  auto const run = run_fetch(upstream.port(), "/", 200ms, [&] { upstream.stop(); });
  require_returned(run);
  INFO(describe(run));
  INFO("a working deadline ends this exchange with an error about 200 ms after the call; a fetch "
       "that waits for the upstream's answer (2 s) has no deadline on its reads");
  INFO("the upstream accepted " << upstream.accepted() << " connection(s)");
  CHECK(upstream.accepted() == 1);
  CHECK(run.elapsed >= 190ms);    // not before the deadline...
  CHECK(run.elapsed < 1500ms);    // ...and not when the upstream finally answers
  CHECK(run.value->error);
  CHECK(run.value->status == 0);
}

TEST_CASE("an upstream that never answers: fetch returns after the timeout and leaves no connection open",
          "[AC2]")
{
  auto upstream = workbook::test_server::scripted(workbook::upstreams::silent());

  auto const run = run_fetch(upstream.port(), "/", 200ms, [&] { upstream.stop(); });
  require_returned(run);
  INFO(describe(run));
  CHECK(upstream.accepted() == 1);
  CHECK(run.elapsed >= 190ms);
  CHECK(run.elapsed < 1500ms);
  CHECK(run.value->error);
  // silent() holds the connection until the client closes it.
  bool const closed = workbook::eventually([&] { return upstream.open() == 0; }, 1s);
  INFO("connections the upstream still sees open: " << upstream.open());
  CHECK(closed);
}

TEST_CASE("the error from a passed deadline compares equal to beast::error::timeout", "[AC3]")
{
  auto upstream = workbook::test_server::scripted(workbook::upstreams::silent());

  auto const run = run_fetch(upstream.port(), "/", 200ms, [&] { upstream.stop(); });
  require_returned(run);
  auto const& r = *run.value;
  INFO(describe(run));
  INFO("compare the error_code itself, `ec == boost::beast::error::timeout`: not its message, "
       "and not a code of your own standing in for it");
  CHECK(r.error == boost::beast::error::timeout);
  CHECK(r.status == 0);
}

TEST_CASE("a refused connection is an error, but not a timeout", "[AC3]")
{
  workbook::refusing_port closed;

  auto const run = run_fetch(closed.port(), "/", 1000ms, {});
  require_returned(run);
  auto const& r = *run.value;
  INFO(describe(run));
  INFO("nothing listens on port " << closed.port() << ": the connect fails at once");
  CHECK(r.error);
  CHECK(r.error != boost::beast::error::timeout);
  CHECK(r.status == 0);
  CHECK(run.elapsed < 900ms);
}

TEST_CASE("one deadline covers the whole exchange: a dribbling response is cut off at the timeout", "[AC4]")
{
  // Progress every 30 ms for about 1.7 s: a deadline restarted before each
  // read would never fire, only one for the whole exchange does.
  auto upstream = workbook::test_server::scripted(workbook::upstreams::dribbling(dribbled_body, dribble_interval));

  auto const run = run_fetch(upstream.port(), "/", 250ms, [&] { upstream.stop(); });
  require_returned(run);
  auto const& r = *run.value;
  INFO(describe(run));
  INFO("the upstream sends its 59-byte response one byte every " << dribble_interval.count()
       << " ms, about 1.7 s in all; fetch should give up 250 ms after the call, in the middle of it. "
          "A deadline renewed before each read never passes while a byte arrives every "
       << dribble_interval.count() << " ms");
  CHECK(run.elapsed >= 240ms);
  CHECK(run.elapsed < 1000ms);
  CHECK(r.error == boost::beast::error::timeout);
  CHECK(r.status == 0);
}

TEST_CASE("one deadline covers the body too: a head at once, then a body a byte at a time, is cut off at the timeout",
          "[AC4]")
{
  // The head arrives in one piece; then the body, one byte every 30 ms, 1.8 s
  // in all. No read ever waits long, so only a deadline for the whole
  // exchange can end this early.
  std::string const body(60, 'x');
  auto upstream = workbook::test_server::scripted([&body](workbook::peer& p) {
    if (p.read_request().empty()) return;
    std::string const response = workbook::http_response(200, body);
    if (!p.write(std::string_view(response).substr(0, response.size() - body.size()))) return;
    for (char c : body) {
      if (!p.pause(dribble_interval)) return;
      if (!p.write(std::string_view(&c, 1))) return;
    }
    p.hold();
  });

  auto const run = run_fetch(upstream.port(), "/", 250ms, [&] { upstream.stop(); });
  require_returned(run);
  auto const& r = *run.value;
  INFO(describe(run));
  INFO("the upstream sends the response head at once, then the " << body.size() << "-byte body one byte every "
       << dribble_interval.count() << " ms; fetch should give up 250 ms after the call, in the middle of "
          "the body. A deadline renewed before each read of the body never passes while bytes keep coming");
  CHECK(run.elapsed >= 240ms);
  CHECK(run.elapsed < 1000ms);
  CHECK(r.error == boost::beast::error::timeout);
  CHECK(r.status == 0);
}

TEST_CASE("one deadline covers the connect: an attempt nobody answers is abandoned at the timeout", "[AC4]")
{
  workbook::unanswered_port port;
  {
    INFO("the test could not make a connection attempt go unanswered on this machine (port " << port.port()
         << "); it needs Linux's behaviour for a listening socket whose accept queue is full");
    REQUIRE(port.unanswered());
  }

  auto const run = run_fetch(port.port(), "/", 250ms, [&] { port.close(); });
  require_returned(run);
  auto const& r = *run.value;
  INFO(describe(run));
  INFO("nothing answers the connection attempt to port " << port.port()
       << "; left to itself the operating system keeps trying for about two minutes. The deadline, set "
          "before async_connect, is what ends it 250 ms after the call");
  CHECK(run.elapsed >= 240ms);
  CHECK(run.elapsed < 1000ms);
  CHECK(r.error == boost::beast::error::timeout);
  CHECK(r.status == 0);
}
