// Task 19 · acceptance tests for request bodies [AC7]: the first attempt
// sends the request's own body, every later one a body the request's
// body_factory makes again, with the same method, target and fields; a
// body without a factory can be sent once, and a retry it would need ends
// the call with retry_error::body_not_replayable after one request.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

using namespace task19_test;
using namespace std::chrono_literals;

TEST_CASE("a retried PUT sends the factory's body on every later attempt", "[AC7]")
{
  scripted_upstream upstream({status(500), status(500), status(200)});
  retry_log log;
  rig r(upstream.port(), test_options(log));

  // The factory makes the same document each time, numbered so that the
  // test sees which attempt carried which copy.
  auto made = std::make_shared<std::atomic<int>>(0);
  auto request = make_request(http::verb::put, "/documents/7", "{\"title\": \"draft\"}", [made] {
    return "{\"title\": \"draft\", \"copy\": " + std::to_string(made->fetch_add(1) + 1) + "}";
  });
  request.message.set("X-Request-Id", "req-19");
  request.message.set(http::field::content_type, "application/json");
  auto const res = round_trip(r, std::move(request));
  INFO(describe(res));
  INFO(log.describe());
  REQUIRE(res);
  REQUIRE_FALSE(res->ec);
  CHECK(res->response.result_int() == 200);

  auto const seen = upstream.seen();
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].body == "{\"title\": \"draft\"}");
  CHECK(seen[1].body == "{\"title\": \"draft\", \"copy\": 1}");
  CHECK(seen[2].body == "{\"title\": \"draft\", \"copy\": 2}");
  CHECK(made->load() == 2);
  for (auto const& s : seen) {
    CHECK(s.method == "PUT");
    CHECK(s.target == "/documents/7");
    CHECK(s.header("X-Request-Id") == std::optional<std::string>("req-19"));
    CHECK(s.header("Content-Type") == std::optional<std::string>("application/json"));
  }
}

TEST_CASE("a body without a factory fails with body_not_replayable after one request", "[AC7]")
{
  scripted_upstream upstream({status(500), status(200)});
  retry_log log;
  rig r(upstream.port(), test_options(log));

  auto const res = round_trip(r, make_request(http::verb::put, "/documents/7", "{\"title\": \"draft\"}"));
  INFO(describe(res));
  INFO(log.describe());
  REQUIRE(res);
  CHECK(res->ec == task19::retry_error::body_not_replayable);
  CHECK(res->ec.category() == task19::retry_category());
  CHECK(upstream.requests() == 1);
}

TEST_CASE("a body without a factory is fine when no second attempt is needed", "[AC7]")
{
  SECTION("the first attempt succeeds")
  {
    retry_log log;
    rig r({status(201), status(500)}, test_options(log));
    auto const res = round_trip(r, make_request(http::verb::put, "/d", "body"));
    INFO(describe(res));
    REQUIRE(res);
    REQUIRE_FALSE(res->ec);
    CHECK(res->response.result_int() == 201);
    CHECK(r.fake().count() == 1);
  }
  SECTION("the first attempt gets a 4xx")
  {
    retry_log log;
    rig r({status(409), status(200)}, test_options(log));
    auto const res = round_trip(r, make_request(http::verb::put, "/d", "body"));
    INFO(describe(res));
    REQUIRE(res);
    REQUIRE_FALSE(res->ec);
    CHECK(res->response.result_int() == 409);
    CHECK(r.fake().count() == 1);
  }
  SECTION("there is only one attempt to make")
  {
    retry_log log;
    auto options = test_options(log);
    options.max_attempts = 1;
    rig r({status(500), status(200)}, options);
    auto const res = round_trip(r, make_request(http::verb::put, "/d", "body"));
    INFO(describe(res));
    REQUIRE(res);
    REQUIRE_FALSE(res->ec);
    CHECK(res->response.result_int() == 500);
    CHECK(r.fake().count() == 1);
  }
  SECTION("the body is empty: a DELETE is retried without a factory")
  {
    retry_log log;
    rig r({status(500), status(204)}, test_options(log));
    auto const res = round_trip(r, make_request(http::verb::delete_, "/d"));
    INFO(describe(res));
    INFO(log.describe());
    REQUIRE(res);
    REQUIRE_FALSE(res->ec);
    CHECK(res->response.result_int() == 204);
    auto const calls = r.fake().calls();
    REQUIRE(calls.size() == 2);
    CHECK(calls[1].method == http::verb::delete_);
    CHECK(calls[1].body.empty());
  }
}
