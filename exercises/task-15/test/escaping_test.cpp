// Task 15 · acceptance tests for the records' fields [AC3]: a source of the
// test's own, whose names hold everything JSON makes a string escape and
// then some, and whose numbers sit at the limits of their types. Every
// field must come back exactly, in both formats, through both parsers.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

#include <limits>

using namespace task15_test;

namespace {

std::vector<task15::record> awkward_records()
{
  std::vector<std::string> names = {
      "",                         // nothing at all
      "\"",                       // a quote alone
      "\\",                       // a backslash alone
      "\\\"",                     // a backslash, then a quote: the quote still needs its own
      "say \"\\\" twice\\\\",     // quotes and backslashes mixed
      "\\u0041 is not A",         // a backslash-u that is text, not an escape
      "\\n is not a newline",
      "/ and </script>",          // a solidus needs nothing (\/ is allowed)
      "\x7f",                     // DEL is not a control character to JSON
      "caf\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80",  // café ☃ 😀
      "\xe2\x80\xa8\xe2\x80\xa9", // U+2028 and U+2029: valid in a JSON string as they are
  };
  // Each control character alone, and inside text.
  for (int c = 0; c < 0x20; ++c) {
    names.emplace_back(1, static_cast<char>(c));
    names.push_back("x" + std::string(1, static_cast<char>(c)) + "y");
  }
  std::string all;
  for (int c = 0; c < 0x20; ++c) all += static_cast<char>(c);
  names.push_back(all);
  // A long one, mostly escapes: its text is several times its size.
  std::string long_name;
  while (long_name.size() < 1000) long_name += "\"\\\n\x01\xc3\xa9-";
  names.push_back(long_name.substr(0, 1000));

  std::vector<task15::record> out;
  std::uint64_t const ids[] = {0, 1, std::numeric_limits<std::uint64_t>::max(), 4294967296u};
  std::int64_t const values[] = {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max(), 0,
                                 -1, 9007199254740993};  // 2^53 + 1: a double would round it
  for (std::size_t i = 0; i < names.size(); ++i)
    out.push_back({ids[i % std::size(ids)], names[i], values[i % std::size(values)]});
  return out;
}

void check_both_parsers(std::string const& body, format f, std::vector<task15::record> const& records)
{
  expected_records const expected = [&records](std::uint64_t i) {
    return i < records.size() ? records[i] : task15::record{};
  };
  CHECK(whole_body_problem(body, f, records.size(), expected) == "");
  stream_checker checker(f, expected);
  checker.feed(body);
  checker.finish();
  CHECK(checker.problem() == "");
  CHECK(checker.records() == records.size());
}

} // namespace

TEST_CASE("names with quotes, backslashes, every control character and more come back exactly, in both formats",
          "[AC3]")
{
  auto const records = awkward_records();
  auto const shared = std::make_shared<std::vector<task15::record>>(records);
  running_server s([shared](std::uint64_t i) { return i < shared->size() ? (*shared)[i] : task15::record{}; });
  stream_client client(s.port());
  REQUIRE(client.connected());
  for (auto const f : {format::json, format::ndjson}) {
    auto const ndjson = f == format::ndjson;
    INFO((ndjson ? "as NDJSON" : "as a JSON array"));
    REQUIRE(client.get("/records?n=" + std::to_string(records.size()) + (ndjson ? "&format=ndjson" : "")));
    REQUIRE(client.status() == 200);
    auto const body = client.read_rest();
    INFO(client.describe_error());
    REQUIRE(client.done());
    check_both_parsers(body, f, records);
  }
}

TEST_CASE("the generator's own awkward records survive a stream of 2000", "[AC3]")
{
  // make_record puts a quote, a backslash or control characters in every
  // fourth name or so, and int64's extremes in two records of every 1000.
  running_server s;
  stream_client client(s.port());
  REQUIRE(client.connected());
  for (auto const f : {format::json, format::ndjson}) {
    auto const ndjson = f == format::ndjson;
    INFO((ndjson ? "as NDJSON" : "as a JSON array"));
    REQUIRE(client.get(std::string("/records?n=2000") + (ndjson ? "&format=ndjson" : "")));
    REQUIRE(client.status() == 200);
    auto const body = client.read_rest();
    REQUIRE(client.done());
    CHECK(whole_body_problem(body, f, 2000) == "");
  }
}
