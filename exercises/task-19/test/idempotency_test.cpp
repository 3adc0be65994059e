// Task 19 · acceptance tests for which requests may be sent twice and which
// answers are worth it [AC2]: the idempotent methods and requests with an
// Idempotency-Key are retried; POST and PATCH are sent once; a 4xx is an
// answer, never a reason to try again.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

using namespace task19_test;
using namespace std::chrono_literals;

TEST_CASE("a POST that gets a 500 is sent once, and the 500 comes back", "[AC2]")
{
  scripted_upstream upstream({status(500), status(200)});
  retry_log log;
  rig r(upstream.port(), test_options(log));

  // A body and no body_factory: the retrier has no reason to complain,
  // since a POST is never sent twice.
  auto const res = round_trip(r, make_request(http::verb::post, "/orders", "one order"));
  INFO(describe(res));
  INFO(log.describe());
  REQUIRE(res);
  REQUIRE_FALSE(res->ec);
  CHECK(res->response.result_int() == 500);
  CHECK(res->response.body() == answer_body(1));
  CHECK(upstream.requests() == 1);
  CHECK(log.size() == 0);
}

TEST_CASE("PATCH, and POST after a 503 or a transport failure, are sent once too", "[AC2]")
{
  struct one_case {
    http::verb method;
    answer first;
  };
  for (auto const& c : {one_case{http::verb::patch, status(500)}, one_case{http::verb::post, status(503, {{"Retry-After", "0"}})},
                        one_case{http::verb::post, failure(asio::error::connection_reset)}}) {
    retry_log log;
    rig r({c.first, status(200)}, test_options(log));
    auto const res = round_trip(r, make_request(c.method, "/thing"));
    INFO(http::to_string(c.method) << ": " << describe(res));
    INFO(log.describe());
    REQUIRE(res);
    if (c.first.failure) {
      CHECK(res->ec == c.first.failure);
    } else {
      REQUIRE_FALSE(res->ec);
      CHECK(res->response.result_int() == static_cast<unsigned>(c.first.status));
    }
    CHECK(r.fake().count() == 1);
  }
}

TEST_CASE("a POST with an Idempotency-Key is retried, the key on every attempt", "[AC2]")
{
  scripted_upstream upstream({status(500), status(500), status(200)});
  retry_log log;
  rig r(upstream.port(), test_options(log));

  auto request = make_request(http::verb::post, "/payments", "pay 10", [] { return std::string("pay 10"); });
  request.message.set("Idempotency-Key", "8e03978e-40d5-43e8-bc93-6894a57f9324");
  auto const res = round_trip(r, std::move(request));
  INFO(describe(res));
  INFO(log.describe());
  REQUIRE(res);
  REQUIRE_FALSE(res->ec);
  CHECK(res->response.result_int() == 200);
  CHECK(upstream.requests() == 3);
  for (auto const& seen : upstream.seen()) {
    CHECK(seen.method == "POST");
    CHECK(seen.header("Idempotency-Key") == std::optional<std::string>("8e03978e-40d5-43e8-bc93-6894a57f9324"));
  }
}

TEST_CASE("GET, HEAD, OPTIONS, TRACE, PUT and DELETE are retried after a 500", "[AC2]")
{
  for (auto method : {http::verb::get, http::verb::head, http::verb::options, http::verb::trace, http::verb::put,
                      http::verb::delete_}) {
    retry_log log;
    rig r({status(500), status(200)}, test_options(log));
    auto const res = round_trip(r, make_request(method, "/resource"));
    INFO(http::to_string(method) << ": " << describe(res));
    INFO(log.describe());
    REQUIRE(res);
    REQUIRE_FALSE(res->ec);
    CHECK(res->response.result_int() == 200);
    CHECK(r.fake().count() == 2);
  }
}

TEST_CASE("a 4xx is never retried, 400, 404, 409 and 429 come back at once", "[AC2]")
{
  SECTION("over a real upstream, a 404")
  {
    scripted_upstream upstream({status(404), status(200)});
    retry_log log;
    rig r(upstream.port(), test_options(log));
    auto const res = round_trip(r, get("/missing"));
    INFO(describe(res));
    INFO(log.describe());
    REQUIRE(res);
    REQUIRE_FALSE(res->ec);
    CHECK(res->response.result_int() == 404);
    CHECK(upstream.requests() == 1);
  }
  SECTION("400, 409 and 429 with a Retry-After, and 1xx to 3xx answers")
  {
    for (auto const& first : {status(400), status(409), status(429, {{"Retry-After", "1"}}), status(418), status(301),
                              status(204), status(103)}) {
      retry_log log;
      rig r({first, status(200)}, test_options(log));
      auto const res = round_trip(r, get("/"));
      INFO(first.status << ": " << describe(res));
      INFO(log.describe());
      REQUIRE(res);
      REQUIRE_FALSE(res->ec);
      CHECK(res->response.result_int() == static_cast<unsigned>(first.status));
      CHECK(r.fake().count() == 1);
      CHECK(log.size() == 0);
    }
  }
}
