// Task 11 · acceptance tests for the header and body limits, [AC5] as in
// README.md: 431 for a header over header_limit, 413 for a body over
// body_limit, each with `Connection: close` and then the end of the
// connection; requests inside the limits are served.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

using namespace task11_test;
using namespace std::chrono_literals;

namespace {

// A GET whose header is about `bytes` long, in fields of 1 KiB or less.
std::string get_with_header_of(std::size_t bytes)
{
  std::string head = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (int i = 0; head.size() + 2 < bytes; ++i) {
    std::string field = "X-Filler-" + std::to_string(i) + ": ";
    std::size_t const room = bytes - head.size() - 2;
    std::size_t const value = std::min<std::size_t>(1024, room > field.size() + 2 ? room - field.size() - 2 : 1);
    head += field + std::string(value, 'h') + "\r\n";
  }
  return head + "\r\n";
}

std::string post_head(std::string const& framing)
{
  return "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n" + framing +
         "\r\n\r\n";
}

std::string chunk(std::string const& data)
{
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + data + "\r\n";
}

std::string connection_of(workbook::response const& res)
{
  return res.header("Connection").value_or("(no Connection header)");
}

} // namespace

TEST_CASE("16 KiB of header fields against an 8 KiB limit are answered 431, and the connection is closed",
          "[AC5]")
{
  auto const limits = scaled_limits();  // header_limit 8 KiB
  running_server s(limits);
  plain_connection c(s.port);
  REQUIRE(c.connected());
  auto const request = get_with_header_of(16 * 1024);
  REQUIRE(c.send(request));
  auto const res = c.read_response();
  INFO(res.error);
  CHECK(res.status == 431);
  CHECK(connection_of(res) == "close");
  auto const end = c.wait_closed(2000ms, clock_type::now());
  INFO(end.describe());
  CHECK(end.closed);
}

TEST_CASE("a header inside the limit is served, and the limit is the one configured", "[AC5]")
{
  SECTION("6 KiB of header against the 8 KiB limit")
  {
    running_server s(scaled_limits());
    plain_connection c(s.port);
    REQUIRE(c.connected());
    REQUIRE(c.send(get_with_header_of(6 * 1024)));
    auto const res = c.read_response();
    INFO(res.error);
    CHECK(res.status == 200);
    CHECK(res.body == "ok\n");
  }
  SECTION("16 KiB of header against a 32 KiB limit")
  {
    auto limits = scaled_limits();
    limits.header_limit = 32 * 1024;
    running_server s(limits);
    plain_connection c(s.port);
    REQUIRE(c.connected());
    REQUIRE(c.send(get_with_header_of(16 * 1024)));
    auto const res = c.read_response();
    INFO(res.error << ". This server's header_limit is 32 KiB: is the parser's header_limit set from the "
                      "server's limits, or left at Beast's default?");
    CHECK(res.status == 200);
  }
  SECTION("3 KiB of header against a 2 KiB limit")
  {
    auto limits = scaled_limits();
    limits.header_limit = 2 * 1024;
    running_server s(limits);
    plain_connection c(s.port);
    REQUIRE(c.connected());
    REQUIRE(c.send(get_with_header_of(3 * 1024)));
    auto const res = c.read_response();
    INFO(res.error);
    CHECK(res.status == 431);
  }
}

TEST_CASE("a Content-Length over the body limit is answered 413 before any of the body is sent, and the "
          "connection is closed",
          "[AC5]")
{
  auto limits = scaled_limits();  // body_limit 64 KiB
  limits.body_timeout = 5000ms;   // a server that waits for the body waits past the client's patience
  running_server s(limits);
  plain_connection c(s.port);
  REQUIRE(c.connected());
  REQUIRE(c.send(post_head("Content-Length: 100000")));
  auto const res = c.read_response(1500ms);
  INFO(res.error << ". The header announced 100000 bytes against a limit of 65536, and no byte of the body "
                    "was sent: the answer can come from the header alone");
  CHECK(res.status == 413);
  CHECK(connection_of(res) == "close");
  auto const end = c.wait_closed(2000ms, clock_type::now());
  INFO(end.describe());
  CHECK(end.closed);
}

TEST_CASE("a chunked body that grows past the body limit is answered 413, and the connection is closed", "[AC5]")
{
  auto limits = scaled_limits();
  limits.body_timeout = 5000ms;
  running_server s(limits);
  plain_connection c(s.port);
  REQUIRE(c.connected());
  // Two 40 KiB chunks: past 64 KiB at the second. The body never ends.
  REQUIRE(c.send(post_head("Transfer-Encoding: chunked") + chunk(std::string(40 * 1024, 'c')) +
                 chunk(std::string(40 * 1024, 'c'))));
  auto const res = c.read_response(1500ms);
  INFO(res.error);
  CHECK(res.status == 413);
  CHECK(connection_of(res) == "close");
}

TEST_CASE("a body of exactly the limit is served, and the connection stays open", "[AC5]")
{
  running_server s(scaled_limits());  // body_limit 64 KiB
  plain_connection c(s.port);
  REQUIRE(c.connected());
  REQUIRE(c.send(post_head("Content-Length: 65536") + std::string(64 * 1024, 'x')));
  auto const res = c.read_response();
  INFO(res.error);
  CHECK(res.status == 200);
  CHECK(res.body == "received 65536 bytes\n");
  REQUIRE(c.send(get("/")));
  CHECK(c.read_response().status == 200);
}
