// Task 09 · acceptance tests for where the ID goes: into every log line of
// every layer [AC4], even when handlers finish on other threads [AC5], into
// the calls a handler makes [AC6], and into the line recover() writes [AC7].
// The log lines are the journal's: the sink the server puts in each
// request's context. Your log() writes them; the test's own layers and
// handlers call it too.
#include "fixtures.hpp"

#include <workbook/test_client.hpp>
#include <workbook/test_server.hpp>

#include <boost/asio/post.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <set>
#include <stdexcept>

using namespace task09_test;
namespace net = boost::asio;
using lines = std::vector<std::string>;

namespace {

// The lines about `target`: those that name it as a whole word.
lines about(journal const& j, std::string const& target)
{
  lines out;
  for (auto const& l : j.lines())
    if ((l + " ").find("target=" + target + " ") != std::string::npos) out.push_back(l);
  return out;
}

bool starts_with(std::string const& s, std::string const& prefix) { return s.rfind(prefix, 0) == 0; }

// An upstream that records the X-Request-ID of every request it gets, by
// target, and answers 200 "item <target>\n".
struct recording_upstream {
  struct seen_t {
    std::mutex mutex;
    std::vector<std::pair<std::string, std::string>> calls;  // (target, X-Request-ID or "(none)")
  };
  std::shared_ptr<seen_t> seen = std::make_shared<seen_t>();
  workbook::test_server server = workbook::test_server::serving([seen = seen](workbook::request const& req) {
    {
      std::lock_guard lock(seen->mutex);
      seen->calls.emplace_back(req.target, [&] {
        for (auto const& [name, value] : req.headers)
          if (workbook::iequals(name, "X-Request-ID")) return value;
        return std::string("(none)");
      }());
    }
    return workbook::response{200, "OK", {{"Content-Type", "text/plain"}}, "item " + req.target + "\n", ""};
  });

  std::vector<std::pair<std::string, std::string>> calls() const
  {
    std::lock_guard lock(seen->mutex);
    return seen->calls;
  }
};

} // namespace

// ---------------------------------------------------------------- AC4

TEST_CASE("every line of every layer inside request_id() carries the ID; a layer outside it has none", "[AC4]")
{
  counting_random random;
  served s(task09::chain(journal::marks("outer"), task09::request_id(random.source()), task09::access_log(),
                         task09::recover(), journal::marks("inner"))(reporting()));
  workbook::test_client client(s.port());

  auto const res = client.send(get("/things/7", with_id("order-7")));
  CHECK(res.status == 200);
  INFO("log lines:\n" << s.j.dump());
  CHECK(s.j.lines() == lines{
                           "request_id=- outer in",
                           "request_id=order-7 inner in",
                           "request_id=order-7 handler target=/things/7",
                           "request_id=order-7 inner out",
                           "request_id=order-7 method=GET target=/things/7 status=200",
                           "request_id=- outer out",
                       });

  // A generated ID travels the same way.
  s.j.clear();
  auto const fresh = counting_random::nth_id(0);
  auto const second = client.get("/things/8");
  CHECK(second.header("X-Request-ID").value_or("(no X-Request-ID)") == fresh);
  CHECK(s.j.lines() == lines{
                           "request_id=- outer in",
                           "request_id=" + fresh + " inner in",
                           "request_id=" + fresh + " handler target=/things/8",
                           "request_id=" + fresh + " inner out",
                           "request_id=" + fresh + " method=GET target=/things/8 status=200",
                           "request_id=- outer out",
                       });
}

TEST_CASE("log() writes request_id=<id> and the message, or request_id=- before there is an ID", "[AC4]")
{
  journal j;
  task09::log(task09::request_context{{}, "abc-123", j.sink()}, "hello world");
  task09::log(task09::request_context{{}, "", j.sink()}, "early");
  CHECK(j.lines() == lines{"request_id=abc-123 hello world", "request_id=- early"});
}

TEST_CASE("access_log() writes one line on the way out with the status sent, and none for an exception", "[AC4]")
{
  journal j;
  auto const not_found = task09::access_log()(
      [](task09::request_context, task09::request&, task09::respond done) {
        done(journal::reply(status::not_found, "no such thing\n"));
      });
  auto req = direct("/users/7?x=1");
  req.method(task09::http::verb::delete_);
  auto const out = call(not_found, req, j, "del-1");
  REQUIRE(out.response);
  CHECK(out.response->result() == status::not_found);
  CHECK(out.answers == 1);
  CHECK(j.lines() == lines{"request_id=del-1 method=DELETE target=/users/7?x=1 status=404"});

  j.clear();
  auto const throwing = task09::access_log()(
      [](task09::request_context, task09::request&, task09::respond) { throw std::runtime_error("boom"); });
  auto boom = direct("/boom");
  CHECK_THROWS_AS(call(throwing, boom, j, "boom-1"), std::runtime_error);
  CHECK(j.lines().empty());
}

