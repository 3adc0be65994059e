// Task 17 · [AC4]: the echo protocol owns the connection's lifetime. Its own
// deadline closes an idle connection, is renewed by every line (and only by
// a whole line), bounds every reply's write; a client that leaves or ends
// its side is noticed at once, and its session freed.
#include "fixtures.hpp"

#include <workbook/eventually.hpp>

#include <catch2/catch.hpp>

using namespace task17_test;
using namespace std::chrono_literals;

TEST_CASE("an idle echo connection is closed echo_timeout after its last line", "[AC4]")
{
  auto options = test_options();
  options.echo_timeout = 300ms;
  running_server s(options);
  auto o = open_echo(s.port);
  INFO(o.describe());
  REQUIRE(o.upgraded());
  auto& c = *o.client;
  for (int i = 1; i <= 5; ++i) REQUIRE(round_trip(c, "line " + std::to_string(i)) == expected_reply("line " + std::to_string(i)));
  REQUIRE(workbook::eventually([&] { return s.echo_connections() == 1; }, 1000ms));
  auto const last = c.last_sent_at;
  bool const closed = c.wait_closed(2000ms);
  auto const took = between(last, c.ended_at);
  INFO("echo_timeout 300 ms; after the last line the connection "
       << (closed ? "was closed after " + std::to_string(took.count()) + " ms" : "was still open after 2000 ms")
       << ". Does the echo protocol have a deadline of its own, armed for each line?");
  REQUIRE(closed);
  CHECK(took >= 300ms);
  CHECK(took <= 1300ms);
  bool const freed = workbook::eventually([&] { return s.echo_connections() == 0; }, 1000ms);
  INFO("echo_connections() is " << s.echo_connections() << " after the close");
  CHECK(freed);
}

TEST_CASE("every line renews the deadline, so a busy client stays connected", "[AC4]")
{
  auto options = test_options();
  options.echo_timeout = 300ms;
  running_server s(options);
  auto o = open_echo(s.port);
  INFO(o.describe());
  REQUIRE(o.upgraded());
  auto& c = *o.client;
  auto const start = clock_type::now();
  // A line every 50 ms for more than two and a half deadlines.
  for (int i = 1; i <= 16; ++i) {
    if (i > 1) std::this_thread::sleep_for(50ms);
    auto const reply = round_trip(c, "busy line " + std::to_string(i));
    INFO("line " << i << ", " << since(start).count() << " ms after the 101, a line every 50 ms with echo_timeout "
                 << "300 ms: " << printable(reply) << ". Is the deadline renewed for each line, or set once?");
    REQUIRE(reply == expected_reply("busy line " + std::to_string(i)));
  }
  auto const last = c.last_sent_at;
  bool const closed = c.wait_closed(2000ms);
  auto const took = between(last, c.ended_at);
  INFO("then idle: " << (closed ? "closed after " + std::to_string(took.count()) + " ms" : "still open after 2000 ms"));
  CHECK(closed);
  CHECK(took >= 300ms);
}

TEST_CASE("a client that dribbles a line a byte at a time is cut off at echo_timeout", "[AC4]")
{
  auto options = test_options();
  options.echo_timeout = 300ms;
  running_server s(options);
  line_client c(s.port);
  REQUIRE(c.connected());
  auto const asked = clock_type::now();
  REQUIRE(c.send(upgrade_request()));
  auto const head = c.read_head(1000ms);
  INFO("the response head: " << (head ? printable(head->raw) : "(none)"));
  REQUIRE(head);
  REQUIRE(head->status == 101);
  // A byte every 25 ms, never a line end: bytes, but no line.
  int sent = 0;
  while (!c.ended && since(asked) < 2000ms) {
    sent += static_cast<int>(c.send_some("z"));
    c.wait_closed(25ms);
  }
  auto const took = between(asked, c.ended_at);
  INFO("echo_timeout 300 ms; the client sent " << sent << " bytes of one line, one every 25 ms; the connection "
       << (c.ended ? "was closed " + std::to_string(took.count()) + " ms after the request" : "was still open after 2000 ms")
       << ". A deadline renewed by every read is renewed by every byte.");
  CHECK(c.ended);
  CHECK(took >= 300ms);
  CHECK(took <= 1300ms);
}

