// Task 14 · acceptance tests for a stream's life: its deadlines and what its
// writes read from [AC6], and its end when the client goes [AC7].
#include "fixtures.hpp"

#include <workbook/eventually.hpp>

#include <catch2/catch.hpp>

#include <malloc.h>

#include <thread>

using namespace task14_test;
using namespace std::chrono_literals;

namespace {

// Large data, different for every id, with no line breaks: an event bigger
// than the socket's buffers, which one write call cannot take whole.
std::string big_data(std::uint64_t id)
{
  std::string const unit = "event " + std::to_string(id) + " | ";
  std::string out;
  out.reserve(300 * 1024 + unit.size());
  while (out.size() < 300 * 1024) out += unit;
  return out;
}

std::string stalled_data(std::uint64_t id) { return std::string(64 * 1024, 's') + std::to_string(id); }

// While it lives, memory given back to malloc is overwritten at once
// (glibc's M_PERTURB), so bytes read from a buffer after it was freed come
// out as 'Z's instead of, by luck, as they were.
class perturbed_free {
public:
  perturbed_free() { ::mallopt(M_PERTURB, 'Z'); }
  ~perturbed_free() { ::mallopt(M_PERTURB, 0); }
  perturbed_free(perturbed_free const&) = delete;
  perturbed_free& operator=(perturbed_free const&) = delete;
};

// Where two strings first differ, for a failure message.
std::string first_difference(std::string const& got, std::string const& expected)
{
  std::size_t at = 0;
  while (at < got.size() && at < expected.size() && got[at] == expected[at]) ++at;
  if (at == got.size() && at == expected.size()) return "equal";
  return "they differ from byte " + std::to_string(at) + " of " + std::to_string(expected.size()) + ": got \"" +
         printable(got.substr(at, 40)) + "\", expected \"" + printable(expected.substr(at, 40)) + "\"";
}

} // namespace

// ---------------------------------------------------------------- AC6

TEST_CASE("a stream outlives the server's request and write deadlines", "[AC6]")
{
  auto options = test_options();
  options.tick = 50ms;
  options.request_timeout = 150ms;
  options.write_timeout = 150ms;
  running_server s(options);
  auto c = open_stream(s.port);
  REQUIRE(c->connected());
  // 16 events take 750 ms: five times either deadline.
  c->read_events(16, 3000ms);
  INFO(c->describe() << "\nThe request and write deadlines are 150 ms; a stream must not inherit either. Cut off "
                        "near 150 ms: is a deadline still armed for the read that waits for the client, or for the "
                        "writes?");
  CHECK(c->parser.events.size() >= 16);
  CHECK(ids_of(c->parser.events) == sequence(1, c->parser.events.size()));
  CHECK_FALSE(c->ended);
  CHECK(s.open_streams() == 1);
}

TEST_CASE("a client that stops reading is cut off when one write cannot finish within write_timeout", "[AC6]")
{
  auto options = test_options();
  options.tick = 5ms;
  options.write_timeout = 200ms;
  options.data = stalled_data;  // 64 KiB a tick: the socket's buffers fill in a few ticks
  running_server s(options);
  auto c = open_stream(s.port, {}, "/events", 16 * 1024);
  REQUIRE(c->connected());
  REQUIRE(c->read_head(1000ms));
  REQUIRE(workbook::eventually([&] { return s.open_streams() == 1; }, 1000ms));
  // The client reads nothing more: the server's writes stall.
  auto const start = clock_type::now();
  bool const freed = workbook::eventually([&] { return s.open_streams() == 0; }, 3000ms);
  INFO("the client stopped reading; after " << since(start).count() << " ms open_streams() is " << s.open_streams()
       << ". A write that cannot finish within write_timeout (" << options.write_timeout.count()
       << " ms) ends the stream: does each write have that deadline, or none at all?");
  CHECK(freed);
  // What the server had handed the kernel still arrives, then the end.
  bool const ended = c->read_to_end(3000ms);
  INFO(c->describe());
  CHECK(ended);
}

