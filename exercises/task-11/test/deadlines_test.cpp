// Task 11 · acceptance tests for the four deadlines, [AC1] ... [AC4] as in
// README.md. Each test shortens the deadline it is about and leaves the
// others long (fixtures.hpp, scaled_limits), and measures when the server
// ends the connection: not before its deadline (timers never fire early, so
// the lower bounds are exact), and not much after (the upper bounds leave
// room for a loaded machine).
#include "fixtures.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <thread>

using namespace task11_test;
using namespace std::chrono_literals;

namespace {

// A request header that takes `bytes` bytes, most of them in one field.
std::string long_header(std::size_t bytes)
{
  std::string head = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slowloris: ";
  head.append(bytes > head.size() + 4 ? bytes - head.size() - 4 : 1, 'a');
  return head + "\r\n\r\n";
}

std::string post_head(std::size_t content_length)
{
  return "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: " +
         std::to_string(content_length) + "\r\n\r\n";
}

} // namespace

// ---------------------------------------------------------------- AC1

TEST_CASE("a client that sends its header a byte every 50 ms is cut off at the header deadline", "[AC1]")
{
  auto limits = scaled_limits();  // header 200 ms; body, write, idle 2 s
  running_server s(limits);
  plain_connection slow(s.port);
  REQUIRE(slow.connected());

  // 60 bytes at 50 ms each: 3 s of header, if nothing stops it.
  auto const start = slow.connected_at();
  auto const end = slow.dribble(long_header(60), 50ms, 1500ms, start);
  INFO(end.describe() << "; the header deadline is " << limits.header_timeout.count()
       << " ms from the accept. A deadline set again before each read is moved by every byte that "
          "arrives, so a client sending a byte every 50 ms never meets it.");
  REQUIRE(end.closed);
  CHECK(end.at >= limits.header_timeout - 10ms);
  CHECK(end.at <= limits.header_timeout + 300ms);
  CHECK(end.bytes == 0);  // cut off without an answer
}

TEST_CASE("a header that trickles in but is complete before the header deadline is answered", "[AC1]")
{
  running_server s(scaled_limits());  // header 200 ms
  plain_connection c(s.port);
  REQUIRE(c.connected());
  // Four pieces, 25 ms apart: the header is complete after about 75 ms.
  std::string const request = get("/");
  std::size_t const piece = request.size() / 4 + 1;
  for (std::size_t at = 0; at < request.size(); at += piece) {
    if (at > 0) std::this_thread::sleep_for(25ms);  // pacing the sender, not waiting for the server
    REQUIRE(c.send(std::string_view(request).substr(at, piece)));
  }
  auto const res = c.read_response();
  INFO(res.error);
  CHECK(res.status == 200);
  CHECK(res.body == "ok\n");
}

TEST_CASE("on a kept-alive connection the header deadline counts from the next request's first byte", "[AC1]")
{
  auto limits = scaled_limits();  // header 200 ms; idle 2 s
  running_server s(limits);
  plain_connection c(s.port);
  REQUIRE(c.connected());
  REQUIRE(c.send(get("/")));
  REQUIRE(c.read_response().status == 200);

  // Idle for 300 ms: longer than the header deadline, well inside the idle one.
  std::this_thread::sleep_for(300ms);

  // Then a slowloris: its first byte starts the header deadline.
  auto const start = clock_type::now();
  auto const end = c.dribble(long_header(60), 50ms, 1500ms, start);
  INFO(end.describe() << "; counted from the next request's first byte, the header deadline is "
       << limits.header_timeout.count() << " ms. Closed too late: did the idle deadline (" << limits.idle_timeout.count()
       << " ms) stay armed while the header was read? Never: is the header deadline set per read?");
  REQUIRE(end.closed);
  CHECK(end.at >= limits.header_timeout - 10ms);
  CHECK(end.at <= limits.header_timeout + 300ms);
}

// ---------------------------------------------------------------- AC2