// ---------------------------------------------------------------- AC5

namespace {

// Holds each request's continuation until `batch` of them are waiting, then
// runs them all, in the reverse order of their arrival, on the thread of
// `elsewhere`: every request is finished on a thread that did not start it,
// after the others have started. Whatever a layer kept anywhere but in its
// own closures has been overwritten by then.
class reverse_batches {
public:
  reverse_batches(net::io_context& elsewhere, std::size_t batch) : elsewhere_(elsewhere), batch_(batch) {}

  void hold(std::function<void()> continuation)
  {
    std::vector<std::function<void()>> release;
    {
      std::lock_guard lock(mutex_);
      pending_.push_back(std::move(continuation));
      if (pending_.size() >= batch_) release.swap(pending_);
    }
    if (!release.empty())
      net::post(elsewhere_, [release = std::move(release)] {
        for (auto it = release.rbegin(); it != release.rend(); ++it) (*it)();
      });
  }

private:
  net::io_context& elsewhere_;
  std::size_t batch_;
  std::mutex mutex_;
  std::vector<std::function<void()>> pending_;
};

struct exchange {
  std::string target;
  std::string sent_id;  // "" when none was sent
  int status = 0;
  std::string echoed;
  std::string body;
};

} // namespace

TEST_CASE("on a 2-thread io_context, with handlers that resume on another thread, each line carries its own request's ID", "[AC5]")
{
  constexpr int clients = 8;
  constexpr int rounds = 5;

  // Destroyed bottom-up: the threads stop first, then the server, then what
  // its handlers held, then the io_contexts.
  journal j;
  counting_random random;
  net::io_context ioc;
  net::io_context elsewhere;
  reverse_batches batches(elsewhere, clients);
  std::atomic<int> resumed_on_same_thread{0};
  std::atomic<int> resumed{0};

  auto const hopping = [&](task09::request_context ctx, task09::request& req, task09::respond done) {
    std::string target(req.target());
    task09::log(ctx, "handler start target=" + target);
    batches.hold([&, ctx, target, done, started_on = std::this_thread::get_id()] {
      // On elsewhere's thread now, maybe long after the start.
      ++resumed;
      if (std::this_thread::get_id() == started_on) ++resumed_on_same_thread;
      task09::log(ctx, "handler resumed target=" + target);
      done(journal::reply(status::ok, ctx.request_id));
    });
  };
  chain_server server(ioc, task09::chain(task09::request_id(random.source()), task09::access_log(),
                                         task09::recover())(hopping),
                      j.sink());
  workbook::io_threads elsewhere_thread(elsewhere, 1);
  workbook::io_threads io(ioc, 2);

  std::vector<std::vector<exchange>> results(clients);
  {
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c)
      threads.emplace_back([c, port = server.port(), &mine = results[static_cast<std::size_t>(c)]] {
        workbook::test_client client(port, std::chrono::seconds(3));
        for (int r = 0; r < rounds; ++r) {
          exchange e;
          e.target = "/t/" + std::to_string(c) + "/" + std::to_string(r);
          if (r % 2 == 0) e.sent_id = "client-" + std::to_string(c) + "-" + std::to_string(r);
          auto const res = client.send(get(e.target, e.sent_id.empty() ? workbook::header_list{} : with_id(e.sent_id)));
          e.status = res.status;
          e.echoed = res.header("X-Request-ID").value_or("(no X-Request-ID)");
          e.body = res.body;
          mine.push_back(std::move(e));
        }
      });
    for (auto& t : threads) t.join();
  }
  io.stop();
  elsewhere_thread.stop();

  // The test's own premise: every handler resumed on a thread that did not start it.
  REQUIRE(resumed == clients * rounds);
  REQUIRE(resumed_on_same_thread == 0);

  // Everything that went wrong, one line per request: a list is easier to
  // read than a hundred failed checks.
  std::vector<std::string> wrong;
  std::set<std::string> generated;
  std::size_t without_id = 0;
  for (auto const& mine : results)
    for (auto const& e : mine) {
      std::string const what = "GET " + e.target +
                               (e.sent_id.empty() ? " without X-Request-ID" : " with X-Request-ID: " + e.sent_id) +
                               " -> " + std::to_string(e.status) + ", X-Request-ID: " + e.echoed;
      if (e.status != 200) wrong.push_back(what + ": status is not 200");
      if (e.sent_id.empty()) {
        ++without_id;
        generated.insert(e.echoed);
        if (!is_lower_hex_id(e.echoed)) wrong.push_back(what + ": not a new ID of 32 lowercase hex digits");
      } else if (e.echoed != e.sent_id) {
        wrong.push_back(what + ": not the ID that was sent");
      }
      // The handler's context, read on the other thread, held this request's ID ...
      if (e.body != e.echoed) wrong.push_back(what + ": the handler's context held '" + e.body + "' when it resumed");
      // ... and so did every line about this request, whoever wrote it, on whichever thread.
      auto const expected = lines{
          "request_id=" + e.echoed + " handler start target=" + e.target,
          "request_id=" + e.echoed + " handler resumed target=" + e.target,
          "request_id=" + e.echoed + " method=GET target=" + e.target + " status=200",
      };
      auto const got = about(j, e.target);
      if (got != expected) {
        std::string text = what + ": its lines were";
        for (auto const& l : got) text += "\n      " + l;
        if (got.empty()) text += " (none)";
        wrong.push_back(text);
      }
    }
  INFO("log lines:\n" << j.dump());
  INFO(wrong.size() << " things went wrong:\n" << listing(wrong));
  CHECK(wrong.empty());
  // Every request that came without an ID got one of its own, from the source.
  CHECK(without_id == 16);
  CHECK(generated.size() == without_id);
  CHECK(random.bytes_given() == 16 * generated.size());
}

