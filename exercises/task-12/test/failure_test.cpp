// Task 12 · acceptance tests for what goes wrong: a backend that is down or
// silent [AC5], a request whose body length is ambiguous or that is not
// HTTP at all [AC6], and a backend that fails in the middle of a body [AC9].
#include "fixtures.hpp"

#include <workbook/ports.hpp>
#include <workbook/skip.hpp>
#include <workbook/test_client.hpp>
#include <workbook/upstreams.hpp>

#include <catch2/catch.hpp>

using namespace task12_test;

namespace {

milliseconds since(std::chrono::steady_clock::time_point start)
{
  return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
}

// A short text body that says something: not empty, not an essay.
bool short_text(workbook::response const& res) { return !res.body.empty() && res.body.size() < 512; }

// A backend that answers /ok with 200 "ok", and runs `on_other` for any
// other request (on the connection's own thread).
workbook::test_server backend_with(std::function<void(workbook::peer&, std::string const& request)> on_other)
{
  return workbook::test_server::scripted([on_other = std::move(on_other)](workbook::peer& p) {
    for (;;) {
      auto const req = p.read_request();
      if (req.empty()) return;
      if (req.rfind("GET /ok ", 0) == 0) {
        if (!p.write(workbook::http_response(200, "ok"))) return;
        continue;
      }
      on_other(p, req);
      return;
    }
  });
}

} // namespace

// ---------------------------------------------------------------- AC5

TEST_CASE("a backend that refuses the connection is a 502 with a short body, at once", "[AC5]")
{
  workbook::refusing_port down;
  running_proxy proxy(options_for(down.port(), 2000ms));
  workbook::test_client client(proxy.port(), 3000ms);

  auto const start = std::chrono::steady_clock::now();
  auto const res = client.get("/api/x");
  auto const elapsed = since(start);
  INFO("answer after " << elapsed.count() << " ms: " << res.status << " " << res.body << res.error);
  CHECK(res.status == 502);
  CHECK(short_text(res));
  // A refusal is an answer: nothing to wait for (backend_timeout is 2 s here).
  CHECK(elapsed < 1000ms);

  // The request had no body, so the connection carries the next one.
  auto const again = client.get("/api/y");
  CHECK(again.status == 502);
  CHECK(client.connections_opened() == 1);
}

TEST_CASE("a backend that hangs up without answering is a 502", "[AC5]")
{
  auto backend = backend_with([](workbook::peer& p, std::string const&) { p.close(); });
  running_proxy proxy(options_for(backend.port(), 2000ms));
  workbook::test_client client(proxy.port(), 3000ms);

  auto const start = std::chrono::steady_clock::now();
  auto const res = client.get("/api/hang-up");
  auto const elapsed = since(start);
  INFO("answer after " << elapsed.count() << " ms: " << res.status << " " << res.body << res.error);
  CHECK(res.status == 502);
  CHECK(short_text(res));
  CHECK(elapsed < 1000ms);
}

TEST_CASE("a backend that accepts and never answers is a 504 at backend_timeout, and the proxy lets go of it", "[AC5]")
{
  auto backend = workbook::test_server::scripted(workbook::upstreams::silent());
  running_proxy proxy(options_for(backend.port(), 200ms));
  workbook::test_client client(proxy.port(), 3000ms);

  auto const start = std::chrono::steady_clock::now();
  auto const res = client.get("/api/slow");
  auto const elapsed = since(start);
  INFO("answer after " << elapsed.count() << " ms: " << res.status << " " << res.body << res.error);
  CHECK(res.status == 504);
  CHECK(short_text(res));
  CHECK(elapsed >= 190ms);
  CHECK(elapsed < 1500ms);
  // The proxy closed its connection to the silent backend: the backend's
  // side sees it end.
  CHECK(workbook::eventually([&] { return backend.open() == 0; }, 1000ms));

  // And the next request gets its own answer on the same connection.
  auto const again = client.get("/api/slow");
  CHECK(again.status == 504);
  CHECK(client.connections_opened() == 1);
}

