// Task 14 · [AC2] without a network: format_event() against the contract's
// bytes, and against the HTML standard's parser, which must hand back the
// data an EventSource would see.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <utility>
#include <vector>

using namespace task14_test;

TEST_CASE("format_event writes the id line, one data line per line of data, and the blank line", "[AC2]")
{
  struct example {
    std::uint64_t id;
    std::string data;
    std::string bytes;
  };
  std::vector<example> const examples = {
      {7, "tick", "id: 7\ndata: tick\n\n"},
      {1, "two\nlines", "id: 1\ndata: two\ndata: lines\n\n"},
      {2, "crlf\r\nends", "id: 2\ndata: crlf\ndata: ends\n\n"},
      {3, "a lone\rcarriage return", "id: 3\ndata: a lone\ndata: carriage return\n\n"},
      {8, "a\r\nb\rc", "id: 8\ndata: a\ndata: b\ndata: c\n\n"},
      {4, "", "id: 4\ndata: \n\n"},
      {5, "ends with a break\n", "id: 5\ndata: ends with a break\ndata: \n\n"},
      {6, "\n\n", "id: 6\ndata: \ndata: \ndata: \n\n"},
      {9, "\r\r\n\n", "id: 9\ndata: \ndata: \ndata: \ndata: \n\n"},
      {10, " leading space: kept", "id: 10\ndata:  leading space: kept\n\n"},
      {11, "id: 99\n: not a comment", "id: 11\ndata: id: 99\ndata: : not a comment\n\n"},
      {12, "caf\xc3\xa9 \xe2\x9c\x93", "id: 12\ndata: caf\xc3\xa9 \xe2\x9c\x93\n\n"},
      {18446744073709551614ull, "max", "id: 18446744073709551614\ndata: max\n\n"},
  };
  for (auto const& e : examples) {
    auto const got = task14::format_event(e.id, e.data);
    INFO("format_event(" << e.id << ", \"" << printable(e.data) << "\")\n  gave     \"" << printable(got)
                         << "\"\n  expected \"" << printable(e.bytes) << "\"");
    CHECK(got == e.bytes);
  }
}

TEST_CASE("what format_event writes, read by the standard's parser, is the event's id and data", "[AC2]")
{
  // Random data from an alphabet of line breaks, spaces, colons and letters,
  // seeded: a failure names the data that broke it.
  std::mt19937 rng(1414);
  std::string const alphabet = "ab :\r\n\r\n";
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1), length(0, 12);
  sse_parser parser;
  std::vector<std::pair<std::uint64_t, std::string>> sent;
  for (std::uint64_t id = 1; id <= 300; ++id) {
    std::string data;
    for (std::size_t n = length(rng); n > 0; --n) data += alphabet[pick(rng)];
    auto const bytes = task14::format_event(id, data);
    INFO("format_event(" << id << ", \"" << printable(data) << "\") gave \"" << printable(bytes) << "\"");
    REQUIRE(bytes == expected_event(id, data));
    parser.feed(bytes, clock_type::now());
    sent.emplace_back(id, data);
  }
  // Every event is dispatched, in order, even one whose data is empty: its
  // "data: " line makes it an event (a block without any data line is not).
  std::size_t next = 0;
  for (auto const& [id, data] : sent) {
    INFO("event " << id << ", data \"" << printable(data) << "\"");
    REQUIRE(next < parser.events.size());
    CHECK(parser.events[next].id == std::to_string(id));
    CHECK(parser.events[next].data == data_as_received(data));
    CHECK(parser.events[next].type == "message");
    ++next;
  }
  CHECK(parser.events.size() == next);
  CHECK(parser.comments.empty());
}