// ---------------------------------------------------------------- AC6

TEST_CASE("relay() forwards the request's ID to the upstream it calls, and logs the call with it", "[AC6]")
{
  recording_upstream upstream;
  counting_random random;
  served s(task09::chain(task09::request_id(random.source()), task09::access_log(),
                         task09::recover())(task09::relay(upstream.server.url())));
  workbook::test_client client(s.port());

  auto const res = client.send(get("/items/7", with_id("trace-42")));
  CHECK(res.status == 200);
  CHECK(res.body == "item /items/7\n");
  CHECK(res.header("X-Request-ID").value_or("(no X-Request-ID)") == "trace-42");
  CHECK(upstream.calls() == std::vector<std::pair<std::string, std::string>>{{"/items/7", "trace-42"}});
  INFO("log lines:\n" << s.j.dump());
  CHECK(s.j.lines() == lines{
                           "request_id=trace-42 upstream GET " + upstream.server.url() + "/items/7",
                           "request_id=trace-42 upstream status=200",
                           "request_id=trace-42 method=GET target=/items/7 status=200",
                       });
}

TEST_CASE("relay() forwards a generated ID, and a replaced one never reaches the upstream", "[AC6]")
{
  recording_upstream upstream;
  counting_random random;
  served s(task09::chain(task09::request_id(random.source()), task09::access_log(),
                         task09::recover())(task09::relay(upstream.server.url())));
  workbook::test_client client(s.port());

  auto const generated = client.get("/items/1");
  CHECK(generated.status == 200);
  CHECK(generated.header("X-Request-ID").value_or("(no X-Request-ID)") == counting_random::nth_id(0));

  auto const replaced = client.send(get("/items/2", with_id("evil id; rm -rf")));
  CHECK(replaced.status == 200);
  CHECK(replaced.header("X-Request-ID").value_or("(no X-Request-ID)") == counting_random::nth_id(1));

  CHECK(upstream.calls() == std::vector<std::pair<std::string, std::string>>{
                                {"/items/1", counting_random::nth_id(0)},
                                {"/items/2", counting_random::nth_id(1)},
                            });
}

