// Task 14 · [AC8]: 200 streams at once on a server whose io_context one
// thread runs. Every stream waits between its events; none of them may make
// the others wait.
#include "fixtures.hpp"

#include <workbook/eventually.hpp>
#include <workbook/heap.hpp>

#include <catch2/catch.hpp>

using namespace task14_test;
using namespace std::chrono_literals;

TEST_CASE("200 streams on one thread each get their events on time", "[AC8]")
{
  constexpr std::size_t streams = 200;
  constexpr std::size_t events = 3;
  auto options = test_options();
  options.tick = 50ms;
  running_server s(options, /*threads=*/1);
  auto const heap_before = workbook::heap::live_bytes();

  std::vector<std::unique_ptr<sse_connection>> clients;
  std::vector<clock_type::time_point> opened;
  for (std::size_t i = 0; i < streams; ++i) {
    clients.push_back(open_stream(s.port, {}, "/events", 0, /*quiet=*/true));
    opened.push_back(clock_type::now());
    REQUIRE(clients.back()->connected());
  }

  // Read them all as their bytes arrive, until each has its events.
  auto complete = [&](sse_connection const& c) { return c.parser.events.size() >= events; };
  auto const deadline = clock_type::now() + 6000ms;
  std::size_t done = 0;
  std::size_t most_streams = 0;
  while (clock_type::now() < deadline) {
    std::vector<pollfd> fds;
    for (auto const& c : clients) fds.push_back({c->fd(), POLLIN, 0});
    ::poll(fds.data(), fds.size(), 20);
    done = 0;
    for (auto& c : clients) {
      c->pump();
      if (complete(*c)) ++done;
    }
    most_streams = std::max(most_streams, s.open_streams());
    if (done == streams) break;
  }
  auto const heap_with_streams = workbook::heap::live_bytes();

  // How long each client waited for its third event, from its request.
  milliseconds slowest{0};
  std::size_t wrong = 0;
  std::string first_wrong;
  for (std::size_t i = 0; i < streams; ++i) {
    auto const& c = *clients[i];
    if (!complete(c)) continue;
    slowest = std::max(slowest, between(opened[i], c.parser.events[events - 1].at));
    bool ok = c.framing_error.empty() && c.chunks.size() >= events;
    for (std::uint64_t id = 1; ok && id <= events; ++id) ok = c.chunks[id - 1].data == expected_event(id, tick_data(id));
    if (!ok && wrong++ == 0) first_wrong = "client " + std::to_string(i + 1) + ": " + c.describe();
  }
  INFO(done << " of " << streams << " streams got " << events << " events; the slowest took " << slowest.count()
            << " ms from its request (the tick is " << options.tick.count() << " ms); open_streams() reached "
            << most_streams << ". One thread runs the server: does anything in a stream block it?");
  CHECK(done == streams);
  CHECK(slowest <= 3000ms);
  CHECK(most_streams == streams);
  INFO(first_wrong);
  CHECK(wrong == 0);
  if (heap_with_streams > heap_before)
    WARN("the server held about " << (heap_with_streams - heap_before) / streams
                                  << " bytes of heap per stream (with the test's own clients)");

  // And when they all go, every stream is freed.
  for (auto& c : clients) c->close();
  bool const freed = workbook::eventually([&] { return s.open_streams() == 0; }, 2000ms);
  INFO("after all 200 clients closed, open_streams() is " << s.open_streams());
  CHECK(freed);
}