TEST_CASE("a backend that never answers the connection attempt is a 504 at backend_timeout", "[AC5]")
{
  workbook::unanswered_port black_hole;
  if (!black_hole.unanswered())
    WORKBOOK_SKIP("this kernel answers every connection attempt, so no port here leaves a connect hanging");
  running_proxy proxy(options_for(black_hole.port(), 200ms));
  workbook::test_client client(proxy.port(), 3000ms);

  auto const start = std::chrono::steady_clock::now();
  auto const res = client.get("/api/x");
  auto const elapsed = since(start);
  INFO("answer after " << elapsed.count() << " ms: " << res.status << " " << res.body << res.error);
  CHECK(res.status == 504);
  CHECK(short_text(res));
  CHECK(elapsed >= 190ms);
  CHECK(elapsed < 1500ms);
}

// ---------------------------------------------------------------- AC6

namespace {

// Sends `request` on a connection of its own and expects a 400 with
// Connection: close, then the connection closed by the proxy.
void expect_refused(unsigned short port, std::string const& what, std::string const& request)
{
  INFO(what);
  workbook::raw_connection conn(port, 2000ms);
  REQUIRE(conn.connected());
  REQUIRE(conn.send(request));
  auto const res = conn.read_response();
  INFO("answer: " << res.status << " " << res.body << res.error << "\n" << show(res.headers));
  CHECK(res.status == 400);
  CHECK(has_token(res.header("Connection").value_or(""), "close"));
  CHECK(conn.closed_by_peer(1000ms));
}

// The test's last request, on a new connection: it, and only it, reaches
// the backend.
void expect_only_the_next_request_forwarded(unsigned short port, seen_requests& seen)
{
  workbook::test_client client(port);
  auto const res = client.get("/api/after");
  INFO("GET /api/after -> " << res.status << " " << res.body << res.error);
  CHECK(res.status == 200);
  auto const targets = seen.targets();
  std::string list;
  for (auto const& t : targets) list += " " + t;
  INFO("the backend saw:" << list);
  CHECK(targets == std::vector<std::string>{"/after"});
}

// After the body, whatever its length was taken to be, a second request: a
// proxy that forwards the first lets the second through behind its back.
std::string const smuggled = "GET /api/admin HTTP/1.1\r\nHost: shop.example\r\n\r\n";

} // namespace