TEST_CASE("relay() answers with the service's own status and body, not a 200 of its own", "[AC6]")
{
  // A service that has no /missing and is too busy for /busy: its answers
  // are not successes, and the client must see them as they are.
  auto upstream = workbook::test_server::serving([](workbook::request const& req) {
    if (req.target == "/missing") return workbook::response{404, "Not Found", {{"Content-Type", "text/plain"}}, "no such item\n", ""};
    return workbook::response{503, "Service Unavailable", {{"Content-Type", "text/plain"}}, "busy\n", ""};
  });
  counting_random random;
  served s(task09::chain(task09::request_id(random.source()), task09::access_log(),
                         task09::recover())(task09::relay(upstream.url())));
  workbook::test_client client(s.port());

  auto const missing = client.send(get("/missing", with_id("miss-1")));
  CHECK(missing.status == 404);
  CHECK(missing.body == "no such item\n");
  CHECK(missing.header("X-Request-ID").value_or("(no X-Request-ID)") == "miss-1");
  auto const busy = client.send(get("/busy", with_id("busy-1")));
  CHECK(busy.status == 503);
  CHECK(busy.body == "busy\n");
  CHECK(busy.header("X-Request-ID").value_or("(no X-Request-ID)") == "busy-1");

  INFO("log lines:\n" << s.j.dump());
  CHECK(s.j.lines() == lines{
                           "request_id=miss-1 upstream GET " + upstream.url() + "/missing",
                           "request_id=miss-1 upstream status=404",
                           "request_id=miss-1 method=GET target=/missing status=404",
                           "request_id=busy-1 upstream GET " + upstream.url() + "/busy",
                           "request_id=busy-1 upstream status=503",
                           "request_id=busy-1 method=GET target=/busy status=503",
                       });
}

TEST_CASE("an upstream that is gone: 502, the ID still echoed, and the error line carries it", "[AC6]")
{
  recording_upstream upstream;
  std::string const gone = upstream.server.url();
  upstream.server.stop();
  counting_random random;
  served s(task09::chain(task09::request_id(random.source()), task09::access_log(),
                         task09::recover())(task09::relay(gone, std::chrono::milliseconds(1000))));
  workbook::test_client client(s.port());

  auto const res = client.send(get("/items/9", with_id("gone-1")));
  CHECK(res.status == 502);
  CHECK(res.header("X-Request-ID").value_or("(no X-Request-ID)") == "gone-1");
  auto const all = s.j.lines();
  INFO("log lines:\n" << s.j.dump());
  REQUIRE(all.size() == 3);
  CHECK(all[0] == "request_id=gone-1 upstream GET " + gone + "/items/9");
  CHECK(starts_with(all[1], "request_id=gone-1 upstream error="));
  CHECK(all[2] == "request_id=gone-1 method=GET target=/items/9 status=502");
}

TEST_CASE("on a 2-thread io_context, concurrent relays each forward their own request's ID", "[AC6]")
{
  constexpr int clients = 6;
  constexpr int rounds = 4;
  recording_upstream upstream;
  counting_random random;
  served s(task09::chain(task09::request_id(random.source()), task09::access_log(),
                         task09::recover())(task09::relay(upstream.server.url())),
           2);

  std::vector<std::vector<exchange>> results(clients);
  {
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c)
      threads.emplace_back([c, port = s.port(), &mine = results[static_cast<std::size_t>(c)]] {
        workbook::test_client client(port, std::chrono::seconds(3));
        for (int r = 0; r < rounds; ++r) {
          exchange e;
          e.target = "/items/" + std::to_string(c) + "-" + std::to_string(r);
          e.sent_id = "relay-" + std::to_string(c) + "-" + std::to_string(r);
          auto const res = client.send(get(e.target, with_id(e.sent_id)));
          e.status = res.status;
          e.echoed = res.header("X-Request-ID").value_or("(no X-Request-ID)");
          e.body = res.body;
          mine.push_back(std::move(e));
        }
      });
    for (auto& t : threads) t.join();
  }

  std::map<std::string, std::string> forwarded;  // target -> the ID the upstream got
  for (auto const& [target, id] : upstream.calls()) forwarded[target] = id;
  std::vector<std::string> wrong;
  for (auto const& mine : results)
    for (auto const& e : mine) {
      std::string const what = "GET " + e.target + " with X-Request-ID: " + e.sent_id + " -> " +
                               std::to_string(e.status) + ", X-Request-ID: " + e.echoed;
      if (e.status != 200) wrong.push_back(what + ": status is not 200");
      if (e.echoed != e.sent_id) wrong.push_back(what + ": not the ID that was sent");
      auto const got = forwarded.count(e.target) ? forwarded[e.target] : "(no call)";
      if (got != e.sent_id) wrong.push_back(what + ": the upstream got X-Request-ID " + got);
      for (auto const& l : about(s.j, e.target))
        if (!starts_with(l, "request_id=" + e.sent_id + " ")) wrong.push_back(what + ": logged " + l);
    }
  INFO("log lines:\n" << s.j.dump());
  INFO(wrong.size() << " things went wrong:\n" << listing(wrong));
  CHECK(wrong.empty());
  CHECK(upstream.calls().size() == clients * rounds);
}

