// Task 08 · acceptance tests for your handler, [AC1] ... [AC4]. (AC5 and AC6
// grade your own tests: your_tests_test.cpp.)
//
// Each test plays the upstream with a workbook::test_server and calls your
// handler directly. The call runs on a thread of its own and is waited for
// a bounded time, so a handler that never returns fails its test instead of
// hanging the run. When a check fails, the report shows what the upstream
// was asked and what it answered.
#include "proxy_time.hpp"

#include <workbook/bounded_call.hpp>
#include <workbook/ports.hpp>
#include <workbook/test_server.hpp>
#include <workbook/upstreams.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

// The client every test hands the handler: no call takes longer than this.
constexpr std::chrono::milliseconds client_timeout = 1s;
// How long a test waits for the handler before it stops the upstream: ten
// times the client's deadline, for a loaded machine.
constexpr std::chrono::milliseconds patience = 10s;

// A fake time service: GET /now answers `status` with `body`, any other path
// 404. It remembers the targets it was asked for.
class time_service {
public:
  time_service(int status, std::string body)
      : seen_(std::make_shared<seen_targets>()),
        server_(workbook::test_server::serving([seen = seen_, status, body](workbook::request const& req) {
          {
            std::lock_guard lock(seen->mutex);
            seen->targets.push_back(req.method + " " + req.target);
          }
          workbook::response res;
          res.headers = {{"Content-Type", "text/plain"}};
          if (req.method == "GET" && req.target == "/now") {
            res.status = status;
            res.body = body;
          } else {
            res.status = 404;
            res.body = "no such path: this service has GET /now only\n";
          }
          return res;
        })),
        url_(server_.url())
  {
  }

  std::string const& url() const { return url_; }  // still known once stopped
  void stop() { server_.stop(); }

  std::vector<std::string> targets() const
  {
    std::lock_guard lock(seen_->mutex);
    return seen_->targets;
  }

  std::string describe_targets() const
  {
    auto const all = targets();
    if (all.empty()) return "the upstream at " + url_ + " was asked nothing";
    std::string s = "the upstream at " + url_ + " was asked:";
    for (auto const& t : all) s += " \"" + t + "\"";
    return s;
  }

private:
  struct seen_targets {
    std::mutex mutex;
    std::vector<std::string> targets;
  };
  std::shared_ptr<seen_targets> seen_;
  workbook::test_server server_;
  std::string url_;
};

// "1700000000\n" as a C++ literal would show it, for messages.
std::string printable(std::string s)
{
  for (std::size_t p = 0; (p = s.find_first_of("\r\n\t", p)) != std::string::npos; p += 2)
    s.replace(p, 1, s[p] == '\r' ? "\\r" : s[p] == '\n' ? "\\n" : "\\t");
  return s;
}

using outcome = workbook::bounded_outcome<task08::response>;

// handler(GET / HTTP/1.1), bounded by `wait`. `rescue` runs if it has not
// returned in time (stop the upstream: that ends whatever it waits for).
outcome call(task08::proxy_time const& handler, std::function<void()> rescue = {},
             std::chrono::milliseconds wait = patience)
{
  task08::request req{task08::http::verb::get, "/", 11};
  req.set(task08::http::field::host, "proxy.test");
  return workbook::call_bounded([handler, req] { return handler(req); }, wait, std::move(rescue));
}

std::string describe(outcome const& o, std::chrono::milliseconds wait = patience)
{
  std::ostringstream s;
  if (!o.exception.empty()) s << "the handler threw after " << o.elapsed.count() << " ms: " << o.exception;
  else if (!o.value) s << "the handler did not return within " << wait.count() << " ms, even once the upstream was stopped";
  else {
    auto const& res = *o.value;
    s << "the handler answered " << res.result_int() << " with body \"" << printable(res.body()) << "\" after "
      << o.elapsed.count() << " ms";
    if (o.overran) s << ", but only once the test had stopped the upstream";
  }
  return s.str();
}

// Fails the test unless the handler returned by itself, in time.
task08::response const& require_answer(outcome const& o, std::chrono::milliseconds wait = patience)
{
  INFO(describe(o, wait));
  REQUIRE(o.returned_in_time());
  return *o.value;
}

} // namespace

