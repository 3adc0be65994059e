// Task 19 · acceptance tests for what is retried and when the retrier
// gives up [AC1]: a 5xx and a transport failure are tried again, up to
// max_attempts attempts, after which the last outcome comes back as it
// came.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

using namespace task19_test;
using namespace std::chrono_literals;

TEST_CASE("500, 500, 200 comes back as the 200 with its body, after three requests", "[AC1]")
{
  scripted_upstream upstream({status(500), status(500), status(200)});
  retry_log log;
  rig r(upstream.port(), test_options(log));

  auto const res = round_trip(r, get("/flaky"));
  INFO(describe(res));
  INFO(log.describe());
  REQUIRE(res);
  REQUIRE_FALSE(res->ec);
  CHECK(res->response.result_int() == 200);
  CHECK(res->response.body() == answer_body(3));
  CHECK(upstream.requests() == 3);
  auto const events = log.events();
  REQUIRE(events.size() == 2);
  CHECK(events[0].attempt == 1);
  CHECK(events[0].status == 500);
  CHECK(events[1].attempt == 2);
  CHECK(events[1].status == 500);
}

TEST_CASE("a 5xx on every attempt gives up after max_attempts with the last answer", "[AC1]")
{
  // 502, 503 (no Retry-After) and 504 are 5xx as much as 500 is.
  scripted_upstream upstream({status(500), status(502), status(503), status(504), status(200)});
  retry_log log;
  auto options = test_options(log);
  options.max_attempts = 4;
  rig r(upstream.port(), options);

  auto const res = round_trip(r, get("/down"));
  INFO(describe(res));
  INFO(log.describe());
  REQUIRE(res);
  // The last 5xx is an answer, so the call succeeds with it.
  REQUIRE_FALSE(res->ec);
  CHECK(res->response.result_int() == 504);
  CHECK(res->response.body() == answer_body(4));
  CHECK(upstream.requests() == 4);
  CHECK(log.size() == 3);
}

TEST_CASE("a connection closed without an answer is retried on a new one", "[AC1]")
{
  // The first connection reads the request and closes without a word; the
  // next ones answer 200.
  auto connections = std::make_shared<std::atomic<int>>(0);
  auto upstream = workbook::test_server::scripted([connections](workbook::peer& p) {
    if (connections->fetch_add(1) == 0) {
      p.read_request();
      p.close();
      return;
    }
    while (!p.read_request().empty())
      if (!p.write(workbook::http_response(200, "answered"))) return;
  });
  retry_log log;
  rig r(upstream.port(), test_options(log));

  auto const res = round_trip(r, get("/"));
  INFO(describe(res));
  INFO(log.describe());
  REQUIRE(res);
  REQUIRE_FALSE(res->ec);
  CHECK(res->response.result_int() == 200);
  CHECK(res->response.body() == "answered");
  CHECK(upstream.accepted() == 2);
  auto const events = log.events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].status == 0);
  CHECK(events[0].error);
}

TEST_CASE("a transport failure on every attempt ends with the transport's error", "[AC1]")
{
  retry_log log;
  rig r({failure(asio::error::connection_refused)}, test_options(log));

  auto const res = round_trip(r, get("/"));
  INFO(describe(res));
  INFO(log.describe());
  REQUIRE(res);
  CHECK(res->ec == asio::error::connection_refused);
  CHECK(r.fake().count() == 3);
  auto const events = log.events();
  REQUIRE(events.size() == 2);
  CHECK(events[0].error == asio::error::connection_refused);
  CHECK(events[0].status == 0);
}

TEST_CASE("max_attempts of 1 sends once, and below 1 counts as 1", "[AC1]")
{
  for (int attempts : {1, 0, -3}) {
    retry_log log;
    auto options = test_options(log);
    options.max_attempts = attempts;
    rig r({status(500), status(200)}, options);
    auto const res = round_trip(r, get("/"));
    INFO("max_attempts " << attempts << ": " << describe(res));
    INFO(log.describe());
    REQUIRE(res);
    REQUIRE_FALSE(res->ec);
    CHECK(res->response.result_int() == 500);
    CHECK(r.fake().count() == 1);
  }
}