TEST_CASE("a client that stops reading is cut off when a reply cannot be written", "[AC4]")
{
  auto options = test_options();
  options.echo_timeout = 300ms;
  running_server s(options);
  line_client c(s.port, 8 * 1024);  // a small window: the replies back up quickly
  REQUIRE(c.connected());
  REQUIRE(c.send(upgrade_request()));
  auto const head = c.read_head(1000ms);
  REQUIRE(head);
  REQUIRE(head->status == 101);
  REQUIRE(workbook::eventually([&] { return s.echo_connections() == 1; }, 1000ms));

  // Lines, and never a read: the replies fill the client's window and the
  // server's send buffer, its write stalls, and it stops reading; then the
  // client's sends stall too.
  std::string block;
  while (block.size() < 64 * 1024) block += std::string(1023, 'w') + "\n";
  std::size_t total = 0, offset = 0;
  auto const start = clock_type::now();
  auto progress = start;
  while (since(start) < 8000ms && since(progress) < 200ms && s.echo_connections() == 1) {
    auto const n = c.send_some(std::string_view(block).substr(offset));
    if (n > 0) {
      total += n;
      offset = (offset + n) % block.size();
      progress = clock_type::now();
    } else {
      std::this_thread::sleep_for(1ms);
    }
  }
  auto const stalled = clock_type::now();
  bool const freed = workbook::eventually([&] { return s.echo_connections() == 0; }, 2000ms);
  INFO("the client sent " << total / 1024 << " KiB of lines and read nothing; " << since(stalled).count()
       << " ms after its sends stalled echo_connections() is " << s.echo_connections()
       << ". Does a reply's write have a deadline too, or only the wait for a line?");
  CHECK(freed);
}

TEST_CASE("a client that closes is noticed at once, and its echo session freed", "[AC4]")
{
  auto options = test_options();
  options.echo_timeout = 5000ms;  // the deadline is far away
  running_server s(options);
  auto o = open_echo(s.port);
  INFO(o.describe());
  REQUIRE(o.upgraded());
  REQUIRE(round_trip(*o.client, "goodbye") == expected_reply("goodbye"));
  REQUIRE(workbook::eventually([&] { return s.echo_connections() == 1; }, 1000ms));
  auto const start = clock_type::now();
  o.client->close();
  bool const freed = workbook::eventually([&] { return s.echo_connections() == 0; }, 1000ms);
  INFO("after the client's FIN, echo_connections() was " << s.echo_connections() << " after " << since(start).count()
       << " ms, with echo_timeout 5000 ms. Who still holds the session: a read, or a timer nobody cancelled?");
  CHECK(freed);
  // The server goes on serving.
  auto next = open_echo(s.port);
  INFO(next.describe());
  REQUIRE(next.upgraded());
  CHECK(round_trip(*next.client, "hello again") == expected_reply("hello again"));
}

TEST_CASE("a client that ends its side gets replies to its whole lines, then the end", "[AC4]")
{
  running_server s;
  auto o = open_echo(s.port);
  INFO(o.describe());
  REQUIRE(o.upgraded());
  auto& c = *o.client;
  REQUIRE(c.send("first\nsecond\r\nthird\nand half a line"));
  c.shutdown_send();
  for (auto const* line : {"first", "second", "third"}) {
    auto const reply = c.read_line(1000ms);
    INFO("after the client's FIN: " << printable(reply.value_or("(no reply)")));
    CHECK(reply.value_or("") == expected_reply(line));
  }
  bool const closed = c.wait_closed(1000ms);
  INFO("then " << (closed ? "the server closed the connection" : "the connection stayed open") << "; unread: "
               << printable(c.unread()));
  CHECK(closed);
  CHECK(c.unread().empty());  // half a line is not a line
  CHECK(workbook::eventually([&] { return s.echo_connections() == 0; }, 1000ms));
}
