// Task 15 · acceptance tests for the end of a stream that does not end:
// a client that leaves mid-stream stops the production and frees its
// session [AC7]; a client that stops reading is cut off stall_timeout after
// the server's last progress, while one that reads slowly but steadily is
// served to the end [AC8].
#include "fixtures.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace task15_test;
using namespace std::chrono_literals;

namespace {

// The production stands still for `quiet` (the server's write is waiting
// for room in the socket), within `within`; false if it never does.
bool production_settles(production const& p, milliseconds quiet, milliseconds within)
{
  auto const deadline = clock_type::now() + within;
  auto last = p.calls.load();
  auto still_since = clock_type::now();
  while (clock_type::now() < deadline) {
    std::this_thread::sleep_for(5ms);
    auto const now = p.calls.load();
    if (now != last) {
      last = now;
      still_since = clock_type::now();
    } else if (clock_type::now() - still_since >= quiet) {
      return true;
    }
  }
  return false;
}

// The production has stopped: the count does not move for `window`.
// Sleeping is the point here: a window in which nothing may happen.
bool production_stays(production const& p, milliseconds window)
{
  auto const before = p.calls.load();
  std::this_thread::sleep_for(window);
  return p.calls.load() == before;
}

} // namespace

// ---------------------------------------------------------------- AC7

TEST_CASE("a client that disconnects mid-stream stops the production, and its session is freed", "[AC7]")
{
  auto p = std::make_shared<production>();
  running_server s(observed(p), test_options(), /*threads=*/2);
  {
    stream_client client(s.port());
    REQUIRE(client.connected());
    REQUIRE(client.get("/records?n=" + std::to_string(task15::max_records)));
    REQUIRE(client.status() == 200);
    stream_checker checker(format::json);
    bool const read = read_records(client, checker, 1000);
    INFO(reading_problem(client, checker));
    REQUIRE(read);
    CHECK(s.server.live_sessions() == 1);
    client.close();
  }
  auto const left = clock_type::now();
  bool const freed = workbook::eventually([&] { return s.server.live_sessions() == 0; }, 1000ms);
  INFO("after the client left, " << s.server.live_sessions() << " session(s) alive after " << since(left).count()
                                 << " ms; the source had handed out " << p->calls.load() << " of "
                                 << task15::max_records << " records");
  CHECK(freed);
  CHECK(production_stays(*p, 200ms));
  CHECK(p->calls.load() < task15::max_records / 10);

  // The server goes on serving.
  stream_client next(s.port());
  REQUIRE(next.connected());
  REQUIRE(next.get("/records?n=10"));
  auto const body = next.read_rest();
  CHECK(next.done());
  CHECK(whole_body_problem(body, format::json, 10) == "");
}

TEST_CASE("a client that disconnects right after the header stops the production too", "[AC7]")
{
  auto p = std::make_shared<production>();
  running_server s(observed(p), test_options(), /*threads=*/2);
  {
    stream_client client(s.port());
    REQUIRE(client.connected());
    REQUIRE(client.get("/records?n=" + std::to_string(task15::max_records) + "&format=ndjson"));
    REQUIRE(client.status() == 200);
    client.close();
  }
  bool const freed = workbook::eventually([&] { return s.server.live_sessions() == 0; }, 1000ms);
  INFO("the source had handed out " << p->calls.load() << " records; " << s.server.live_sessions()
                                    << " session(s) alive");
  CHECK(freed);
  CHECK(production_stays(*p, 200ms));
  CHECK(p->calls.load() < task15::max_records / 10);
}

// ---------------------------------------------------------------- AC8

TEST_CASE("a client that stops reading without closing is cut off stall_timeout after the last progress", "[AC8]")
{
  auto constexpr stall = 200ms;
  auto p = std::make_shared<production>();
  running_server s(observed(p), test_options(stall));
  stream_client client(s.port(), 5000ms, small_receive_buffer);
  REQUIRE(client.connected());
  auto const asked = clock_type::now();
  REQUIRE(client.get("/records?n=" + std::to_string(task15::max_records)));
  REQUIRE(client.status() == 200);
  stream_checker checker(format::json);
  bool const read = read_records(client, checker, 1000);
  {
    INFO(reading_problem(client, checker));
    REQUIRE(read);
  }

  // The client reads nothing more and keeps the connection open. The
  // server fills the sockets' buffers, and its next write waits. (Its last
  // progress came after the request, so the cut comes stall_timeout after
  // the request at the earliest.)
  auto const stopped = clock_type::now();
  bool const cut = workbook::eventually([&] { return s.server.live_sessions() == 0; }, 2000ms);
  auto const after = since(stopped);
  auto const after_request = since(asked);
  INFO("the client stopped reading; " << (cut ? "its session ended " : "its session was still alive ")
                                      << after.count() << " ms later, " << after_request.count()
                                      << " ms after the request, with stall_timeout " << stall.count()
                                      << " ms; the source had handed out " << p->calls.load() << " records");
  CHECK(cut);
  CHECK(after_request >= stall);
  CHECK(after <= 1500ms);
  CHECK(production_stays(*p, 100ms));
  CHECK(p->calls.load() < task15::max_records / 10);
}

TEST_CASE("a client that reads in spurts, pausing whenever the server has filled the sockets, gets all of a "
          "stream several times longer than stall_timeout",
          "[AC8]")
{
  // The client reads half a send buffer's worth (a writer blocked on a full
  // send buffer is woken once about a third of it has drained), then stops
  // until the production has stood still for 40 ms: the server's write is
  // waiting for room. Then it reads on. Each wait is far shorter than
  // stall_timeout; the stream, ten spurts or more, is several times longer.
  auto constexpr stall = 300ms;
  auto constexpr n = 400000u;
  auto p = std::make_shared<production>();
  running_server s(observed(p), test_options(stall));
  stream_client client(s.port(), 5000ms, small_receive_buffer);
  REQUIRE(client.connected());
  REQUIRE(client.get("/records?n=" + std::to_string(n)));
  REQUIRE(client.status() == 200);

  auto const spurt = tcp_wmem_max() / 2;
  std::uint64_t next_pause = spurt;
  int waits = 0;
  auto const started = clock_type::now();
  for (auto piece = client.read_some(); !piece.empty(); piece = client.read_some()) {
    if (client.body_bytes() < next_pause) continue;
    if (production_settles(*p, 40ms, 2000ms)) ++waits;
    next_pause = client.body_bytes() + spurt;
  }
  auto const took = since(started);
  INFO("the client read " << client.body_bytes() << " bytes of " << n << " records in " << took.count()
                          << " ms, stopping " << waits << " times until the server waited for it, with stall_timeout "
                          << stall.count() << " ms: " << (client.done() ? "the whole stream" : client.describe_error()));
  CHECK(client.done());
  CHECK(client.body_bytes() >= n * 28);  // {"id":0,"name":"","value":0} at least
  CHECK(took >= 2 * stall);
}
