// Task 07 · acceptance tests for bearer_auth [AC2], logging [AC4] and
// recover [AC5]. Each runs your layers behind a real server
// (workbook::serving_beast) or calls them directly where that is clearer.
#include "fixtures.hpp"

#include <workbook/eventually.hpp>
#include <workbook/http.hpp>
#include <workbook/test_client.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <stdexcept>

using namespace task07_test;
using namespace std::chrono_literals;

namespace {

bool starts_with_ci(std::string const& s, std::string_view prefix)
{
  return s.size() >= prefix.size() && workbook::iequals(std::string_view(s).substr(0, prefix.size()), prefix);
}

// A handler that counts its calls and answers 200 "secret\n".
task07::handler counted(std::atomic<int>& calls)
{
  return [&calls](task07::request& req) {
    ++calls;
    return journal::reply(req, status::ok, "secret\n");
  };
}

} // namespace

// ---------------------------------------------------------------- AC2

TEST_CASE("without Authorization, bearer_auth answers 401 with WWW-Authenticate and the handler is not called", "[AC2]")
{
  std::atomic<int> calls{0};
  auto server = workbook::serving_beast(task07::bearer_auth("dev")(counted(calls)));
  workbook::test_client client(server.port());

  auto const res = client.get("/secret");
  CHECK(res.status == 401);
  auto const challenge = res.header("WWW-Authenticate").value_or("(no WWW-Authenticate header)");
  INFO("WWW-Authenticate: " << challenge);
  CHECK(starts_with_ci(challenge, "Bearer"));
  CHECK(res.header("Content-Type").value_or("") == "text/plain");
  CHECK(res.body.find("secret") == std::string::npos);
  CHECK(calls == 0);
}

TEST_CASE("a wrong token, or another scheme, is refused the same way", "[AC2]")
{
  std::atomic<int> calls{0};
  auto server = workbook::serving_beast(task07::bearer_auth("dev")(counted(calls)));
  workbook::test_client client(server.port());

  for (std::string value : {"Bearer wrong", "Bearer dev2", "Bearer de", "Bearer DEV", "Bearer", "dev",
                            "Token dev", "Basic ZGV2OmRldg=="}) {
    INFO("Authorization: " << value);
    auto const res = client.send(get("/secret", authorization(value)));
    CHECK(res.status == 401);
    CHECK(starts_with_ci(res.header("WWW-Authenticate").value_or(""), "Bearer"));
  }
  CHECK(calls == 0);
}

TEST_CASE("Bearer dev passes, whatever the case of the scheme, and nothing else does", "[AC2]")
{
  std::atomic<int> calls{0};
  auto server = workbook::serving_beast(task07::bearer_auth("dev")(counted(calls)));
  workbook::test_client client(server.port());

  for (std::string value : {"Bearer dev", "bearer dev", "BEARER dev"}) {
    INFO("Authorization: " << value);
    auto const res = client.send(get("/secret", authorization(value)));
    CHECK(res.status == 200);
    CHECK(res.body == "secret\n");
  }
  CHECK(calls == 3);
  CHECK(client.get("/secret").status == 401);
  CHECK(calls == 3);
}

TEST_CASE("a refused request reaches no layer inside bearer_auth", "[AC2]")
{
  journal j;
  auto const app = task07::chain(j.marks("outside"), task07::bearer_auth("dev"), j.marks("inside"))(j.answering("hi\n"));

  auto req = direct("GET", "/");
  CHECK(app(req).result() == status::unauthorized);
  CHECK(j.events() == std::vector<std::string>{"outside", "outside-after"});
}

// ---------------------------------------------------------------- AC4