// ---------------------------------------------------------------- AC1

TEST_CASE("GET asks the upstream for GET /now and answers 200 \"now: 1700000000\"", "[AC1]")
{
  time_service upstream(200, "1700000000\n");
  task08::proxy_time handler(upstream.url(), task08::upstream_client{client_timeout});

  auto const o = call(handler, [&] { upstream.stop(); });
  auto const& res = require_answer(o);
  INFO(describe(o));
  INFO(upstream.describe_targets());
  CHECK(upstream.targets() == std::vector<std::string>{"GET /now"});
  CHECK(res.result_int() == 200);
  INFO("the upstream sent \"1700000000\\n\": the value is what is left without the newline, "
       "and the body is exactly \"now: \" and the value, with no newline of its own");
  CHECK(res.body() == "now: 1700000000");
  CHECK(res[task08::http::field::content_type] == "text/plain");
}

TEST_CASE("the spaces, tabs and line ends around the upstream's value are not part of it", "[AC1]")
{
  std::vector<std::pair<std::string, std::string>> const cases{
      {" \t1700000123\r\n", "now: 1700000123"},
      {"42", "now: 42"},               // nothing to trim: a blind "drop the last character" fails here
      {"\r\n-86400  \n", "now: -86400"},
  };
  for (auto const& [body, expected] : cases) {
    time_service upstream(200, body);
    task08::proxy_time handler(upstream.url(), task08::upstream_client{client_timeout});
    auto const o = call(handler, [&] { upstream.stop(); });
    INFO("the upstream answered 200 with body \"" << printable(body) << "\"");
    auto const& res = require_answer(o);
    INFO(describe(o));
    CHECK(res.result_int() == 200);
    CHECK(res.body() == expected);
  }
}

TEST_CASE("any 2xx is a success: a 203 with a time in its body gives 200 \"now: <value>\"", "[AC1]")
{
  // 203 Non-Authoritative Information: a success, its body transformed by a
  // proxy on the way. The handler answers its own client with its own 200.
  time_service upstream(203, "1700000000\n");
  task08::proxy_time handler(upstream.url(), task08::upstream_client{client_timeout});

  auto const o = call(handler, [&] { upstream.stop(); });
  INFO("the upstream answered 203 with body \"1700000000\\n\": a 2xx, so a success");
  auto const& res = require_answer(o);
  INFO(describe(o));
  CHECK(res.result_int() == 200);
  CHECK(res.body() == "now: 1700000000");
}

// ---------------------------------------------------------------- AC2

TEST_CASE("an upstream that has stopped gives 502", "[AC2]")
{
  time_service upstream(200, "1700000000\n");
  upstream.stop();
  task08::proxy_time handler(upstream.url(), task08::upstream_client{client_timeout});

  auto const o = call(handler);
  auto const& res = require_answer(o);
  INFO(describe(o));
  INFO("the upstream at " << upstream.url() << " was stopped before the call: the connection is refused");
  CHECK(res.result_int() == 502);
  CHECK(res[task08::http::field::content_type] == "text/plain");
}

TEST_CASE("a port where nothing listens gives 502", "[AC2]")
{
  workbook::refusing_port nobody;
  task08::proxy_time handler(nobody.url(), task08::upstream_client{client_timeout});

  auto const o = call(handler);
  auto const& res = require_answer(o);
  INFO(describe(o));
  INFO("nothing listens at " << nobody.url());
  CHECK(res.result_int() == 502);
}

TEST_CASE("an upstream that never answers gives 502 once the client the handler was handed gives up", "[AC2]")
{
  // The handler is handed a client with a 100 ms deadline. A handler that
  // uses it answers after about 100 ms; one that talks through a client of
  // its own (upstream_client{} waits 2 s) is still waiting when the test
  // stops looking, at 1.5 s, fifteen times the deadline it was given.
  constexpr std::chrono::milliseconds deadline = 100ms;
  constexpr std::chrono::milliseconds wait = 1500ms;
  auto upstream = workbook::test_server::scripted(workbook::upstreams::silent());
  task08::proxy_time handler(upstream.url(), task08::upstream_client{deadline});

  auto const o = call(handler, [&] { upstream.stop(); }, wait);
  INFO("the upstream at " << upstream.url() << " reads the request and never answers; the handler's client "
       "gives up after " << deadline.count() << " ms");
  auto const& res = require_answer(o, wait);
  INFO(describe(o, wait));
  CHECK(res.result_int() == 502);
}

