// Task 12 · acceptance tests for streaming: a response of 100 MB [AC7] and
// an upload of 48 MiB [AC8] pass through the proxy while the test process's
// heap grows by at most a few MiB (workbook/heap.hpp counts every operator
// new of this process: the proxy's, the test's and the harness's), and the
// first bytes arrive at the far end before the last have left the near
// one. The client and the backends here hold no body either: they move
// every body through one 64 KiB buffer and check each byte against a
// pattern (fixtures.hpp).
#include "fixtures.hpp"

#include <workbook/heap.hpp>

#include <catch2/catch.hpp>

using namespace task12_test;

namespace {

std::string mib(std::uint64_t bytes)
{
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / MiB);
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

} // namespace

// ---------------------------------------------------------------- AC7

TEST_CASE("a 100 MB response streams through with bounded memory, its first bytes at the client before the backend sends its last", "[AC7]")
{
  auto const size = big_response_bytes;
  auto progress = std::make_shared<source_progress>();
  auto backend = workbook::test_server::scripted(pattern_source(progress, size, /*chunked=*/false));
  running_proxy proxy(options_for(backend.port()));
  streaming_client client(proxy.port(), 5000ms, small_receive_buffer);
  REQUIRE(client.connected());

  heap_watch heap;
  REQUIRE(client.send(get_request("/api/big")));
  REQUIRE(client.read_header());
  CHECK(client.status() == 200);
  CHECK(client.header("Content-Length").value_or("(none)") == std::to_string(size));

  auto const first = client.read_some();
  REQUIRE_FALSE(first.empty());
  bool const first_ok = matches_pattern(0, first);
  std::uint64_t received = first.size();
  progress->client_has_first_bytes();

  // The client stops reading for a moment. Through a proxy that reads a
  // piece only once it has written the last, the backend soon has nowhere
  // to put its bytes; through one that reads whatever comes and queues it,
  // the backend sends everything but its last piece.
  bool const ran_ahead =
      workbook::eventually([&] { return progress->sent > received + download_ahead_bound; }, 300ms);
  std::uint64_t const ahead = progress->sent - received;

  bool const rest_ok = client.read_pattern(received);
  auto const growth = heap.growth();

  INFO("the client received " << mib(received) << " of " << mib(size) << (client.done() ? " (complete)" : "")
                              << "; the heap grew by " << mib(growth) << " at its highest; while the client paused, the "
                              << "backend got " << mib(ahead) << " ahead");
  CHECK(first_ok);
  CHECK(rest_ok);
  CHECK(client.done());
  CHECK(received == size);
  CHECK(growth < heap_bound);
  CHECK_FALSE(ran_ahead);
  // The backend held its last piece back until the client had its first bytes.
  CHECK(progress->waited_for_client);
  CHECK(progress->client_first_before_last);
}

TEST_CASE("a chunked response streams through the same way, framed again as chunks", "[AC7]")
{
  auto const size = chunked_response_bytes;
  auto progress = std::make_shared<source_progress>();
  auto backend = workbook::test_server::scripted(pattern_source(progress, size, /*chunked=*/true));
  running_proxy proxy(options_for(backend.port()));
  streaming_client client(proxy.port(), 5000ms, small_receive_buffer);
  REQUIRE(client.connected());

  heap_watch heap;
  REQUIRE(client.send(get_request("/api/chunked")));
  REQUIRE(client.read_header());
  CHECK(client.status() == 200);

  auto const first = client.read_some();
  REQUIRE_FALSE(first.empty());
  bool const first_ok = matches_pattern(0, first);
  std::uint64_t received = first.size();
  progress->client_has_first_bytes();
  bool const rest_ok = client.read_pattern(received);
  auto const growth = heap.growth();

  INFO("the client received " << mib(received) << " of " << mib(size) << (client.done() ? " (complete)" : "")
                              << "; the heap grew by " << mib(growth) << " at its highest");
  CHECK(first_ok);
  CHECK(rest_ok);
  CHECK(client.done());
  CHECK(received == size);
  CHECK(growth < heap_bound);
  CHECK(progress->client_first_before_last);
  // The client's connection is still good for another request.
  CHECK(client.header("Connection").value_or("") != "close");
}

// ---------------------------------------------------------------- AC8

namespace {

// Shared between the test and the upload backend's hook.
struct upload_progress {
  std::atomic<std::uint64_t> sent{0};        // body bytes the client has handed to its socket
  std::atomic<std::uint64_t> ahead{0};       // how far the client got while the backend paused
  std::atomic<bool> ran_ahead{false};
};

// While the backend pauses after its first piece, the client keeps
// sending: how far does it get?
std::function<void()> pause_and_watch(std::shared_ptr<upload_progress> progress, upload_sink const& sink)
{
  auto const* s = &sink;  // the sink outlives its own thread, which runs this
  return [progress, s] {
    std::uint64_t const received = s->received();
    progress->ran_ahead =
        workbook::eventually([&] { return progress->sent > received + upload_ahead_bound; }, 300ms);
    progress->ahead = progress->sent - received;
  };
}

} // namespace

