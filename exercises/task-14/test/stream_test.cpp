// Task 14 · acceptance tests for the stream itself: its head [AC1], its
// bytes on the wire [AC2], its pace [AC3], its ids after a reconnect [AC4]
// and its heartbeat [AC5]. Every client reads the chunked body strictly and
// keeps each chunk with the moment it arrived (fixtures.hpp).
#include "fixtures.hpp"

#include <workbook/test_client.hpp>

#include <catch2/catch.hpp>

#include <regex>
#include <thread>

using namespace task14_test;
using namespace std::chrono_literals;

namespace {

// Data with every kind of line break, a leading space, an empty line and a
// trailing break, different for each id.
std::string varied_data(std::uint64_t id)
{
  auto const n = std::to_string(id);
  switch (id % 4) {
    case 1: return "event " + n + "\nsecond line";
    case 2: return "crlf\r\nand a lone\rcr " + n;
    case 3: return " leading space\n\nafter an empty line " + n + "\n";
    default: return "plain " + n;
  }
}

// What a chunk holds, for a failure message.
std::string chunk_list(sse_connection const& c, std::size_t max = 8)
{
  std::string out;
  for (std::size_t i = 0; i < c.chunks.size() && i < max; ++i)
    out += "\n  chunk " + std::to_string(i + 1) + ": \"" + printable(c.chunks[i].data, 120) + "\"";
  if (c.chunks.size() > max) out += "\n  ... (" + std::to_string(c.chunks.size()) + " chunks)";
  return out;
}

} // namespace

// ---------------------------------------------------------------- AC1

TEST_CASE("GET /events answers 200 text/event-stream, Cache-Control: no-cache, chunked, without Content-Length",
          "[AC1]")
{
  running_server s;
  auto c = open_stream(s.port);
  REQUIRE(c->connected());
  REQUIRE(c->read_head(1000ms));
  INFO(c->describe());
  CHECK(c->status == 200);
  CHECK(c->header("Content-Type").value_or("(none)") == "text/event-stream");
  CHECK(c->header("Cache-Control").value_or("(none)") == "no-cache");
  CHECK(c->header("Transfer-Encoding").value_or("(none)") == "chunked");
  CHECK_FALSE(c->header("Content-Length"));
  // And the body that follows really is chunked: an event arrives as one.
  REQUIRE(c->read_events(1, 1000ms));
  CHECK(c->chunked);
  CHECK(c->framing_error.empty());
}

TEST_CASE("the stream's path ignores a query string; other targets and methods answer 404", "[AC1]")
{
  running_server s;
  auto c = open_stream(s.port, {}, "/events?lang=en");
  REQUIRE(c->connected());
  REQUIRE(c->read_head(1000ms));
  INFO(c->describe());
  CHECK(c->status == 200);
  CHECK(c->header("Content-Type").value_or("(none)") == "text/event-stream");

  workbook::test_client client(s.port);
  auto const other = client.get("/events/more");
  INFO(other.error);
  CHECK(other.status == 404);
  workbook::request post;
  post.method = "POST";
  post.target = "/events";
  post.body = "x";
  CHECK(client.send(post).status == 404);
}

// ---------------------------------------------------------------- AC2

TEST_CASE("on the wire, the retry line and every event are one chunk each, byte for byte, and nothing else",
          "[AC2]")
{
  auto options = test_options();
  options.tick = 20ms;
  options.retry = 40ms;
  options.data = varied_data;
  running_server s(options);
  auto c = open_stream(s.port);
  REQUIRE(c->connected());
  c->read_until([&] { return c->chunks.size() >= 9 || !c->framing_error.empty(); }, 2000ms);
  INFO(c->describe() << chunk_list(*c, 10));
  REQUIRE(c->status == 200);
  REQUIRE(c->chunked);
  REQUIRE(c->framing_error.empty());
  REQUIRE(c->chunks.size() >= 9);

  // The retry line, then events 1 to 8, each exactly as the contract writes it.
  std::string expected_body = "retry: 40\n\n";
  CHECK(c->chunks[0].data == "retry: 40\n\n");
  for (std::uint64_t id = 1; id <= 8; ++id) {
    auto const expected = expected_event(id, varied_data(id));
    INFO("chunk " << id + 1 << " should be event " << id << ": \"" << printable(expected) << "\"");
    CHECK(c->chunks[id].data == expected);
    expected_body += expected;
  }
  CHECK(c->body.substr(0, expected_body.size()) == expected_body);

  // Read by the standard's parser, each event is what an EventSource hands
  // its onmessage handler.
  REQUIRE(c->parser.events.size() >= 8);
  for (std::uint64_t id = 1; id <= 8; ++id) {
    auto const& e = c->parser.events[id - 1];
    INFO("event " << id << " as parsed: id \"" << e.id << "\", data \"" << printable(e.data) << "\"");
    CHECK(e.id == std::to_string(id));
    CHECK(e.data == data_as_received(varied_data(id)));
  }
  CHECK(c->parser.retry.value_or("(none)") == "40");
  CHECK(c->parser.comments.empty());
}