TEST_CASE("logging writes one line per request, with the status actually sent", "[AC4]")
{
  journal j;
  workbook::manual_clock clock;
  auto const users = [&clock](task07::request& req) {
    clock.advance(7ms);  // the handler's work takes 7 ms by this clock
    if (req.target() == "/users/7") return journal::reply(req, status::not_found, "no such user\n");
    return journal::reply(req, status::ok, "ada\n");
  };
  auto server = workbook::serving_beast(
      task07::chain(task07::logging(j.sink(), reading(clock)), task07::bearer_auth("dev"))(users));
  workbook::test_client client(server.port());

  auto const missing = client.send(get("/users/7", authorization("Bearer dev")));
  CHECK(missing.status == 404);
  auto const denied = client.get("/users/1");
  CHECK(denied.status == 401);
  auto const created = client.send(with("POST", "/users/1?notify=no", authorization("Bearer dev")));
  CHECK(created.status == 200);

  auto const lines = j.lines();
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "method=GET target=/users/7 status=404 bytes=13 latency_us=7000");
  // Auth answered: the handler (and its 7 ms) never ran.
  CHECK(lines[1] == "method=GET target=/users/1 status=401 bytes=" + std::to_string(denied.body.size()) +
                        " latency_us=0");
  CHECK(lines[2] == "method=POST target=/users/1?notify=no status=200 bytes=4 latency_us=7000");
}

TEST_CASE("logging measures only the time spent inside it", "[AC4]")
{
  journal j;
  workbook::manual_clock clock;
  // The test's own layers: 100 ms outside logging, 250 us inside it, each
  // way; the handler takes 1.5 ms. Inside logging: 250 + 1500 + 250 us.
  auto const spends = [&clock](std::chrono::microseconds each_way) -> task07::middleware {
    return [&clock, each_way](task07::handler next) -> task07::handler {
      return [&clock, each_way, next = std::move(next)](task07::request& req) {
        clock.advance(each_way);
        auto res = next(req);
        clock.advance(each_way);
        return res;
      };
    };
  };
  auto const work = [&clock](task07::request& req) {
    clock.advance(1500us);
    return journal::reply(req, status::ok, "done\n");
  };
  auto server = workbook::serving_beast(
      task07::chain(spends(100ms), task07::logging(j.sink(), reading(clock)), spends(250us))(work));
  workbook::test_client client(server.port());

  CHECK(client.get("/work").status == 200);
  CHECK(j.lines() == std::vector<std::string>{"method=GET target=/work status=200 bytes=5 latency_us=2000"});
}

TEST_CASE("two requests inside logging at once each measure their own latency", "[AC4]")
{
  journal j;
  workbook::manual_clock clock;
  // The slow request is held inside its handler until the quick one has come
  // and gone; by the clock, the slow one spends 5 + 1 + 3 ms inside logging,
  // the quick one 1 ms. Handlers run on two threads, as under a server with
  // a thread pool: what logging keeps per request must be per request.
  std::promise<void> slow_entered;
  auto entered = slow_entered.get_future();
  std::atomic<bool> let_slow_go{false};
  auto const work = [&](task07::request& req) {
    if (req.target() == "/slow") {
      slow_entered.set_value();
      // Bounded: a test that fails early still lets this thread finish.
      workbook::eventually([&] { return let_slow_go.load(); }, 10s);
    } else {
      clock.advance(1ms);
    }
    return journal::reply(req, status::ok, "done\n");
  };
  auto const app = task07::logging(j.sink(), reading(clock))(work);

  auto slow = std::async(std::launch::async, [&app] {
    auto req = direct("GET", "/slow");
    return app(req);
  });
  // Declared after `slow`, so destroyed first: the slow handler is let go
  // before anything waits for it, whichever check fails.
  struct release_on_exit {
    std::atomic<bool>& flag;
    ~release_on_exit() { flag = true; }
  } const release{let_slow_go};

  REQUIRE(entered.wait_for(10s) == std::future_status::ready);
  clock.advance(5ms);
  auto quick = direct("GET", "/quick");
  CHECK(app(quick).result() == status::ok);
  clock.advance(3ms);
  let_slow_go = true;
  REQUIRE(slow.wait_for(10s) == std::future_status::ready);
  CHECK(slow.get().result() == status::ok);

  INFO("the slow request arrived first, stayed 9 ms, and had the quick one (1 ms) arrive and leave meanwhile");
  CHECK(j.lines() == std::vector<std::string>{"method=GET target=/quick status=200 bytes=5 latency_us=1000",
                                              "method=GET target=/slow status=200 bytes=5 latency_us=9000"});
}