// ---------------------------------------------------------------- AC7

TEST_CASE("recover() logs the exception with the request's ID; the client gets a 500 and the ID, not the secret", "[AC7]")
{
  counting_random random;
  auto const handler = [](task09::request_context, task09::request& req, task09::respond done) {
    if (req.target() == "/boom") throw std::runtime_error("disk full under /var/db/customers");
    done(journal::reply(status::ok, "fine\n"));
  };
  served s(task09::chain(task09::request_id(random.source()), task09::access_log(), task09::recover())(handler));
  workbook::test_client client(s.port());

  auto const boom = client.send(get("/boom", with_id("boom-1")));
  CHECK(boom.status == 500);
  CHECK(boom.header("X-Request-ID").value_or("(no X-Request-ID)") == "boom-1");
  CHECK(boom.header("Content-Type").value_or("") == "text/plain");
  CHECK(boom.body.find("/var/db") == std::string::npos);
  INFO("log lines:\n" << s.j.dump());
  CHECK(s.j.lines() == lines{
                           "request_id=boom-1 recovered method=GET target=/boom error=disk full under /var/db/customers",
                           "request_id=boom-1 method=GET target=/boom status=500",
                       });

  // The same connection serves on, and a generated ID is logged the same way.
  s.j.clear();
  auto const fine = client.get("/fine");
  CHECK(fine.status == 200);
  auto const again = client.get("/boom");
  CHECK(again.status == 500);
  CHECK(client.connections_opened() == 1);
  auto const id = counting_random::nth_id(1);
  CHECK(again.header("X-Request-ID").value_or("(no X-Request-ID)") == id);
  CHECK(s.j.containing("recovered") ==
        lines{"request_id=" + id + " recovered method=GET target=/boom error=disk full under /var/db/customers"});
}

TEST_CASE("recover() catches what is not a std::exception, and answers once", "[AC7]")
{
  journal j;
  auto const app = task09::recover()(
      [](task09::request_context, task09::request&, task09::respond) { throw 42; });
  auto req = direct("/things/9");
  req.method(task09::http::verb::delete_);
  direct_outcome out;
  CHECK_NOTHROW(out = call(app, req, j, "odd-1"));
  REQUIRE(out.response);
  CHECK(out.response->result() == status::internal_server_error);
  CHECK(out.answers == 1);
  CHECK(j.lines() == lines{"request_id=odd-1 recovered method=DELETE target=/things/9 error=(not a std::exception)"});
}

TEST_CASE("a handler that answered and then threw: the line is written, and no second response", "[AC7]")
{
  journal j;
  auto const app = task09::recover()([](task09::request_context, task09::request&, task09::respond done) {
    done(journal::reply(status::created, "made\n"));
    throw std::logic_error("bug after the answer");
  });
  auto req = direct("/things");
  direct_outcome out;
  CHECK_NOTHROW(out = call(app, req, j, "late-1"));
  REQUIRE(out.response);
  CHECK(out.response->result() == status::created);
  CHECK(out.answers == 1);
  CHECK(j.lines() == lines{"request_id=late-1 recovered method=GET target=/things error=bug after the answer"});
}

TEST_CASE("recover() passes a normal response through untouched and writes nothing", "[AC7]")
{
  journal j;
  auto const app = task09::recover()([](task09::request_context, task09::request& req, task09::respond done) {
    if (req.target() == "/fail") throw std::runtime_error("bug");
    auto res = journal::reply(status::created, "made\n");
    res.set("X-Custom", "kept");
    done(std::move(res));
  });
  auto ok = direct("/things");
  auto const out = call(app, ok, j, "ok-1");
  REQUIRE(out.response);
  CHECK(out.response->result() == status::created);
  CHECK((*out.response)["X-Custom"] == "kept");
  CHECK(out.response->body() == "made\n");
  CHECK(j.lines().empty());

  // And the same layer does catch (so that the test above cannot pass by doing nothing).
  auto failing = direct("/fail");
  direct_outcome caught;
  CHECK_NOTHROW(caught = call(app, failing, j, "ok-2"));
  CHECK(j.lines() == lines{"request_id=ok-2 recovered method=GET target=/fail error=bug"});
}
