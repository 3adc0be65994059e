// Task 17 · [AC3]: bytes sent with the request. A client need not wait for
// the 101 before it sends its first lines: whatever arrived in the same
// segment as the request (and the HTTP reader has already taken from the
// socket) must reach the echo protocol.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

using namespace task17_test;
using namespace std::chrono_literals;

TEST_CASE("a line sent in the same segment as the upgrade request is echoed first", "[AC3]")
{
  running_server s;
  auto o = open_with(s.port, upgrade_request() + "sent with the request\n");
  INFO(o.describe());
  REQUIRE(o.upgraded());
  auto const first = o.client->read_line(1000ms);
  INFO("the request and \"sent with the request\\n\" went out as one segment; after the 101 came "
       << printable(first.value_or("nothing") + o.client->unread())
       << ". Where were those bytes when the request was parsed?");
  CHECK(first.value_or("") == expected_reply("sent with the request"));
  CHECK(round_trip(*o.client, "and one after") == expected_reply("and one after"));
}

TEST_CASE("several lines and half a line sent with the request all survive", "[AC3]")
{
  running_server s;
  auto o = open_with(s.port, upgrade_request() + "one\ntwo\r\nthr");
  INFO(o.describe());
  REQUIRE(o.upgraded());
  auto const one = o.client->read_line(1000ms);
  auto const two = o.client->read_line(1000ms);
  INFO("sent with the request: \"one\\ntwo\\r\\nthr\"; got " << printable(one.value_or("(none)")) << " and "
                                                             << printable(two.value_or("(none)")));
  CHECK(one.value_or("") == expected_reply("one"));
  CHECK(two.value_or("") == expected_reply("two"));
  REQUIRE(o.client->send("ee\n"));
  auto const three = o.client->read_line(1000ms);
  INFO("then \"ee\\n\"; got " << printable(three.value_or("(none)")) << ": \"thr\" was the start of this line");
  CHECK(three.value_or("") == expected_reply("three"));
  CHECK(round_trip(*o.client, "four") == expected_reply("four"));
}

TEST_CASE("two hundred lines sent with the request all come back, in order", "[AC3]")
{
  running_server s;
  std::string lines;
  for (int i = 1; i <= 200; ++i) lines += "pipelined line number " + std::to_string(i) + "\n";
  auto o = open_with(s.port, upgrade_request() + lines);
  INFO(o.describe());
  REQUIRE(o.upgraded());
  int good = 0;
  for (int i = 1; i <= 200; ++i) {
    auto const reply = o.client->read_line(1000ms);
    if (reply && *reply == expected_reply("pipelined line number " + std::to_string(i))) {
      ++good;
      continue;
    }
    INFO("reply " << i << " of 200: " << printable(reply.value_or("(none)")));
    CHECK(reply.value_or("") == expected_reply("pipelined line number " + std::to_string(i)));
    break;
  }
  CHECK(good == 200);
}

TEST_CASE("a request answered 426, then the upgrade and a line, all in one segment", "[AC3]")
{
  running_server s;
  line_client c(s.port);
  REQUIRE(c.connected());
  // Three things at once: a request that gets a 426, the upgrade, a line.
  REQUIRE(c.send(request_text("/echo", {}) + upgrade_request() + "after two requests\n"));
  auto const refused = c.read_response(1000ms);
  INFO("the first response: " << (refused ? printable(refused->head.raw) : "none; received " + printable(c.unread())));
  REQUIRE(refused);
  CHECK(refused->head.status == 426);
  auto const switched = c.read_head(1000ms);
  INFO("the second response: " << (switched ? printable(switched->raw) : "none; received " + printable(c.unread())));
  REQUIRE(switched);
  CHECK(switched->status == 101);
  auto const line = c.read_line(1000ms);
  INFO("then " << printable(line.value_or("(nothing)")));
  CHECK(line.value_or("") == expected_reply("after two requests"));
}