TEST_CASE("a 48 MiB upload with a Content-Length streams to the backend with bounded memory, its first bytes there before the client sends its last", "[AC8]")
{
  auto const size = upload_bytes;
  auto progress = std::make_shared<upload_progress>();
  upload_sink sink;
  sink.on_first_piece(pause_and_watch(progress, sink));
  running_proxy proxy(options_for(sink.port()));
  streaming_client client(proxy.port(), 5000ms);
  REQUIRE(client.connected());

  heap_watch heap;
  REQUIRE(client.send("POST /api/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
                      "Content-Length: " + std::to_string(size) + "\r\n\r\n"));
  std::uint64_t sent = 0;
  bool send_ok = true;
  while (send_ok && size - sent > pattern_period) {
    send_ok = client.send_quietly(pattern_at(sent, pattern_period));
    sent += pattern_period;
    progress->sent = sent;
  }
  // The last piece waits until the backend has its first bytes.
  bool const backend_had_first = workbook::eventually([&] { return sink.first_bytes_seen(); }, 3000ms);
  if (send_ok) send_ok = client.send_quietly(pattern_at(sent, static_cast<std::size_t>(size - sent)));
  REQUIRE(send_ok);
  REQUIRE(client.read_header());
  auto const answer = client.read_rest();
  auto const growth = heap.growth();

  auto const reports = sink.reports();
  REQUIRE(reports.size() == 1);
  auto const& r = reports.front();
  INFO("the backend received " << mib(r.body_bytes) << " of " << mib(size) << (r.complete ? " (complete)" : "")
                               << (r.error.empty() ? "" : ", then: " + r.error) << "; the heap grew by " << mib(growth)
                               << " at its highest; while the backend paused, the client got " << mib(progress->ahead)
                               << " ahead\nthe backend saw:\n"
                               << show(r.headers));
  CHECK(client.status() == 200);
  CHECK(answer == "received " + std::to_string(size) + " bytes\n");
  CHECK(r.method == "POST");
  CHECK(r.target == "/upload");
  CHECK(values_of(r.headers, "Content-Length") == std::vector<std::string>{std::to_string(size)});
  CHECK(r.complete);
  CHECK(r.body_bytes == size);
  CHECK(r.pattern_ok);
  CHECK(growth < heap_bound);
  CHECK(backend_had_first);
  CHECK_FALSE(progress->ran_ahead);
}

TEST_CASE("a chunked upload streams to the backend the same way, framed again as chunks", "[AC8]")
{
  auto const size = upload_bytes;
  auto progress = std::make_shared<upload_progress>();
  upload_sink sink;
  running_proxy proxy(options_for(sink.port()));
  streaming_client client(proxy.port(), 5000ms);
  REQUIRE(client.connected());
  std::vector<char> chunk(pattern_period + 16);

  heap_watch heap;
  REQUIRE(client.send("POST /api/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n"));
  std::uint64_t sent = 0;
  bool send_ok = true;
  while (send_ok && size - sent > pattern_period) {
    send_ok = client.send_quietly(make_chunk(chunk, pattern_at(sent, pattern_period)));
    sent += pattern_period;
  }
  bool const backend_had_first = workbook::eventually([&] { return sink.first_bytes_seen(); }, 3000ms);
  if (send_ok) send_ok = client.send_quietly(make_chunk(chunk, pattern_at(sent, static_cast<std::size_t>(size - sent))));
  if (send_ok) send_ok = client.send("0\r\n\r\n");
  REQUIRE(send_ok);
  REQUIRE(client.read_header());
  auto const answer = client.read_rest();
  auto const growth = heap.growth();

  auto const reports = sink.reports();
  REQUIRE(reports.size() == 1);
  auto const& r = reports.front();
  INFO("the backend received " << mib(r.body_bytes) << " of " << mib(size) << (r.complete ? " (complete)" : "")
                               << (r.error.empty() ? "" : ", then: " + r.error) << "; the heap grew by " << mib(growth)
                               << " at its highest\nthe backend saw:\n"
                               << show(r.headers));
  CHECK(client.status() == 200);
  CHECK(answer == "received " + std::to_string(size) + " bytes\n");
  // The proxy frames the body itself: chunks of its own, no length.
  auto const te = values_of(r.headers, "Transfer-Encoding");
  CHECK(te.size() == 1);
  if (!te.empty()) CHECK(workbook::iequals(te.front(), "chunked"));
  CHECK(values_of(r.headers, "Content-Length").empty());
  CHECK(r.complete);
  CHECK(r.body_bytes == size);
  CHECK(r.pattern_ok);
  CHECK(growth < heap_bound);
  CHECK(backend_had_first);
}