TEST_CASE("events larger than the socket's buffers arrive whole and intact", "[AC6]")
{
  perturbed_free scribble;  // before the server starts: no other thread allocates yet
  auto options = test_options();
  options.tick = 5ms;
  options.write_timeout = 5000ms;
  options.data = big_data;
  running_server s(options);
  // A small receive buffer, and a client that takes its time (16 KiB a
  // millisecond): every event needs many writes, most of them long after the
  // write began, and each takes longer than a tick.
  auto c = open_stream(s.port, {}, "/events", 32 * 1024);
  REQUIRE(c->connected());
  auto const deadline = clock_type::now() + 8000ms;
  while (c->chunks.size() < 5 && c->framing_error.empty() && !c->ended && clock_type::now() < deadline) {
    c->pump(16 * 1024);
    std::this_thread::sleep_for(1ms);
  }
  INFO("the response: status " << c->status << ", " << c->chunks.size() << " chunks"
       << (c->framing_error.empty() ? "" : "; FRAMING: " + c->framing_error) << (c->ended ? "; it ended" : ""));
  REQUIRE(c->framing_error.empty());
  REQUIRE(c->chunks.size() >= 5);
  for (std::uint64_t id = 1; id <= 5; ++id) {
    auto const expected = expected_event(id, big_data(id));
    auto const& got = c->chunks[id - 1].data;
    INFO("event " << id << " (" << expected.size() << " bytes): " << first_difference(got, expected)
         << ". Bytes that turn into 'Z's were read from memory that had been freed: what does the write read "
            "from, and does it live until the write's handler runs?");
    CHECK(got == expected);
  }
}

// ---------------------------------------------------------------- AC7

TEST_CASE("a client that closes its connection between events is noticed at once, and its stream freed", "[AC7]")
{
  auto options = test_options();
  options.tick = 2000ms;  // the next write is 2 s away
  running_server s(options);
  auto c = open_stream(s.port);
  REQUIRE(c->connected());
  REQUIRE(c->read_events(1, 1000ms));
  REQUIRE(workbook::eventually([&] { return s.open_streams() == 1; }, 1000ms));

  auto const start = clock_type::now();
  c->close();
  bool const freed = workbook::eventually([&] { return s.open_streams() == 0; }, 1000ms);
  auto const took = since(start);
  INFO("after the client's FIN, open_streams() was " << s.open_streams() << " after " << took.count()
       << " ms; the next event was 2000 ms away. Is a read pending to see the FIN, and does the end of the stream "
          "cancel the timer that would keep the session alive until the next tick?");
  CHECK(freed);
  CHECK(took <= 250ms);

  // The server goes on serving.
  auto d = open_stream(s.port);
  CHECK(d->read_events(1, 1000ms));
}

TEST_CASE("a client that resets its connection between events is noticed at once, and its stream freed", "[AC7]")
{
  auto options = test_options();
  options.tick = 2000ms;
  running_server s(options);
  auto c = open_stream(s.port);
  REQUIRE(c->connected());
  REQUIRE(c->read_events(1, 1000ms));
  REQUIRE(workbook::eventually([&] { return s.open_streams() == 1; }, 1000ms));

  auto const start = clock_type::now();
  c->abort();
  bool const freed = workbook::eventually([&] { return s.open_streams() == 0; }, 1000ms);
  auto const took = since(start);
  INFO("after the client's reset, open_streams() was " << s.open_streams() << " after " << took.count() << " ms");
  CHECK(freed);
  CHECK(took <= 250ms);
  auto d = open_stream(s.port);
  CHECK(d->read_events(1, 1000ms));
}

TEST_CASE("clients that stop reading and then vanish crash nothing, and every stream is freed", "[AC7]")
{
  auto options = test_options();
  options.tick = 5ms;
  options.data = stalled_data;
  running_server s(options);
  // Twenty clients that read a little and then stop while 64 KiB events
  // pour in, filling the buffers between them and the server; then half of
  // them close (with unread bytes: the kernel answers with a reset), half
  // reset.
  std::vector<std::unique_ptr<sse_connection>> clients;
  for (int i = 0; i < 20; ++i) clients.push_back(open_stream(s.port, {}, "/events", 64 * 1024, /*quiet=*/true));
  for (auto& c : clients) REQUIRE(c->read_events(1, 2000ms));
  bool const all_open = workbook::eventually([&] { return s.open_streams() == 20; }, 1000ms);
  INFO("20 streams receiving; open_streams() is " << s.open_streams());
  REQUIRE(all_open);
  std::this_thread::sleep_for(100ms);  // twenty ticks of 64 KiB
  for (std::size_t i = 0; i < clients.size(); ++i) {
    if (i % 2 == 0) clients[i]->close();
    else clients[i]->abort();
  }
  bool const freed = workbook::eventually([&] { return s.open_streams() == 0; }, 2000ms);
  INFO("20 clients gone; open_streams() is " << s.open_streams());
  CHECK(freed);
  auto d = open_stream(s.port);
  CHECK(d->read_events(3, 1000ms));
  CHECK(ids_of(d->parser.events) == sequence(1, d->parser.events.size()));
}
