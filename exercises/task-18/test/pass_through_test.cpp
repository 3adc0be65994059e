// Task 18 · acceptance tests for a closed breaker as a pass-through [AC1]:
// what the upstream answers reaches the caller unchanged, on the caller's
// executor, and the caller's cancellation reaches the upstream call.
#include "fixtures.hpp"

#include <workbook/test_server.hpp>
#include <workbook/upstreams.hpp>

#include <catch2/catch.hpp>

using namespace task18_test;

namespace {

// A real upstream that answers /status/N with N, echoing what it was sent.
workbook::test_server echoing_upstream()
{
  return workbook::test_server::serving([](workbook::request const& r) {
    int status = 200;
    if (r.target.rfind("/status/", 0) == 0) status = std::stoi(r.target.substr(8));
    std::string x_request;
    for (auto const& [name, value] : r.headers)
      if (workbook::iequals(name, "X-Request")) x_request = value;
    return workbook::response{status, "", {{"X-Upstream", "real " + r.target}},
                              "you sent " + r.method + " " + r.target + " [" + x_request + "] " + r.body, ""};
  });
}

} // namespace

TEST_CASE("through a closed breaker answers and errors come back unchanged", "[AC1]")
{
  auto upstream = echoing_upstream();
  asio::io_context ioc;
  workbook::plain_transport transport(ioc.get_executor(), local(upstream.port()));
  transitions log;
  test_clock clock;
  task18::circuit_breaker breaker(ioc.get_executor(), transport, options_with(5, 30s, clock, log));
  workbook::io_threads threads(ioc);
  int const caller = workbook::transcript::open_connection("caller");

  auto post = get("/status/201");
  post.message.method(http::verb::post);
  post.message.set("X-Request", "seven");
  post.message.body() = "hello";
  auto a = start_call(breaker, std::move(post), ioc.get_executor(), caller).wait();
  INFO("POST /status/201 with a body and an X-Request field, through a closed breaker: " << a.describe());
  REQUIRE(a.completed);
  CHECK_FALSE(a.ec);
  CHECK(a.status == 201);
  CHECK(a.body == "you sent POST /status/201 [seven] hello");
  CHECK(upstream_header(a) == "real /status/201");

  for (int status : {503, 404, 200}) {
    auto const target = "/status/" + std::to_string(status);
    auto b = start_call(breaker, get(target), ioc.get_executor(), caller).wait();
    INFO("GET " << target << ": " << b.describe() << "\nA 5xx or a 4xx is an answer: the caller gets it as it came, "
                                                   "with no error, whatever the breaker makes of it.");
    REQUIRE(b.completed);
    CHECK_FALSE(b.ec);
    CHECK(b.status == status);
    CHECK(b.body == "you sent GET " + target + " [] ");
  }
  CHECK(upstream.requests() == 4);
  CHECK(breaker.state() == breaker_state::closed);

  // A transport error reaches the caller as it was.
  auto const closed_port = upstream.port();
  upstream.stop();
  workbook::plain_transport nowhere(ioc.get_executor(), local(closed_port));
  task18::circuit_breaker breaker2(ioc.get_executor(), nowhere, options_with(5, 30s, clock, log));
  auto c = start_call(breaker2, get("/"), ioc.get_executor(), caller).wait();
  INFO("GET / to a port nobody listens on: " << c.describe());
  REQUIRE(c.completed);
  CHECK(c.ec == asio::error::connection_refused);
}

