// Task 15 · acceptance tests for NDJSON [AC2]: a million lines, chunked,
// parsed line by line as they arrive; the counts at the edges of a batch,
// parsed whole by a second parser; format=json the same as no format.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

using namespace task15_test;

TEST_CASE("GET /records?n=1000000&format=ndjson is a million lines, one record each, every line ended", "[AC2]")
{
  running_server s;
  stream_client client(s.port());
  REQUIRE(client.connected());
  auto const n = big_stream;
  REQUIRE(client.get("/records?n=" + std::to_string(n) + "&format=ndjson"));
  INFO(stream_header_problem(client, "application/x-ndjson"));
  CHECK(stream_header_problem(client, "application/x-ndjson") == "");

  stream_checker checker(format::ndjson);
  auto const started = clock_type::now();
  auto const problem = read_and_check(client, checker, n);
  INFO("the client read " << client.body_bytes() << " bytes and " << checker.records() << " records in "
                          << since(started).count() << " ms");
  CHECK(problem == "");
  CHECK(checker.records() == n);

  REQUIRE(client.get("/records?n=2&format=ndjson"));
  auto const body = client.read_rest();
  INFO("the second response on the connection: " << client.describe_error());
  CHECK(client.done());
  CHECK(whole_body_problem(body, format::ndjson, 2) == "");
}

TEST_CASE("NDJSON of 0, 1, 1000 and 1001 records: as many lines, the last one ended too", "[AC2]")
{
  running_server s;
  stream_client client(s.port());
  REQUIRE(client.connected());
  for (std::uint64_t const n : {0u, 1u, 1000u, 1001u}) {
    INFO("GET /records?n=" << n << "&format=ndjson");
    REQUIRE(client.get("/records?format=ndjson&n=" + std::to_string(n)));
    CHECK(stream_header_problem(client, "application/x-ndjson") == "");
    auto const body = client.read_rest();
    INFO(client.describe_error());
    REQUIRE(client.done());
    CHECK(whole_body_problem(body, format::ndjson, n) == "");
    stream_checker checker(format::ndjson);
    checker.feed(body);
    checker.finish();
    CHECK(checker.problem() == "");
    CHECK(checker.records() == n);
  }
}

TEST_CASE("format=json is the JSON array, as without a format", "[AC2]")
{
  running_server s;
  stream_client client(s.port());
  REQUIRE(client.connected());
  REQUIRE(client.get("/records?n=20&format=json"));
  CHECK(stream_header_problem(client, "application/json") == "");
  auto const body = client.read_rest();
  REQUIRE(client.done());
  CHECK(whole_body_problem(body, format::json, 20) == "");
}
