// Task 08 · reference tests: one way to write your_tests/proxy_time_test.cpp.
//
// Each test pins ONE behaviour of the contract and sets up the upstream so
// that nothing else could explain the result. The comment above each says
// which mistake it is there to catch; the grader proves it by building this
// file against every handler in ../broken/ and watching it fail.
//
// The upstream is real: a workbook::test_server on 127.0.0.1, port 0, on a
// thread of its own (httptest.NewServer in Go). The handler under test is
// called directly, as a function (httptest.NewRecorder's half of the job):
// it needs no server of its own to be tested, only an upstream.
#include "proxy_time.hpp"

#include <workbook/ports.hpp>
#include <workbook/test_server.hpp>
#include <workbook/upstreams.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

// A fake time service. GET /now answers `status` with `body`; any other
// path answers 404, as a real service would, so a handler that asks for the
// wrong path cannot get lucky. It remembers every path it was asked for.
class time_service {
public:
  time_service(int status, std::string body)
      : seen_(std::make_shared<seen_paths>()),
        server_(workbook::test_server::serving([seen = seen_, status, body](workbook::request const& req) {
          {
            std::lock_guard lock(seen->mutex);  // the server's thread writes, the test's reads
            seen->targets.push_back(req.target);
          }
          workbook::response res;
          res.headers = {{"Content-Type", "text/plain"}};
          if (req.method == "GET" && req.target == "/now") {
            res.status = status;
            res.body = body;
          } else {
            res.status = 404;
            res.body = "no such path\n";
          }
          return res;
        })),
        url_(server_.url())
  {
  }

  // Still the server's address once it has stopped: what a test of an
  // upstream that has gone away points the handler at.
  std::string const& url() const { return url_; }
  void stop() { server_.stop(); }

  std::vector<std::string> targets() const
  {
    std::lock_guard lock(seen_->mutex);
    return seen_->targets;
  }

private:
  struct seen_paths {
    std::mutex mutex;
    std::vector<std::string> targets;
  };
  std::shared_ptr<seen_paths> seen_;  // shared with the server's thread, which may outlive a test's locals
  workbook::test_server server_;
  std::string url_;
};

// The handler's client: 1 s at most per call, so no test can hang. (A
// constant, not state: every handler still gets its own copy.)
task08::upstream_client const client{1s};

task08::response get(task08::proxy_time const& handler)
{
  return handler(task08::request{task08::http::verb::get, "/", 11});
}

} // namespace

// Catches: a handler that asks for another path (it gets the 404), and one
// that keeps the upstream's newline (the body is compared whole, not with
// "contains").
TEST_CASE("GET asks the upstream for /now and answers 200 \"now: <value>\"")
{
  time_service upstream(200, "1700000000\n");
  task08::proxy_time handler(upstream.url(), client);

  auto const res = get(handler);
  CHECK(res.result_int() == 200);
  CHECK(res.body() == "now: 1700000000");
  CHECK(res[task08::http::field::content_type] == "text/plain");
  CHECK(upstream.targets() == std::vector<std::string>{"/now"});
}

// Catches: a handler that trims only a trailing "\n", or cuts the last
// character whatever it is.
TEST_CASE("the spaces and line ends around the upstream's value are not part of it")
{
  for (auto const& [body, expected] : std::vector<std::pair<std::string, std::string>>{
           {" \t1700000123\r\n", "now: 1700000123"},
           {"42", "now: 42"},
       }) {
    time_service upstream(200, body);
    task08::proxy_time handler(upstream.url(), client);
    INFO("the upstream's body: \"" << body << "\"");
    auto const res = get(handler);
    CHECK(res.result_int() == 200);
    CHECK(res.body() == expected);
  }
}

// Catches: a handler that answers 200 when it could not reach the upstream.
// Two ways to be unreachable: a server that was there and has stopped, and
// a port where nothing ever listened.
TEST_CASE("an upstream that cannot be reached gives 502")
{
  SECTION("a stopped upstream")
  {
    time_service upstream(200, "1700000000\n");
    upstream.stop();
    task08::proxy_time handler(upstream.url(), client);
    CHECK(get(handler).result_int() == 502);
    CHECK(upstream.targets().empty());
  }
  SECTION("a port where nothing listens")
  {
    workbook::refusing_port nobody;
    task08::proxy_time handler(nobody.url(), client);
    CHECK(get(handler).result_int() == 502);
  }
}

// The same failure, reached through the client's deadline instead of a
// refused connection. (200 ms: the test takes no longer than that.)
TEST_CASE("an upstream that never answers gives 502 once the client gives up")
{
  auto upstream = workbook::test_server::scripted(workbook::upstreams::silent());
  task08::proxy_time handler(upstream.url(), task08::upstream_client{200ms});
  CHECK(get(handler).result_int() == 502);
}

// Catches: a handler that ignores the status. The body IS an integer on
// purpose: with an error page as the body, the integer check would give 502
// anyway, and this test would pass against a handler that never looks at
// the status.
TEST_CASE("an error status gives 502, even when the body is a time")
{
  for (int status : {500, 503, 404}) {
    time_service upstream(status, "1700000000\n");
    task08::proxy_time handler(upstream.url(), client);
    INFO("the upstream answers " << status << " with body \"1700000000\\n\"");
    CHECK(get(handler).result_int() == 502);
  }
}

// Catches: a handler that passes on whatever a 2xx upstream says.
TEST_CASE("a body that is not an integer gives 502")
{
  for (std::string body : {"soon\n", "", "\n", "12.5\n", "42 s\n", "0x10\n", "+42\n", "1700000000 1700000001\n"}) {
    time_service upstream(200, body);
    task08::proxy_time handler(upstream.url(), client);
    INFO("the upstream answers 200 with body \"" << body << "\"");
    CHECK(get(handler).result_int() == 502);
  }
}

// Catches: a handler that keeps its upstream anywhere but in itself (a
// global, a static, a hard-coded address). Two live upstreams that answer
// differently, two handlers, called in turn: each must reach its own.
TEST_CASE("each handler asks the upstream it was given")
{
  time_service first(200, "111\n");
  time_service second(200, "222\n");
  task08::proxy_time to_first(first.url(), client);
  task08::proxy_time to_second(second.url(), client);

  CHECK(get(to_first).body() == "now: 111");
  CHECK(get(to_second).body() == "now: 222");
  CHECK(get(to_first).body() == "now: 111");
  CHECK(first.targets().size() == 2);
  CHECK(second.targets().size() == 1);
}
