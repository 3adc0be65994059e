// Task 17 · [AC5]: after the hand-off no HTTP deadline touches the socket.
// With request_timeout and write_timeout at 100 ms and echo_timeout at 3 s,
// a client that pauses for several HTTP deadlines after the 101 (between
// lines, or in the middle of one) still gets its lines echoed. Waiting past
// a deadline is the point of these tests: each pause is a bounded read that
// must see nothing, measured against the configured durations. And before
// the upgrade, the HTTP deadline still applies.
#include "fixtures.hpp"

#include <workbook/eventually.hpp>

#include <catch2/catch.hpp>

using namespace task17_test;
using namespace std::chrono_literals;

namespace {

task17::upgrade_options short_http_deadlines()
{
  auto options = test_options();
  options.request_timeout = 100ms;
  options.write_timeout = 100ms;
  options.echo_timeout = 3000ms;
  return options;
}

} // namespace

TEST_CASE("a pause of four HTTP deadlines after the 101 does not end the echo", "[AC5]")
{
  running_server s(short_http_deadlines());
  auto o = open_echo(s.port);
  INFO(o.describe());
  REQUIRE(o.upgraded());
  auto& c = *o.client;

  bool const quiet = c.stays_quiet(400ms);
  INFO("request_timeout and write_timeout 100 ms, echo_timeout 3000 ms: during a pause of 400 ms after the 101 "
       << (quiet ? "nothing happened" : c.ended ? "the server closed the connection" : "bytes arrived: " + printable(c.unread()))
       << ". Which deadline did the echo's first read run under?");
  REQUIRE(quiet);
  CHECK(round_trip(c, "still here") == expected_reply("still here"));

  // A pause in the middle of a line.
  REQUIRE(c.send("half"));
  bool const still_quiet = c.stays_quiet(300ms);
  INFO("half a line, then a pause of 300 ms: "
       << (still_quiet ? "nothing happened" : c.ended ? "the server closed the connection" : "bytes arrived: " + printable(c.unread())));
  REQUIRE(still_quiet);
  REQUIRE(c.send(" a line\n"));
  auto const reply = c.read_line(1000ms);
  INFO("then \" a line\\n\": " << printable(reply.value_or("(no reply)")));
  CHECK(reply.value_or("") == expected_reply("half a line"));
  CHECK(s.echo_connections() == 1);
}

TEST_CASE("a line sent with the request, a long pause, then another line", "[AC5]")
{
  running_server s(short_http_deadlines());
  auto o = open_with(s.port, upgrade_request() + "sent with the request\n");
  INFO(o.describe());
  REQUIRE(o.upgraded());
  auto& c = *o.client;
  REQUIRE(c.read_line(1000ms).value_or("") == expected_reply("sent with the request"));
  bool const quiet = c.stays_quiet(400ms);
  INFO("after the first reply, a pause of 400 ms (request_timeout 100 ms): "
       << (quiet ? "nothing happened" : c.ended ? "the server closed the connection" : "bytes arrived: " + printable(c.unread())));
  REQUIRE(quiet);
  CHECK(round_trip(c, "after the pause") == expected_reply("after the pause"));
}

TEST_CASE("before the upgrade, request_timeout still ends half a request", "[AC5]")
{
  auto options = short_http_deadlines();
  options.request_timeout = 150ms;
  running_server s(options);
  line_client c(s.port);
  REQUIRE(c.connected());
  auto const start = clock_type::now();
  REQUIRE(c.send("GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: echo\r\n"));  // and no more
  bool const closed = c.wait_closed(1500ms);
  auto const took = between(start, c.ended_at);
  INFO("request_timeout 150 ms; half a request, then nothing: "
       << (closed ? "the server closed the connection after " + std::to_string(took.count()) + " ms"
                  : "the connection was still open after 1500 ms")
       << ". The HTTP deadlines end with the hand-off, not before it.");
  REQUIRE(closed);
  CHECK(took >= 150ms);
  CHECK(took <= 1500ms);
}