TEST_CASE("the caller's handler runs on the caller's executor", "[AC1]")
{
  auto upstream = echoing_upstream();
  // The caller's own io_context, on a thread of its own. Declared first, so
  // it is destroyed last: the transport's threads, which post completions
  // to it, are joined before it goes.
  asio::io_context callers;
  workbook::io_threads caller_thread(callers);

  asio::io_context ioc;  // the transport's
  workbook::plain_transport transport(ioc.get_executor(), local(upstream.port()));
  transitions log;
  test_clock clock;
  task18::circuit_breaker breaker(ioc.get_executor(), transport, options_with(5, 30s, clock, log));
  workbook::io_threads threads(ioc);

  std::promise<std::thread::id> id;
  asio::post(callers, [&] { id.set_value(std::this_thread::get_id()); });
  auto const callers_thread = id.get_future().get();
  int const caller = workbook::transcript::open_connection("caller");

  for (auto target : {"/status/200", "/status/500"}) {
    auto a = start_call(breaker, get(target), ioc.get_executor(), caller, {}, callers.get_executor()).wait();
    INFO("GET " << target << " with a handler bound to the caller's io_context: " << a.describe()
                << "\nThe handler ran on the caller's thread: " << (a.thread == callers_thread ? "yes" : "no")
                << ". The inner call completes on the executor of the handler it is given: is the caller's"
                   " executor associated with yours?");
    REQUIRE(a.completed);
    CHECK(a.thread == callers_thread);
  }
}

TEST_CASE("cancelling the caller cancels the upstream call at once", "[AC1]")
{
  auto upstream = workbook::test_server::scripted(workbook::upstreams::silent());
  asio::io_context ioc;
  // The transport would give up after 5 s; only the cancellation can end the call sooner.
  workbook::plain_transport transport(ioc.get_executor(), local(upstream.port()), {4, 5s});
  transitions log;
  test_clock clock;
  task18::circuit_breaker breaker(ioc.get_executor(), transport, options_with(5, 30s, clock, log));
  workbook::io_threads threads(ioc);
  int const caller = workbook::transcript::open_connection("caller");

  auto call = start_call(breaker, get("/never"), ioc.get_executor(), caller);
  bool const reached = workbook::eventually([&] { return upstream.requests() == 1 || call.done(); }, 1s);
  INFO("the upstream has read " << upstream.requests() << " request(s); the call "
                                << (call.done() ? "has already ended: " + call.wait(0ms).describe() : "is in flight"));
  REQUIRE(reached);
  REQUIRE(upstream.requests() == 1);
  call.cancel();
  auto const cancelled_at = std::chrono::steady_clock::now();
  auto a = call.wait(1500ms);
  auto const took = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - cancelled_at);
  INFO("the upstream never answers; the caller cancelled through its handler's cancellation slot; then: "
       << a.describe() << " after " << took.count()
       << " ms.\nDoes the inner call get the caller's cancellation slot?");
  REQUIRE(a.completed);
  CHECK(a.ec == asio::error::operation_aborted);
  CHECK(breaker.state() == breaker_state::closed);
}

TEST_CASE("a completion handler can call the breaker again", "[AC1]")
{
  rig r;
  // Eight calls, each made from the handler of the one before: five reach
  // the upstream and fail, three are refused.
  // Only the handlers in flight own the chain: a handler the breaker drops
  // takes the chain's promise with it, and the wait ends at once.
  struct chain {
    rig& r;
    int remaining;
    std::shared_ptr<std::vector<std::string>> outcomes;
    std::promise<void> done;
    static void next(std::shared_ptr<chain> self)
    {
      auto& breaker = self->r.breaker;
      breaker.async_round_trip(get("/status/500"), [self](error_code ec, workbook::client_response res) {
        self->outcomes->push_back(ec ? (refused_by_breaker(ec) ? "refused" : describe(ec))
                                     : std::to_string(res.result_int()));
        if (--self->remaining > 0) next(self);
        else self->done.set_value();
      });
    }
  };
  auto outcomes = std::make_shared<std::vector<std::string>>();
  auto c = std::make_shared<chain>(chain{r, 8, outcomes, {}});
  auto finished = c->done.get_future();
  chain::next(std::move(c));
  bool const ended = finished.wait_for(1s) == std::future_status::ready;
  bool completed = false;
  std::string seen;
  if (ended) {
    try {
      finished.get();
      completed = true;
      for (auto const& o : *outcomes) seen += o + " ";
    } catch (std::future_error const&) {
      seen = "a handler was destroyed without being called";
    }
  }
  INFO("each call made from the previous call's handler; outcomes: " << (ended ? seen : "the chain stopped")
       << "\nA handler that runs while the breaker holds its lock deadlocks when it calls the breaker again.");
  REQUIRE(completed);
  CHECK(seen == "500 500 500 500 500 refused refused refused ");
}
