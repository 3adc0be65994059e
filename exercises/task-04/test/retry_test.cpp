// Task 04 · acceptance tests for stale connections, [AC4]. A kept
// connection can die while the client is not looking: the server closes it
// when it has been idle too long, or just as the next request arrives. A GET
// may then be sent again on a new connection; a POST may not.
#include "fixtures.hpp"

#include <workbook/eventually.hpp>
#include <workbook/test_server.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <memory>

using namespace task04_test;

namespace {

struct two_responses {
  task04::response first;
  task04::response second;
  milliseconds second_took{};
};

} // namespace

TEST_CASE("a GET on a kept connection that the server closes without answering is sent again, once, "
          "on a new connection",
          "[AC4]")
{
  // On each connection: the first request is answered; any later request
  // is read and the connection closed without a word, as a server does
  // when its idle timer fires just as the request arrives.
  auto server = workbook::test_server::scripted([](workbook::peer& p) {
    auto const request = p.read_request();
    if (request.empty()) return;
    if (!p.write(workbook::http_response(200, "answer to " + target_of(request) + "\n"))) return;
    p.read_request();
  });
  auto client = client_for(server);

  auto const r = drive(client, server, [](task04::client& c) {
    two_responses out;
    out.first = c.get("/first");
    out.second = c.get("/second");
    return out;
  });
  INFO("GET /first: " << describe(r.first));
  REQUIRE(r.first.status == 200);
  INFO("GET /second: " << describe(r.second));
  CHECK(!r.second.error);
  CHECK(r.second.status == 200);
  CHECK(r.second.body == "answer to /second\n");
  INFO("the server read " << server.requests() << " request(s) on " << server.accepted()
       << " connection(s). Expected 3 on 2: /first and /second on the kept connection, which the "
          "server then closed, and /second again on a new one");
  CHECK(server.accepted() == 2);
  CHECK(server.requests() == 3);
}

TEST_CASE("a kept connection the server closed while it sat idle costs a GET nothing", "[AC4]")
{
  // One response per connection, then the server closes it.
  auto server = workbook::test_server::scripted([](workbook::peer& p) {
    auto const request = p.read_request();
    if (request.empty()) return;
    p.write(workbook::http_response(200, "answer to " + target_of(request) + "\n"));
  });
  auto client = client_for(server);

  auto const first = drive(client, server, [](task04::client& c) { return c.get("/first"); });
  INFO("GET /first: " << describe(first));
  REQUIRE(first.status == 200);
  REQUIRE(workbook::eventually([&] { return server.open() == 0; }, 1s));

  auto const second = drive(client, server, [](task04::client& c) { return c.get("/second"); });
  INFO("the server had closed the kept connection before GET /second: " << describe(second));
  CHECK(!second.error);
  CHECK(second.status == 200);
  CHECK(second.body == "answer to /second\n");
  CHECK(server.accepted() == 2);
}

TEST_CASE("the second try is the last: when the new connection fails too, the GET returns the error", "[AC4]")
{
  // /first is answered; anything else is read and the connection closed,
  // on every connection.
  auto server = workbook::test_server::scripted([](workbook::peer& p) {
    for (;;) {
      auto const request = p.read_request();
      if (request.empty() || target_of(request) != "/first") return;
      if (!p.write(workbook::http_response(200, "answer to /first\n"))) return;
    }
  });
  auto client = client_for(server);

  auto const r = drive(client, server, [](task04::client& c) {
    two_responses out;
    out.first = c.get("/first");
    auto const start = std::chrono::steady_clock::now();
    out.second = c.get("/doomed");
    out.second_took = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
    return out;
  });
  INFO("GET /first: " << describe(r.first));
  REQUIRE(r.first.status == 200);
  INFO("GET /doomed, which the server never answers: " << describe(r.second) << ", after "
       << r.second_took.count() << " ms");
  CHECK(r.second.error);
  CHECK(r.second.status == 0);
  INFO("the server accepted " << server.accepted() << " connection(s): the kept one, then exactly one "
       "new one for the second try. A failure on a new connection is not a stale connection, and "
       "trying again would only repeat it");
  CHECK(server.accepted() == 2);
  CHECK(server.requests() == 3);
  INFO("both tries end at once, when the server closes: no deadline needs to pass");
  CHECK(r.second_took < 1000ms);
}

TEST_CASE("a POST that fails is never sent again: the error comes back and the server saw it once", "[AC4]")
{
  // GETs are answered; a POST is read and the connection closed unanswered.
  // The server may well have acted on it: sending it again could order a
  // second pizza.
  auto posts = std::make_shared<std::atomic<int>>(0);
  auto server = workbook::test_server::scripted([posts](workbook::peer& p) {
    for (;;) {
      auto const request = p.read_request();
      if (request.empty()) return;
      if (method_of(request) == "POST") {
        ++*posts;
        return;
      }
      if (!p.write(workbook::http_response(200, "answer to " + target_of(request) + "\n"))) return;
    }
  });
  auto client = client_for(server);

  struct outcome {
    task04::response get, post, after;
  };
  auto const r = drive(client, server, [](task04::client& c) {
    outcome o;
    o.get = c.get("/menu");
    o.post = c.post("/orders", "1 pizza");
    o.after = c.get("/menu");
    return o;
  });
  INFO("GET /menu: " << describe(r.get));
  REQUIRE(r.get.status == 200);
  INFO("POST /orders, which the server reads and never answers: " << describe(r.post));
  CHECK(r.post.error);
  CHECK(r.post.status == 0);
  INFO("the server received the POST " << posts->load() << " time(s)");
  CHECK(posts->load() == 1);
  INFO("GET /menu after the failed POST: " << describe(r.after));
  CHECK(r.after.status == 200);
  CHECK(r.after.body == "answer to /menu\n");
}
