// Task 17 · [AC6]: requests that are not an upgrade to echo stay HTTP. On
// /echo they get 426 Upgrade Required naming echo, and the connection stays
// open for the next request (an upgrade, even); HTTP/1.0's Upgrade is
// ignored; another target is a 404; a request that is not HTTP gets a 400
// and the end of the connection.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

using namespace task17_test;
using namespace std::chrono_literals;

namespace {

std::string show(http_answer const& a)
{
  return printable(a.head.raw) + printable(a.body, 100);
}

// A 426 as the contract says: Upgrade names echo, Connection names upgrade,
// a body with a Content-Length.
void check_426(http_answer const& a, std::string_view protocol = "echo")
{
  CHECK(a.head.status == 426);
  CHECK(a.head.has_token("Upgrade", protocol));
  CHECK(a.head.has_token("Connection", "upgrade"));
  CHECK(a.head.field("Content-Length"));
}

} // namespace

TEST_CASE("a plain GET /echo gets 426 naming echo, and may upgrade next", "[AC6]")
{
  running_server s;
  line_client c(s.port);
  REQUIRE(c.connected());
  REQUIRE(c.send(request_text("/echo", {})));
  auto const refused = c.read_response(1000ms);
  INFO("GET /echo without Upgrade: " << (refused ? show(*refused) : "no response; received " + printable(c.unread())));
  REQUIRE(refused);
  check_426(*refused);
  // The same connection, still HTTP: now the upgrade.
  REQUIRE(c.send(upgrade_request()));
  auto const switched = c.read_head(1000ms);
  INFO("then the upgrade on the same connection: "
       << (switched ? printable(switched->raw) : c.ended ? "the connection had been closed" : "no response"));
  REQUIRE(switched);
  CHECK(switched->status == 101);
  CHECK(round_trip(c, "same connection") == expected_reply("same connection"));
}

TEST_CASE("requests that are not an upgrade to echo get 426 and stay HTTP", "[AC6]")
{
  struct refused_request {
    std::string why;
    std::string bytes;
  };
  std::vector<refused_request> const cases = {
      {"an upgrade to websocket",
       request_text("/echo", {{"Upgrade", "websocket"},
                              {"Connection", "Upgrade"},
                              {"Sec-WebSocket-Version", "13"},
                              {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}})},
      {"Upgrade: echo without Connection", request_text("/echo", {{"Upgrade", "echo"}})},
      {"Upgrade: echo with Connection: keep-alive", request_text("/echo", {{"Upgrade", "echo"}, {"Connection", "keep-alive"}})},
      {"Connection: Upgrade without Upgrade", request_text("/echo", {{"Connection", "Upgrade"}})},
      {"Upgrade: echoes (another token)", request_text("/echo", {{"Upgrade", "echoes"}, {"Connection", "Upgrade"}})},
      {"Upgrade: echo, Connection: upgraded (another token)",
       request_text("/echo", {{"Upgrade", "echo"}, {"Connection", "upgraded"}})},
      {"POST with the upgrade fields",
       request_text("/echo", {{"Upgrade", "echo"}, {"Connection", "Upgrade"}, {"Content-Length", "0"}}, "POST")},
  };
  running_server s;
  for (auto const& r : cases) {
    line_client c(s.port);
    REQUIRE(c.connected());
    REQUIRE(c.send(r.bytes));
    auto const refused = c.read_response(1000ms);
    INFO(r.why << ": " << (refused ? show(*refused) : "no response; received " + printable(c.unread())));
    REQUIRE(refused);
    check_426(*refused);
    // Still HTTP: the next request gets an HTTP response, not an echo.
    REQUIRE(c.send(request_text("/missing", {})));
    auto const next = c.read_response(1000ms);
    INFO("then GET /missing on the same connection: "
         << (next ? show(*next) : c.ended ? "the connection had been closed" : "no response; received " + printable(c.unread())));
    REQUIRE(next);
    CHECK(next->head.status == 404);
  }
}

TEST_CASE("an HTTP/1.0 request with the upgrade fields gets 426, then the end", "[AC6]")
{
  running_server s;
  line_client c(s.port);
  REQUIRE(c.connected());
  // RFC 9110 §7.8: a server must ignore Upgrade in an HTTP/1.0 request.
  REQUIRE(c.send(request_text("/echo", {{"Upgrade", "echo"}, {"Connection", "Upgrade"}}, "GET", "HTTP/1.0")));
  auto const refused = c.read_response(1000ms);
  INFO("GET /echo HTTP/1.0 with the upgrade fields: "
       << (refused ? show(*refused) : "no response; received " + printable(c.unread())));
  REQUIRE(refused);
  CHECK(refused->head.status == 426);
  CHECK(refused->head.has_token("Upgrade", "echo"));
  // HTTP/1.0 without keep-alive: the server closes after the response.
  bool const closed = c.wait_closed(1000ms);
  INFO("after the response: " << (closed ? "closed" : "still open") << "; received " << printable(c.unread()));
  CHECK(closed);
  CHECK(c.unread().empty());
}

TEST_CASE("another target with the upgrade fields is a 404, and stays HTTP", "[AC6]")
{
  running_server s;
  line_client c(s.port);
  REQUIRE(c.connected());
  REQUIRE(c.send(upgrade_request("/elsewhere")));
  auto const first = c.read_response(1000ms);
  INFO("GET /elsewhere with the upgrade fields: " << (first ? show(*first) : "no response; received " + printable(c.unread())));
  REQUIRE(first);
  CHECK(first->head.status == 404);
  REQUIRE(c.send(request_text("/missing", {})));
  auto const second = c.read_response(1000ms);
  INFO("then GET /missing: " << (second ? show(*second) : "no response; received " + printable(c.unread())));
  REQUIRE(second);
  CHECK(second->head.status == 404);
}

TEST_CASE("a request that is not HTTP gets 400, and the connection closes", "[AC6]")
{
  running_server s;
  line_client c(s.port);
  REQUIRE(c.connected());
  REQUIRE(c.send("GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade echo\r\nConnection: Upgrade\r\n\r\n"));
  auto const answer = c.read_response(1000ms);
  INFO("a field without a colon: " << (answer ? show(*answer) : "no response; received " + printable(c.unread())));
  REQUIRE(answer);
  CHECK(answer->head.status == 400);
  bool const closed = c.wait_closed(1000ms);
  INFO("after the 400: " << (closed ? "closed" : "still open"));
  CHECK(closed);
}