TEST_CASE("a client that sends the header and then stalls the body is cut off at the body deadline", "[AC2]")
{
  auto limits = scaled_limits();
  limits.body_timeout = 500ms;  // header 200 ms, body 500 ms
  running_server s(limits);
  plain_connection c(s.port);
  REQUIRE(c.connected());

  // The whole header at once, then 10 of the 100 bytes it announces.
  auto const start = clock_type::now();
  REQUIRE(c.send(post_head(100) + std::string(10, 'x')));
  auto const end = c.wait_closed(2000ms, start);
  INFO(end.describe() << "; the body deadline is " << limits.body_timeout.count()
       << " ms from the end of the header (the header deadline, " << limits.header_timeout.count()
       << " ms, is over once the header is in: if the connection closed then, the body was read under the "
          "header's deadline)");
  REQUIRE(end.closed);
  CHECK(end.at >= limits.body_timeout - 10ms);
  CHECK(end.at <= limits.body_timeout + 300ms);
}

TEST_CASE("a body sent a byte every 50 ms is cut off at the body deadline", "[AC2]")
{
  auto limits = scaled_limits();
  limits.body_timeout = 500ms;
  running_server s(limits);
  plain_connection c(s.port);
  REQUIRE(c.connected());

  auto const start = clock_type::now();
  REQUIRE(c.send(post_head(100)));
  auto const end = c.dribble(std::string(100, 'x'), 50ms, 2000ms, start);
  INFO(end.describe() << "; one deadline for the whole body, " << limits.body_timeout.count()
       << " ms: a deadline set again for every read of the body is moved by every byte");
  REQUIRE(end.closed);
  CHECK(end.at >= limits.body_timeout - 10ms);
  CHECK(end.at <= limits.body_timeout + 300ms);
}

TEST_CASE("a body that arrives after the header deadline would have passed, but within the body deadline, "
          "is answered",
          "[AC2]")
{
  auto limits = scaled_limits();
  limits.body_timeout = 1000ms;  // header 200 ms
  running_server s(limits);
  plain_connection c(s.port);
  REQUIRE(c.connected());

  // The header at once, then four pieces of the body, 100 ms apart: the
  // last arrives about 400 ms after the header.
  REQUIRE(c.send(post_head(40)));
  for (int i = 0; i < 4; ++i) {
    std::this_thread::sleep_for(100ms);  // pacing the sender
    if (!c.send(std::string(10, 'x'))) break;
  }
  auto const res = c.read_response();
  INFO(res.error << ". The body took about 400 ms; the header deadline (" << limits.header_timeout.count()
       << " ms) must not apply to it, the body deadline (" << limits.body_timeout.count() << " ms) does");
  CHECK(res.status == 200);
  CHECK(res.body == "received 40 bytes\n");
}

// ---------------------------------------------------------------- AC3

TEST_CASE("a client that never reads a large response is cut off at the write deadline", "[AC3]")
{
  auto limits = scaled_limits();
  limits.header_timeout = 2000ms;
  limits.write_timeout = 300ms;  // idle 2 s
  running_server s(limits);
  // A small receive buffer, and a response four times what the server's
  // send buffer may grow to (16 MiB unless tcp_wmem was tuned): it cannot
  // all be in flight.
  plain_connection c(s.port, 64 * 1024);
  REQUIRE(c.connected());
  std::size_t const size = std::max(big_body_size, 4 * tcp_wmem_max());

  auto const start = clock_type::now();
  REQUIRE(c.send(get("/big?bytes=" + std::to_string(size))));
  // The response has begun to arrive: its write started before this.
  REQUIRE(c.wait_readable(2000ms));
  // Not reading, for longer than the write deadline ...
  std::this_thread::sleep_for(limits.write_timeout + 400ms);
  // ... then reading as fast as possible. What the server had sent before
  // its deadline is still delivered; after that comes the end of the stream.
  auto const end = c.wait_closed(3000ms, start);
  INFO(end.describe() << "; the response is " << size
       << " body bytes. The client read nothing for " << (limits.write_timeout + 400ms).count()
       << " ms after the response began to arrive; a write deadline of " << limits.write_timeout.count()
       << " ms should have ended the response long before it was all sent. Did the write get a deadline of "
          "its own, or none at all?");
  CHECK(end.closed);
  CHECK(end.bytes < size);
}

