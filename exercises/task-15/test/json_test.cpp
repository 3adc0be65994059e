// Task 15 · acceptance tests for the JSON array [AC1]: a million records,
// chunked, parsed as they arrive and each compared with make_record; the
// counts at the edges of a batch, each body parsed whole by a second parser;
// and the connection, good for another request once a stream has ended.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

using namespace task15_test;

TEST_CASE("GET /records?n=1000000 is one JSON array of the million records, in order, chunked", "[AC1]")
{
  running_server s;
  stream_client client(s.port());
  REQUIRE(client.connected());
  auto const n = big_stream;
  REQUIRE(client.get("/records?n=" + std::to_string(n)));
  INFO(stream_header_problem(client, "application/json"));
  CHECK(stream_header_problem(client, "application/json") == "");

  stream_checker checker(format::json);
  auto const started = clock_type::now();
  auto const problem = read_and_check(client, checker, n);
  INFO("the client read " << client.body_bytes() << " bytes and " << checker.records() << " records in "
                          << since(started).count() << " ms");
  CHECK(problem == "");
  CHECK(checker.records() == n);

  // The last chunk ended the body: the connection carries the next request.
  REQUIRE(client.get("/records?n=3"));
  CHECK(stream_header_problem(client, "application/json") == "");
  auto const body = client.read_rest();
  INFO("the second response on the connection: " << client.describe_error());
  CHECK(client.done());
  CHECK(whole_body_problem(body, format::json, 3) == "");
}

TEST_CASE("the counts at the edges of a batch: 0, 1, 999, 1000, 1001 and 2500 records, one connection", "[AC1]")
{
  running_server s;
  stream_client client(s.port());
  REQUIRE(client.connected());
  for (std::uint64_t const n : {0u, 1u, 999u, 1000u, 1001u, 2500u}) {
    INFO("GET /records?n=" << n);
    REQUIRE(client.get("/records?n=" + std::to_string(n)));
    CHECK(stream_header_problem(client, "application/json") == "");
    auto const body = client.read_rest();
    INFO(client.describe_error());
    REQUIRE(client.done());
    CHECK(whole_body_problem(body, format::json, n) == "");
    // The same bytes through the incremental checker, cut where they came.
    stream_checker checker(format::json);
    checker.feed(body);
    checker.finish();
    CHECK(checker.problem() == "");
    CHECK(checker.records() == n);
  }
}
