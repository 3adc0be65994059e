// Task 15 · acceptance tests for streaming: a million records go through
// while the test process's heap grows by less than 2 MiB [AC5]
// (workbook/heap.hpp counts every operator new of this process: the
// server's, the client's and the harness's, so the client here holds no
// body either); and the records are produced as the client takes them
// [AC6]: the client has the first before the server produces record 2000,
// and a client that pauses pauses the production.
#include "fixtures.hpp"

#include <workbook/heap.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <thread>

using namespace task15_test;
using namespace std::chrono_literals;

namespace {

std::string mib(std::size_t bytes)
{
  char text[32];
  std::snprintf(text, sizeof text, "%.2f MiB", static_cast<double>(bytes) / MiB);
  return text;
}

// What the heap gained since the measurement began, at its highest.
struct heap_watch {
  heap_watch()
  {
    workbook::heap::reset_peak();
    before = workbook::heap::live_bytes();
  }
  std::size_t growth() const
  {
    auto const peak = workbook::heap::peak_bytes();
    return peak > before ? peak - before : 0;
  }
  std::size_t before = 0;
};

void stream_with_bounded_heap(format f)
{
  auto const ndjson = f == format::ndjson;
  auto const n = big_stream;
  running_server s;
  stream_client client(s.port());
  REQUIRE(client.connected());
  stream_checker checker(f);

  heap_watch heap;
  REQUIRE(client.get("/records?n=" + std::to_string(n) + (ndjson ? "&format=ndjson" : "")));
  REQUIRE(client.status() == 200);
  auto const problem = read_and_check(client, checker, n);
  auto const growth = heap.growth();

  INFO("the client received " << checker.records() << " records, " << mib(client.body_bytes())
                              << "; the heap grew by " << mib(growth) << " at its highest (the bound is "
                              << mib(heap_bound) << ")");
  CHECK(problem == "");
  CHECK(growth < heap_bound);
  WARN("a stream of " << n << " records, " << mib(client.body_bytes()) << " (" << (ndjson ? "NDJSON" : "JSON")
                      << "): the heap grew by " << mib(growth) << " at its highest");
}

} // namespace

// ---------------------------------------------------------------- AC5

TEST_CASE("a JSON array of a million records streams while the heap grows by less than 2 MiB", "[AC5]")
{
  stream_with_bounded_heap(format::json);
}

TEST_CASE("a million NDJSON lines stream while the heap grows by less than 2 MiB", "[AC5]")
{
  stream_with_bounded_heap(format::ndjson);
}

// ---------------------------------------------------------------- AC6

TEST_CASE("the client parses the first record before the server produces record 2000, and a pause pauses the production",
          "[AC6]")
{
  // While the client pauses, the server can get as far ahead as the
  // sockets' buffers hold: the server's send buffer (at most tcp_wmem's
  // maximum, 4 MiB here) and the client's receive buffer (the kernel
  // doubles what was asked), at 28 bytes a record at the least, and the
  // batches in hand. The stream is three times that, so that a server that
  // does not stop stands out; the client reads only its beginning.
  auto const ahead_bound =
      (tcp_wmem_max() + 2 * static_cast<std::size_t>(small_receive_buffer)) / 28 + 2 * task15::batch_records;
  std::uint64_t const n = std::max<std::uint64_t>(500'000, 3 * ahead_bound);
  auto const hold = 2 * task15::batch_records;
  auto p = std::make_shared<production>(hold);
  running_server s(observed(p));
  stream_client client(s.port(), 5000ms, small_receive_buffer);
  REQUIRE(client.connected());
  REQUIRE(client.get("/records?n=" + std::to_string(n)));
  REQUIRE(client.status() == 200);

  // Read until the first record has been parsed, then say so: the source
  // holds record 2000 back until then (1 s at most).
  stream_checker checker(format::json);
  bool const first = read_records(client, checker, 1);
  {
    INFO(reading_problem(client, checker));
    REQUIRE(first);
  }
  p->client_has_first();
  {
    INFO("the server asked for record " << hold << " before the client had record 0: did it produce more than a "
                                           "batch before writing the first? (the source waited 1 s for the client)");
    REQUIRE_FALSE(p->produced_too_early());
  }

  // The client stops reading. The server fills the sockets' buffers, a few
  // MiB, and then has nowhere to put another record: it stops producing.
  std::this_thread::sleep_for(200ms);  // the pause itself, not a wait for an event
  auto const produced_in_pause = p->calls.load();
  auto const parsed_in_pause = checker.records();

  // It reads on for a while: the records go on where they stopped.
  bool const more = read_records(client, checker, checker.records() + 20000);
  INFO("the source had handed out " << produced_in_pause << " of " << n << " records when the client, with "
                                    << parsed_in_pause << " parsed, had paused for 200 ms; the sockets' buffers "
                                    << "hold " << ahead_bound << " records at most");
  CHECK(p->hold_reached);
  INFO("the server asked for record " << hold << " before the client had record 0 (the source waited 1 s)");
  CHECK(p->client_was_first);
  CHECK(produced_in_pause <= parsed_in_pause + ahead_bound);
  INFO(reading_problem(client, checker));
  CHECK(more);
  client.close();
}

TEST_CASE("the same with NDJSON: the first line is parsed before the server produces record 2000", "[AC6]")
{
  auto const hold = 2 * task15::batch_records;
  auto p = std::make_shared<production>(hold);
  running_server s(observed(p));
  stream_client client(s.port(), 5000ms, small_receive_buffer);
  REQUIRE(client.connected());
  REQUIRE(client.get("/records?n=100000&format=ndjson"));
  REQUIRE(client.status() == 200);

  stream_checker checker(format::ndjson);
  bool const first = read_records(client, checker, 1);
  {
    INFO(reading_problem(client, checker));
    REQUIRE(first);
  }
  p->client_has_first();
  {
    INFO("the server asked for record " << hold << " before the client had line 0 (the source waited 1 s)");
    REQUIRE_FALSE(p->produced_too_early());
  }

  auto const problem = read_and_check(client, checker, 100000);
  CHECK(p->hold_reached);
  INFO("the server asked for record " << hold << " before the client had line 0 (the source waited 1 s)");
  CHECK(p->client_was_first);
  CHECK(problem == "");
}