TEST_CASE("a request with both a chunked Transfer-Encoding and a Content-Length is a 400, and nothing of it is forwarded", "[AC6]")
{
  auto seen = std::make_shared<seen_requests>();
  auto backend = recording_backend(seen);
  running_proxy proxy(options_for(backend.port()));

  expect_refused(proxy.port(), "Content-Length, then Transfer-Encoding",
                 "POST /api/smuggle HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 5\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled);
  expect_refused(proxy.port(), "Transfer-Encoding, then Content-Length",
                 "POST /api/smuggle HTTP/1.1\r\nHost: shop.example\r\nTransfer-Encoding: chunked\r\n"
                 "Content-Length: 53\r\n\r\n0\r\n\r\n" + smuggled);
  expect_only_the_next_request_forwarded(proxy.port(), *seen);
}

TEST_CASE("a Transfer-Encoding that is not chunked is a 400, with a Content-Length or without one", "[AC6]")
{
  auto seen = std::make_shared<seen_requests>();
  auto backend = recording_backend(seen);
  running_proxy proxy(options_for(backend.port()));

  // Beast's parser lets both of these through: the first as a body of 5
  // bytes, the second as a request without a body, followed by bytes that
  // are not a request.
  expect_refused(proxy.port(), "Transfer-Encoding: identity with a Content-Length",
                 "POST /api/smuggle HTTP/1.1\r\nHost: shop.example\r\nTransfer-Encoding: identity\r\n"
                 "Content-Length: 5\r\n\r\nhello" + smuggled);
  expect_refused(proxy.port(), "Transfer-Encoding: xchunked",
                 "POST /api/smuggle HTTP/1.1\r\nHost: shop.example\r\nTransfer-Encoding: xchunked\r\n\r\n"
                 "5\r\nhello\r\n0\r\n\r\n" + smuggled);
  expect_refused(proxy.port(), "Transfer-Encoding: chunked, identity",
                 "POST /api/smuggle HTTP/1.1\r\nHost: shop.example\r\nTransfer-Encoding: chunked, identity\r\n\r\n"
                 "5\r\nhello\r\n0\r\n\r\n" + smuggled);
  expect_only_the_next_request_forwarded(proxy.port(), *seen);
}

TEST_CASE("a request that is not HTTP/1.1 is a 400, not a silent close", "[AC6]")
{
  auto seen = std::make_shared<seen_requests>();
  auto backend = recording_backend(seen);
  running_proxy proxy(options_for(backend.port()));

  expect_refused(proxy.port(), "a field line without a colon",
                 "GET /api/x HTTP/1.1\r\nHost: shop.example\r\nthis is not a field\r\n\r\n");
  expect_refused(proxy.port(), "a Content-Length that is not a number",
                 "POST /api/x HTTP/1.1\r\nHost: shop.example\r\nContent-Length: five\r\n\r\nhello");
  expect_only_the_next_request_forwarded(proxy.port(), *seen);
}

// ---------------------------------------------------------------- AC9

TEST_CASE("a backend that closes in the middle of a body with a Content-Length leaves the client a body cut short", "[AC9]")
{
  constexpr std::uint64_t announced = 1'000'000;
  auto backend = backend_with([](workbook::peer& p, std::string const&) {
    p.write("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(announced) + "\r\n\r\n");
    p.write(pattern_at(0, 60'000));
    p.write(pattern_at(60'000, 40'000));
    // ... and the connection closes when the script returns.
  });
  running_proxy proxy(options_for(backend.port(), 2000ms));

  streaming_client client(proxy.port(), 1500ms);
  REQUIRE(client.connected());
  REQUIRE(client.send(get_request("/api/cut")));
  REQUIRE(client.read_header());
  CHECK(client.status() == 200);
  CHECK(client.header("Content-Length").value_or("(none)") == std::to_string(announced));
  std::uint64_t offset = 0;
  CHECK(client.read_pattern(offset));
  INFO("the client read " << offset << " bytes of the body; then: " << streaming_client::describe(client.error()));
  // Cut short, and told so by the proxy closing (or resetting) the
  // connection, not by the client giving up on a connection left open.
  CHECK_FALSE(client.done());
  CHECK(offset < announced);
  CHECK(client.error());
  CHECK(client.error() != beast::error::timeout);

  // The proxy goes on: the next request, on a new connection, is served.
  workbook::test_client next(proxy.port());
  auto const ok = next.get("/api/ok");
  CHECK(ok.status == 200);
  CHECK(ok.body == "ok");
}

TEST_CASE("a backend that closes in the middle of a chunked body leaves the client without the last chunk", "[AC9]")
{
  auto backend = backend_with([](workbook::peer& p, std::string const&) {
    p.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n");
    p.write("6\r\nhello \r\n");
    p.write("6\r\nworld,\r\n");
    p.write("8\r\nand then");  // half a chunk, and the connection closes
  });
  running_proxy proxy(options_for(backend.port(), 2000ms));

  streaming_client client(proxy.port(), 1500ms);
  REQUIRE(client.connected());
  REQUIRE(client.send(get_request("/api/cut")));
  REQUIRE(client.read_header());
  CHECK(client.status() == 200);
  auto const body = client.read_rest();
  INFO("the client read \"" << body << "\"; then: " << streaming_client::describe(client.error()));
  // A last chunk would make this a complete response, with a wrong body.
  CHECK_FALSE(client.done());
  CHECK(client.error());
  CHECK(client.error() != beast::error::timeout);

  workbook::test_client next(proxy.port());
  auto const ok = next.get("/api/ok");
  CHECK(ok.status == 200);
  CHECK(ok.body == "ok");
}

TEST_CASE("a backend that stalls in the middle of a body is cut off at backend_timeout, and so is the client", "[AC9]")
{
  auto backend = backend_with([](workbook::peer& p, std::string const&) {
    p.write("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n");
    p.write(pattern_at(0, 1000));
    p.hold();  // not another byte, until the proxy lets go
  });
  running_proxy proxy(options_for(backend.port(), 200ms));

  streaming_client client(proxy.port(), 2000ms);
  REQUIRE(client.connected());
  REQUIRE(client.send(get_request("/api/stall")));
  REQUIRE(client.read_header());
  auto const start = std::chrono::steady_clock::now();
  std::uint64_t offset = 0;
  CHECK(client.read_pattern(offset));
  auto const elapsed = since(start);
  INFO("the client read " << offset << " bytes, then after " << elapsed.count()
                          << " ms: " << streaming_client::describe(client.error()));
  CHECK_FALSE(client.done());
  CHECK(client.error());
  CHECK(client.error() != beast::error::timeout);
  CHECK(elapsed < 1500ms);
  // The proxy let go of the backend too.
  CHECK(workbook::eventually([&] { return backend.open() == 0; }, 1000ms));

  workbook::test_client next(proxy.port());
  CHECK(next.get("/api/ok").status == 200);
}
