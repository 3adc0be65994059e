// Task 17 · [AC2]: the echo protocol. Lines come back uppercased (ASCII
// a-z only), in order, each reply ended by "\n": lines sent one at a time,
// many in one segment, ended by CRLF or LF, split across segments, long;
// and a line longer than max_line closes the connection.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

using namespace task17_test;
using namespace std::chrono_literals;

TEST_CASE("lines sent one at a time come back uppercased, in order", "[AC2]")
{
  running_server s;
  auto o = open_echo(s.port);
  INFO(o.describe());
  REQUIRE(o.upgraded());
  std::vector<std::string> const lines = {
      "hello",
      "Hello, World!",
      "digits 0123456789 and punctuation `@[{|}~",
      "",
      "na\xc3\xafve caf\xc3\xa9 \xe2\x82\xac",  // UTF-8 bytes are not ASCII letters
      "tab\there",
      "the seventh line",
  };
  for (auto const& line : lines) {
    auto const reply = round_trip(*o.client, line);
    INFO("sent " << printable(line + "\n") << ", got " << printable(reply));
    CHECK(reply == expected_reply(line));
  }
}

TEST_CASE("twenty lines in one segment come back as twenty replies, in order", "[AC2]")
{
  running_server s;
  auto o = open_echo(s.port);
  INFO(o.describe());
  REQUIRE(o.upgraded());
  std::string batch;
  for (int i = 1; i <= 20; ++i) batch += "line " + std::to_string(i) + " of twenty\n";
  REQUIRE(o.client->send(batch));
  for (int i = 1; i <= 20; ++i) {
    auto const reply = o.client->read_line(1000ms);
    INFO("reply " << i << ": " << printable(reply.value_or("(none)")) << "; not yet read: "
                  << printable(o.client->unread()));
    REQUIRE(reply);
    CHECK(*reply == expected_reply("line " + std::to_string(i) + " of twenty"));
  }
}

TEST_CASE("CRLF and LF both end a line, and every reply ends in LF", "[AC2]")
{
  running_server s;
  auto o = open_echo(s.port);
  INFO(o.describe());
  REQUIRE(o.upgraded());
  struct sent {
    std::string line, end;
  };
  for (auto const& [line, end] : std::vector<sent>{
           {"ended by crlf", "\r\n"},
           {"ended by lf", "\n"},
           {"a lone\rcr inside", "\r\n"},
           {"", "\r\n"},
           {"a\rb", "\n"},
       }) {
    auto const reply = round_trip(*o.client, line, end);
    INFO("sent " << printable(line + end) << ", got " << printable(reply)
                 << ". The line is what comes before its \\n, without a \\r just before it.");
    CHECK(reply == expected_reply(line));
  }
}

TEST_CASE("a line split across segments, even between CR and LF, is one reply", "[AC2]")
{
  running_server s;
  auto o = open_echo(s.port);
  INFO(o.describe());
  REQUIRE(o.upgraded());
  REQUIRE(o.client->send_pieces({"hel", "lo, wor", "ld\r", "\n"}));
  auto const first = o.client->read_line(1000ms);
  INFO("sent \"hel\" | \"lo, wor\" | \"ld\\r\" | \"\\n\" as four segments; got " << printable(first.value_or("(none)")));
  CHECK(first.value_or("") == expected_reply("hello, world"));
  REQUIRE(o.client->send_pieces({"x", "y", "z\nand a second", " line\n"}));
  auto const second = o.client->read_line(1000ms);
  auto const third = o.client->read_line(1000ms);
  INFO("sent \"x\" | \"y\" | \"z\\nand a second\" | \" line\\n\"; got " << printable(second.value_or("(none)")) << " and "
                                                                      << printable(third.value_or("(none)")));
  CHECK(second.value_or("") == expected_reply("xyz"));
  CHECK(third.value_or("") == expected_reply("and a second line"));
  // And nothing else: a reply per line, not per segment.
  CHECK(o.client->stays_quiet(50ms));
  INFO("bytes after the replies: " << printable(o.client->unread()));
  CHECK(o.client->unread().empty());
}

TEST_CASE("a line of 60,000 bytes comes back whole", "[AC2]")
{
  running_server s;
  auto o = open_echo(s.port);
  INFO(o.describe());
  REQUIRE(o.upgraded());
  std::string line;
  while (line.size() < 60000) line += "the quick brown fox jumps over the lazy dog " + std::to_string(line.size()) + "; ";
  line.resize(60000);
  REQUIRE(o.client->send(line + "\n"));
  auto const reply = o.client->read_line(2000ms);
  REQUIRE(reply);
  INFO("a reply of " << reply->size() << " bytes, " << printable(*reply, 120));
  CHECK(*reply == expected_reply(line));
  // The connection goes on after it.
  CHECK(round_trip(*o.client, "after the long one") == expected_reply("after the long one"));
}

TEST_CASE("a line of max_line bytes is echoed; one byte more closes the connection", "[AC2]")
{
  auto options = test_options();
  options.max_line = 1000;
  running_server s(options);

  // Exactly max_line, ended by CRLF: the CR is the line end's, not the line's.
  {
    auto o = open_echo(s.port);
    INFO(o.describe());
    REQUIRE(o.upgraded());
    std::string const line(1000, 'q');
    CHECK(round_trip(*o.client, line, "\r\n") == expected_reply(line));
  }
  // One byte more, with its line end: no reply, the connection closed.
  {
    auto o = open_echo(s.port);
    INFO(o.describe());
    REQUIRE(o.upgraded());
    REQUIRE(o.client->send(std::string(1001, 'q') + "\n"));
    bool const closed = o.client->wait_closed(1000ms);
    INFO("a line of 1001 bytes with max_line 1000; received " << printable(o.client->unread(), 80)
                                                                << (closed ? "; the connection closed" : "; still open"));
    CHECK(closed);
    CHECK(o.client->unread().find('\n') == std::string::npos);
  }
  // Far more, and no line end at all: the server must not wait for one.
  {
    auto o = open_echo(s.port);
    INFO(o.describe());
    REQUIRE(o.upgraded());
    REQUIRE(o.client->send(std::string(5000, 'q')));
    bool const closed = o.client->wait_closed(1000ms);
    INFO("5000 bytes and no line end, with max_line 1000: "
         << (closed ? "the connection closed" : "the connection is still open after 1000 ms")
         << ". A line that is already too long will never end well: stop buffering it.");
    CHECK(closed);
  }
}