TEST_CASE("an exception passes through logging, which writes no line for it", "[AC4]")
{
  journal j;
  workbook::manual_clock clock;
  auto const app = task07::logging(j.sink(), reading(clock))([](task07::request& req) {
    if (req.target() == "/boom") throw std::runtime_error("boom");
    return journal::reply(req, status::ok, "fine\n");
  });

  auto boom = direct("GET", "/boom");
  CHECK_THROWS_AS(app(boom), std::runtime_error);
  auto fine = direct("GET", "/fine");
  CHECK(app(fine).result() == status::ok);
  INFO("per middleware.hpp, logging writes a line for a response that came back, and none for an "
       "exception: recover(), inside it, is what turns one into a response worth logging");
  CHECK(j.lines() == std::vector<std::string>{"method=GET target=/fine status=200 bytes=5 latency_us=0"});
}

// ---------------------------------------------------------------- AC5

TEST_CASE("an exception becomes a 500 that keeps its secrets, logged twice, and the connection serves on", "[AC5]")
{
  journal j;
  workbook::manual_clock clock;
  auto const handler = [](task07::request& req) {
    if (req.target() == "/boom") throw std::runtime_error("disk full under /var/db/customers");
    return journal::reply(req, status::ok, "fine\n");
  };
  auto server = workbook::serving_beast(
      task07::chain(task07::logging(j.sink(), reading(clock)), task07::recover(j.sink("recover: ")))(handler));
  workbook::test_client client(server.port());

  auto const boom = client.get("/boom");
  CHECK(boom.status == 500);
  CHECK(boom.header("Content-Type").value_or("") == "text/plain");
  CHECK(boom.body.find("/var/db") == std::string::npos);
  CHECK(j.lines("recover: ") ==
        std::vector<std::string>{"recovered method=GET target=/boom error=disk full under /var/db/customers"});
  // logging, outside recover, saw the 500 that was sent.
  CHECK(j.lines() == std::vector<std::string>{"method=GET target=/boom status=500 bytes=" +
                                              std::to_string(boom.body.size()) + " latency_us=0"});

  // The same connection serves the next request.
  auto const fine = client.get("/fine");
  CHECK(fine.status == 200);
  CHECK(fine.body == "fine\n");
  CHECK(client.connections_opened() == 1);
  CHECK(j.lines("recover: ").size() == 1);
}

TEST_CASE("recover catches what is not a std::exception too", "[AC5]")
{
  journal j;
  auto const app = task07::recover(j.sink())([](task07::request&) -> task07::response { throw 42; });

  auto req = direct("DELETE", "/things/9");
  task07::response res;
  CHECK_NOTHROW(res = app(req));
  CHECK(res.result() == status::internal_server_error);
  CHECK(j.lines() == std::vector<std::string>{"recovered method=DELETE target=/things/9 error=(not a std::exception)"});
}

TEST_CASE("recover passes a normal response through untouched, and logs only what it caught", "[AC5]")
{
  journal j;
  auto const app = task07::recover(j.sink())([](task07::request& req) {
    if (req.target() == "/fail") throw std::logic_error("bug");
    auto res = journal::reply(req, status::created, "made\n");
    res.set("X-Custom", "kept");
    return res;
  });

  auto ok = direct("POST", "/things");
  task07::response res;
  REQUIRE_NOTHROW(res = app(ok));
  CHECK(res.result() == status::created);
  CHECK(res["X-Custom"] == "kept");
  CHECK(res.body() == "made\n");
  CHECK(j.lines().empty());

  auto failing = direct("POST", "/fail");
  CHECK_NOTHROW(res = app(failing));
  CHECK(res.result() == status::internal_server_error);
  CHECK(j.lines() == std::vector<std::string>{"recovered method=POST target=/fail error=bug"});
}