// ---------------------------------------------------------------- AC3

TEST_CASE("one event per tick, in order, each written as it falls due", "[AC3]")
{
  auto options = test_options();
  options.tick = 80ms;
  running_server s(options);
  auto const asked = clock_type::now();
  auto c = open_stream(s.port);
  REQUIRE(c->connected());
  REQUIRE(c->read_events(6, 3000ms));
  INFO(c->describe() << chunk_list(*c));
  REQUIRE(c->framing_error.empty());

  auto const ids = ids_of(c->parser.events);
  INFO("ids: " << list(ids));
  CHECK(std::vector<std::uint64_t>(ids.begin(), ids.begin() + 6) == sequence(1, 6));
  // One chunk per event, and the data the source gave.
  REQUIRE(c->chunks.size() >= 6);
  for (std::uint64_t id = 1; id <= 6; ++id) CHECK(c->chunks[id - 1].data == expected_event(id, tick_data(id)));

  // Event k is due (k - 1) ticks after the request: it may arrive later (the
  // client may be slow to read), never sooner. And the sixth not much later.
  std::string arrivals;
  for (std::size_t k = 0; k < 6; ++k) arrivals += " " + std::to_string(between(asked, c->parser.events[k].at).count());
  INFO("events 1 to 6 arrived at" << arrivals << " ms after the request; the tick is " << options.tick.count()
                                  << " ms");
  for (std::size_t k = 1; k < 6; ++k) CHECK(between(asked, c->parser.events[k].at) >= static_cast<int>(k) * options.tick - 2ms);
  CHECK(between(asked, c->parser.events[5].at) <= 5 * options.tick + 600ms);
}

TEST_CASE("without an event source, each event's data is the server's time in UTC", "[AC3]")
{
  auto options = test_options();
  options.data = nullptr;
  running_server s(options);
  auto c = open_stream(s.port);
  REQUIRE(c->connected());
  REQUIRE(c->read_events(2, 2000ms));
  INFO(c->describe());
  std::regex const utc(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)");
  for (auto const& e : c->parser.events) {
    INFO("data \"" << printable(e.data) << "\"");
    CHECK(std::regex_match(e.data, utc));
  }
  CHECK(ids_of(c->parser.events) == sequence(1, c->parser.events.size()));
}

// ---------------------------------------------------------------- AC4

TEST_CASE("a stream with Last-Event-ID: n resumes at n + 1, skipping exactly the events already seen", "[AC4]")
{
  running_server s;
  std::vector<std::uint64_t> const seen_ids = {41, 0, 1, 1000000000000};
  std::vector<std::unique_ptr<sse_connection>> clients;  // all at once
  for (auto const seen : seen_ids) clients.push_back(open_stream(s.port, {{"Last-Event-ID", std::to_string(seen)}}));
  for (std::size_t i = 0; i < seen_ids.size(); ++i) {
    auto const seen = seen_ids[i];
    auto& c = clients[i];
    REQUIRE(c->connected());
    REQUIRE(c->read_events(3, 2000ms));
    INFO("Last-Event-ID: " << seen << "; " << c->describe() << chunk_list(*c));
    CHECK(ids_of(c->parser.events) == sequence(seen + 1, c->parser.events.size()));
    for (std::uint64_t i = 0; i < 3 && i < c->chunks.size(); ++i)
      CHECK(c->chunks[i].data == expected_event(seen + 1 + i, tick_data(seen + 1 + i)));
  }
}

TEST_CASE("a stream without a usable Last-Event-ID starts at 1", "[AC4]")
{
  running_server s;
  std::vector<std::optional<std::string>> const values = {
      std::nullopt, "", "abc", "-3", "12x", "7 8", "18446744073709551615", "99999999999999999999"};
  std::vector<std::unique_ptr<sse_connection>> clients;  // all at once
  for (auto const& value : values) {
    workbook::header_list extra;
    if (value) extra.emplace_back("Last-Event-ID", *value);
    clients.push_back(open_stream(s.port, extra));
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    auto const& value = values[i];
    auto& c = clients[i];
    REQUIRE(c->connected());
    REQUIRE(c->read_events(2, 2000ms));
    INFO((value ? "Last-Event-ID: \"" + *value + "\"" : std::string("no Last-Event-ID")) << "; " << c->describe());
    CHECK(ids_of(c->parser.events) == sequence(1, c->parser.events.size()));
  }
}

