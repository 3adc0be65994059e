// Task 10 · acceptance tests for the body limit [AC5]. The raw connections
// send exactly the bytes written here: a header that announces 2 MB and
// then only a few bytes of body, or a chunked body that never says how
// long it will be.
#include "widget_fixture.hpp"

#include <workbook/test_client.hpp>

#include <catch2/catch.hpp>

#include <chrono>

using namespace task10_test;
using namespace std::chrono_literals;

namespace {

std::string head(std::string const& framing)
{
  return "POST /widgets HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + framing + "\r\n\r\n";
}

// A valid widget padded with spaces to exactly `size` bytes.
std::string widget_of_size(std::size_t size)
{
  std::string body = R"({"name": "big", "price": 1})";
  body.resize(size, ' ');
  return body;
}

std::string chunk(std::string const& data)
{
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + data + "\r\n";
}

} // namespace

TEST_CASE("a Content-Length over 1 MiB is answered 413 right after the header, without waiting for the body", "[AC5]")
{
  running_api api;
  // The client announces 2 MB and sends eight bytes of it. A server that
  // waits for the rest waits forever; this one must answer within a second.
  workbook::raw_connection conn(api.port(), 1000ms);
  REQUIRE(conn.connected());
  auto const start = std::chrono::steady_clock::now();
  REQUIRE(conn.send(head("Content-Length: 2000000") + R"({"name":)"));
  auto const res = conn.read_response();
  auto const waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  INFO("answered after " << waited.count() << " ms: " << res.status << " " << res.body);
  CHECK(error_problem(res, 413) == "");
  CHECK(workbook::iequals(res.header("Connection").value_or("(none)"), "close"));
  // The connection cannot carry another request: the server ends it.
  CHECK(conn.closed_by_peer(1000ms));

  // ... and goes on serving everyone else.
  workbook::test_client client(api.port());
  auto const next = client.send(post(R"({"name": "bolt", "price": 1})"));
  CHECK(next.status == 201);
  CHECK(body_of(next) == json{{"id", 1}});
}

TEST_CASE("a body of exactly 1 MiB is accepted; one byte more is a 413", "[AC5]")
{
  running_api api;
  workbook::test_client client(api.port());

  auto const exact = client.send(post(widget_of_size(task10::max_body_bytes)));
  CHECK(exact.status == 201);
  CHECK(body_of(exact) == json{{"id", 1}});

  // The whole body is sent this time: the 413 must still reach the client
  // (a server that closes with the body unread resets the connection, and
  // the reset can destroy the answer before the client reads it).
  auto const over = client.send(post(widget_of_size(task10::max_body_bytes + 1)));
  CHECK(error_problem(over, 413) == "");
  CHECK(workbook::iequals(over.header("Connection").value_or("(none)"), "close"));

  auto const after = client.send(post(R"({"name": "bolt", "price": 1})"));
  CHECK(body_of(after) == json{{"id", 2}});
}

TEST_CASE("a chunked body that grows past 1 MiB is a 413 too; a small chunked body is fine", "[AC5]")
{
  running_api api;

  {
    // Seventeen chunks of 64 KiB: 1 MiB + 64 KiB, and no chunk says so alone.
    workbook::raw_connection conn(api.port(), 2000ms);
    REQUIRE(conn.connected());
    std::string bytes = head("Transfer-Encoding: chunked") + chunk(R"({"name": "big", "price": 1})");
    for (int i = 0; i < 17; ++i) bytes += chunk(std::string(64 * 1024, ' '));
    bytes += "0\r\n\r\n";
    conn.send(bytes);  // may fail part-way once the server has answered; the answer counts
    auto const res = conn.read_response();
    INFO("answer: " << res.status << " " << res.body << res.error);
    CHECK(error_problem(res, 413) == "");
    CHECK(conn.closed_by_peer(1000ms));
  }
  {
    workbook::raw_connection conn(api.port());
    REQUIRE(conn.connected());
    REQUIRE(conn.send(head("Transfer-Encoding: chunked") + chunk(R"({"name": )") + chunk(R"("bolt", )") +
                      chunk(R"("price": 2})") + "0\r\n\r\n"));
    auto const res = conn.read_response();
    INFO("answer: " << res.status << " " << res.body << res.error);
    CHECK(res.status == 201);
    CHECK(body_of(res) == json{{"id", 1}});
  }
}