// ---------------------------------------------------------------- AC3

TEST_CASE("an upstream that answers with an error status gives 502, even with a time in its body", "[AC3]")
{
  for (int status : {500, 503, 404}) {
    time_service upstream(status, "1700000000\n");
    task08::proxy_time handler(upstream.url(), task08::upstream_client{client_timeout});
    auto const o = call(handler, [&] { upstream.stop(); });
    INFO("the upstream answered " << status << " with body \"1700000000\\n\": a number, but not a success");
    auto const& res = require_answer(o);
    INFO(describe(o));
    CHECK(res.result_int() == 502);
  }
}

TEST_CASE("a 200 whose body is not an integer gives 502", "[AC3]")
{
  for (std::string body : {"soon\n", "", " \r\n", "12.5\n", "42 s\n", "0x10\n", "+42\n", "-\n",
                           "1700000000 1700000001\n", "99999999999999999999999\n"}) {
    time_service upstream(200, body);
    task08::proxy_time handler(upstream.url(), task08::upstream_client{client_timeout});
    auto const o = call(handler, [&] { upstream.stop(); });
    INFO("the upstream answered 200 with body \"" << printable(body) << "\"");
    auto const& res = require_answer(o);
    INFO(describe(o));
    CHECK(res.result_int() == 502);
  }
}

TEST_CASE("a 204 has no body, so it has no time: 502, even when bytes follow its header", "[AC3]")
{
  SECTION("a 204 with nothing after its header")
  {
    time_service upstream(204, "");
    task08::proxy_time handler(upstream.url(), task08::upstream_client{client_timeout});
    auto const o = call(handler, [&] { upstream.stop(); });
    INFO("the upstream answered 204 No Content");
    auto const& res = require_answer(o);
    INFO(describe(o));
    CHECK(res.result_int() == 502);
  }
  SECTION("a 204 followed by a time it should not have sent")
  {
    // HTTP ends a 204 with its header (RFC 9110, 15.3.5): the client does not
    // read the bytes after it as a body, whatever Content-Length says, so the
    // handler sees an empty body.
    auto upstream = workbook::test_server::scripted([](workbook::peer& p) {
      if (p.read_request().empty()) return;
      p.write("HTTP/1.1 204 No Content\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\n1700000000\n");
      p.close();
    });
    task08::proxy_time handler(upstream.url(), task08::upstream_client{client_timeout});
    auto const o = call(handler, [&] { upstream.stop(); });
    INFO("the upstream answered 204 No Content, then wrote \"1700000000\\n\" after the header");
    auto const& res = require_answer(o);
    INFO(describe(o));
    CHECK(res.result_int() == 502);
  }
}

// ---------------------------------------------------------------- AC4

TEST_CASE("two handlers with two upstreams each ask their own", "[AC4]")
{
  time_service first(200, "111\n");
  time_service second(200, "222\n");
  task08::proxy_time to_first(first.url(), task08::upstream_client{client_timeout});
  task08::proxy_time to_second(second.url(), task08::upstream_client{client_timeout});
  auto const stop_both = [&] {
    first.stop();
    second.stop();
  };

  // In turn, so that neither can be answered from what the other was told.
  std::vector<std::pair<std::string, task08::proxy_time const*>> const calls{
      {"now: 111", &to_first}, {"now: 222", &to_second}, {"now: 111", &to_first}, {"now: 222", &to_second}};
  for (std::size_t i = 0; i < calls.size(); ++i) {
    auto const& [expected, handler] = calls[i];
    auto const o = call(*handler, stop_both);
    INFO("call " << i + 1 << ", to the handler built with "
                 << (handler == &to_first ? first.url() + " (answers 111)" : second.url() + " (answers 222)"));
    auto const& res = require_answer(o);
    INFO(describe(o));
    INFO(first.describe_targets());
    INFO(second.describe_targets());
    CHECK(res.result_int() == 200);
    CHECK(res.body() == expected);
  }
  CHECK(first.targets().size() == 2);
  CHECK(second.targets().size() == 2);
}