TEST_CASE("every stream counts its own ids: streams open at once never share a sequence", "[AC4]")
{
  running_server s;
  auto a = open_stream(s.port);
  REQUIRE(a->read_events(3, 2000ms));
  auto b = open_stream(s.port, {{"Last-Event-ID", "100"}});
  REQUIRE(b->read_events(2, 2000ms));
  auto c = open_stream(s.port);
  REQUIRE(c->read_events(2, 2000ms));
  REQUIRE(a->read_events(5, 2000ms));
  INFO("A (no Last-Event-ID): " << list(ids_of(a->parser.events)) << "\nB (Last-Event-ID: 100): "
                                << list(ids_of(b->parser.events)) << "\nC (no Last-Event-ID, opened while A and B were "
                                << "streaming): " << list(ids_of(c->parser.events)));
  CHECK(ids_of(a->parser.events) == sequence(1, a->parser.events.size()));
  CHECK(ids_of(b->parser.events) == sequence(101, b->parser.events.size()));
  CHECK(ids_of(c->parser.events) == sequence(1, c->parser.events.size()));
}

// ---------------------------------------------------------------- AC5

TEST_CASE("a quiet stream gets a heartbeat comment, a chunk of its own, each time heartbeat passes", "[AC5]")
{
  auto options = test_options();
  options.tick = 10s;  // one event, then nothing is due for a long time
  options.heartbeat = 60ms;
  running_server s(options);
  auto const asked = clock_type::now();
  auto c = open_stream(s.port);
  REQUIRE(c->connected());
  c->read_until([&] { return c->chunks.size() >= 5; }, 2000ms);
  INFO(c->describe() << chunk_list(*c));
  REQUIRE(c->framing_error.empty());
  REQUIRE(c->chunks.size() >= 5);
  CHECK(c->chunks[0].data == expected_event(1, tick_data(1)));
  for (std::size_t i = 1; i < 5; ++i) CHECK(c->chunks[i].data == std::string(task14::heartbeat_comment));
  // Four heartbeats after the event: four quiet periods after the request,
  // no fewer (the client may read late, never early), not much more.
  auto const fourth = between(asked, c->chunks[4].at);
  INFO("the fourth heartbeat came " << fourth.count() << " ms after the request; heartbeat is "
                                    << options.heartbeat.count() << " ms");
  CHECK(fourth >= 4 * options.heartbeat - 2ms);
  CHECK(fourth <= 4 * options.heartbeat + 600ms);
  // A client ignores them: one event, and comments.
  CHECK(c->parser.events.size() == 1);
  CHECK(c->parser.comments.size() >= 4);
}

TEST_CASE("a stream busy with events gets no heartbeat; between slow events, heartbeats leave the events intact",
          "[AC5]")
{
  SECTION("events every 40 ms, heartbeat 100 ms: the stream is never quiet for 100 ms")
  {
    auto options = test_options();
    options.tick = 40ms;
    options.heartbeat = 100ms;
    running_server s(options);
    auto c = open_stream(s.port);
    REQUIRE(c->connected());
    REQUIRE(c->read_events(10, 3000ms));
    INFO(c->describe() << chunk_list(*c, 12));
    CHECK(c->parser.comments.empty());
    CHECK(c->chunks.size() == c->parser.events.size());
  }
  SECTION("events every 200 ms, heartbeat 70 ms: one to three heartbeats between two events")
  {
    auto options = test_options();
    options.tick = 200ms;
    options.heartbeat = 70ms;
    running_server s(options);
    auto c = open_stream(s.port);
    REQUIRE(c->connected());
    REQUIRE(c->read_events(3, 3000ms));
    INFO(c->describe() << chunk_list(*c, 12));
    REQUIRE(c->framing_error.empty());
    CHECK(ids_of(c->parser.events) == sequence(1, c->parser.events.size()));
    for (std::size_t i = 0; i < c->parser.events.size(); ++i)
      CHECK(c->parser.events[i].data == tick_data(i + 1));
    // Count the heartbeats between consecutive events.
    std::vector<int> between_events;
    for (auto const& ch : c->chunks) {
      if (ch.data.rfind("id: ", 0) == 0) between_events.push_back(0);
      else if (ch.data == task14::heartbeat_comment && !between_events.empty()) ++between_events.back();
    }
    REQUIRE(between_events.size() >= 3);
    for (std::size_t i = 0; i + 1 < 3; ++i) {
      INFO("heartbeats between event " << i + 1 << " and event " << i + 2 << ": " << between_events[i]);
      CHECK(between_events[i] >= 1);
      CHECK(between_events[i] <= 3);
    }
  }
}

TEST_CASE("heartbeat 0 writes no heartbeat", "[AC5]")
{
  auto options = test_options();
  options.tick = 10s;
  options.heartbeat = 0ms;
  running_server s(options);
  auto c = open_stream(s.port);
  REQUIRE(c->connected());
  REQUIRE(c->read_events(1, 2000ms));
  c->read_until([&] { return c->chunks.size() > 1; }, 300ms);
  INFO(c->describe() << chunk_list(*c));
  CHECK(c->chunks.size() == 1);
  CHECK(c->parser.comments.empty());
}