TEST_CASE("a response written within the write deadline is not cut off by an earlier phase's deadline", "[AC3]")
{
  auto limits = scaled_limits();
  limits.header_timeout = 200ms;
  limits.write_timeout = 5000ms;
  running_server s(limits);
  plain_connection c(s.port, 64 * 1024);
  REQUIRE(c.connected());
  // Twice what can be in flight: the write is still going when the header
  // deadline passes.
  std::size_t const size = std::max<std::size_t>(8 * 1024 * 1024, 2 * tcp_wmem_max() + 1024 * 1024);

  REQUIRE(c.send(get("/big?bytes=" + std::to_string(size))));
  // Not reading for 500 ms: longer than the header deadline, which the
  // write must not inherit, well inside the write deadline.
  std::this_thread::sleep_for(500ms);
  auto const res = c.read_response(5000ms);
  INFO(res.error << ". The write deadline is " << limits.write_timeout.count() << " ms; the header deadline ("
       << limits.header_timeout.count() << " ms) had passed while the response was being written: did the "
       "write still run under it?");
  CHECK(res.status == 200);
  CHECK(res.body.size() == size);
}

// ---------------------------------------------------------------- AC4

TEST_CASE("an idle keep-alive connection is closed at the idle deadline, counted from the last response, "
          "and the client sees the FIN",
          "[AC4]")
{
  auto limits = scaled_limits();
  limits.idle_timeout = 800ms;  // header 200 ms
  running_server s(limits);
  plain_connection c(s.port);
  REQUIRE(c.connected());

  REQUIRE(c.send(get("/")));
  auto const first = c.read_response();
  REQUIRE(first.status == 200);
  REQUIRE(first.header("Connection").value_or("") != "close");

  // Waiting 300 ms between requests is allowed: longer than the header
  // deadline, inside the idle one.
  std::this_thread::sleep_for(300ms);
  REQUIRE(c.send(get("/")));
  auto const second = c.read_response();
  INFO(second.error << ". The connection waited 300 ms for its second request; the idle deadline is "
       << limits.idle_timeout.count() << " ms, the header deadline " << limits.header_timeout.count()
       << " ms: which one ran between the two requests?");
  REQUIRE(second.status == 200);

  // Then idle for good: closed at the idle deadline after the second
  // response, with a FIN (a clean close, not a reset).
  auto const start = clock_type::now();
  auto const end = c.wait_closed(3000ms, start);
  INFO(end.describe() << "; the idle deadline is " << limits.idle_timeout.count()
       << " ms after the last response");
  REQUIRE(end.closed);
  CHECK_FALSE(end.reset);
  CHECK(end.at >= limits.idle_timeout - 100ms);  // measured from the client's read, which the server's write precedes
  CHECK(end.at <= limits.idle_timeout + 300ms);
}

TEST_CASE("a connection that sends nothing after its response is not kept beyond the idle deadline", "[AC4]")
{
  auto limits = scaled_limits();
  limits.idle_timeout = 500ms;
  limits.header_timeout = 2000ms;  // longer than the idle deadline this time
  running_server s(limits);
  plain_connection c(s.port);
  REQUIRE(c.connected());
  REQUIRE(c.send(get("/")));
  REQUIRE(c.read_response().status == 200);

  auto const start = clock_type::now();
  auto const end = c.wait_closed(3000ms, start);
  INFO(end.describe() << "; the idle deadline is " << limits.idle_timeout.count() << " ms, the header deadline "
       << limits.header_timeout.count() << " ms: a close at the header deadline means the server waited for "
       "the next request under the header's deadline");
  REQUIRE(end.closed);
  CHECK_FALSE(end.reset);
  CHECK(end.at >= limits.idle_timeout - 100ms);  // measured from the client's read, which the server's write precedes
  CHECK(end.at <= limits.idle_timeout + 300ms);
}
