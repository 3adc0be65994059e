// Task 19 · acceptance tests for the connections a retry costs [AC8]: over
// the keep-alive plain_transport, the answers of failed attempts are read
// whole and their connection goes back to the pool, so 500, 500, 200
// reaches the upstream over one connection; after a connection fails, the
// retries share one new connection.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

using namespace task19_test;
using namespace std::chrono_literals;

TEST_CASE("500, 500, 200 reach the upstream over one kept-alive connection", "[AC8]")
{
  scripted_upstream upstream({status(500), status(500), status(200)});
  retry_log log;
  rig r(upstream.port(), test_options(log));

  auto const res = round_trip(r, get("/flaky"));
  INFO(describe(res));
  INFO(log.describe());
  REQUIRE(res);
  REQUIRE_FALSE(res->ec);
  REQUIRE(res->response.result_int() == 200);
  INFO("the upstream accepted " << upstream.accepted() << " connection(s) for " << upstream.requests()
                                << " request(s); the transport opened " << r.transport().connections_opened());
  CHECK(upstream.requests() == 3);
  CHECK(upstream.accepted() == 1);
  CHECK(r.transport().connections_opened() == 1);
  CHECK(r.transport().idle_connections() == 1);
  for (auto const& seen : upstream.seen()) {
    auto const connection = seen.header("Connection").value_or("");
    INFO("a request said Connection: " << connection);
    CHECK_FALSE(workbook::iequals(connection, "close"));
  }
}

TEST_CASE("after a connection fails, the retries share one new connection", "[AC8]")
{
  // Connection 1 reads the request and closes without an answer;
  // connection 2 answers 500, then 200, and stays open.
  auto connections = std::make_shared<std::atomic<int>>(0);
  auto upstream = workbook::test_server::scripted([connections](workbook::peer& p) {
    if (connections->fetch_add(1) == 0) {
      p.read_request();
      p.close();
      return;
    }
    for (int status : {500, 200}) {
      if (p.read_request().empty()) return;
      if (!p.write(workbook::http_response(status, "status " + std::to_string(status)))) return;
    }
    p.hold();
  });
  retry_log log;
  rig r(upstream.port(), test_options(log));

  auto const res = round_trip(r, make_request(http::verb::put, "/d", "body", [] { return std::string("body"); }));
  INFO(describe(res));
  INFO(log.describe());
  REQUIRE(res);
  REQUIRE_FALSE(res->ec);
  REQUIRE(res->response.result_int() == 200);
  INFO("the upstream accepted " << upstream.accepted() << " connection(s) for " << upstream.requests()
                                << " request(s); the transport opened " << r.transport().connections_opened());
  CHECK(upstream.requests() == 3);
  CHECK(upstream.accepted() == 2);
  CHECK(r.transport().connections_opened() == 2);
}
