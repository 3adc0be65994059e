// Task 07 · acceptance tests for the order of layers [AC1] and for chain()
// [AC3]. The layers named after letters and "Logging"/"Auth" are the test's
// own (fixtures.hpp); logging() and bearer_auth() are yours.
#include "fixtures.hpp"

#include <workbook/test_client.hpp>

#include <catch2/catch.hpp>

using namespace task07_test;
using events = std::vector<std::string>;

namespace {

// A log line cut after its status, so an event list can be compared
// whatever the body of a 401 says: "log: method=GET target=/ status=401 ...".
events up_to_status(events in)
{
  for (auto& e : in)
    if (e.rfind("log: ", 0) == 0)
      if (auto const s = e.find(" status="); s != std::string::npos)
        if (auto const end = e.find(' ', s + 1); end != std::string::npos) e = e.substr(0, end) + " ...";
  return in;
}

// A layer of the test's own that leaves traces in the data as well as in the
// journal: it appends NAME to the request's X-Seen field on the way in and
// to the response's X-Trail field on the way out.
task07::middleware tagging(journal& j, std::string name)
{
  return [&j, name](task07::handler next) -> task07::handler {
    return [&j, name, next = std::move(next)](task07::request& req) {
      j.record(name);
      auto const it = req.find("X-Seen");
      std::string const before = it == req.end() ? "" : std::string(it->value());
      req.set("X-Seen", before.empty() ? name : before + "," + name);
      auto res = next(req);
      auto const trail = res.find("X-Trail");
      std::string const after = trail == res.end() ? "" : std::string(trail->value());
      res.set("X-Trail", after.empty() ? name : after + "," + name);
      j.record(name + "-after");
      return res;
    };
  };
}

// A handler that says which layers the request passed through.
task07::handler seeing(journal& j)
{
  return [&j](task07::request& req) {
    auto const it = req.find("X-Seen");
    std::string const seen = it == req.end() ? "" : std::string(it->value());
    j.record("handler saw " + seen);
    return journal::reply(req, status::ok, "seen=" + seen + "\n");
  };
}

struct outcome {
  events trace;
  std::string trail;
  std::string body;
  bool operator==(outcome const&) const = default;
};

std::ostream& operator<<(std::ostream& os, outcome const& o)
{
  os << "{events:";
  for (auto const& e : o.trace) os << " [" << e << "]";
  return os << "; X-Trail: \"" << o.trail << "\"; body: \"" << o.body << "\"}";
}

// Builds a handler with `compose` from layers and a handler that write to a
// fresh journal, calls it once, and reports what happened.
template <class Compose>
outcome run(Compose compose)
{
  journal j;
  task07::handler h = compose(j);
  auto req = direct("GET", "/");
  auto const res = h(req);
  auto const trail = res.find("X-Trail");
  return {j.events(), trail == res.end() ? "" : std::string(trail->value()), res.body()};
}

} // namespace

// ---------------------------------------------------------------- AC1

TEST_CASE("chain(Logging, Auth): Logging -> Auth -> handler -> Auth-after -> Logging-after", "[AC1]")
{
  journal j;
  auto const app = task07::chain(j.marks("Logging"), j.marks("Auth"))(j.answering("hello\n"));
  auto server = workbook::serving_beast(app);
  workbook::test_client client(server.port());

  auto const res = client.get("/");
  CHECK(res.status == 200);
  CHECK(res.body == "hello\n");
  CHECK(j.events() == events{"Logging", "Auth", "handler", "Auth-after", "Logging-after"});
}

TEST_CASE("logging() and bearer_auth() act where chain() puts them, on the way in and out", "[AC1]")
{
  journal j;
  workbook::manual_clock clock;
  // Your logging and auth, with the test's own layers between them.
  auto const app = task07::chain(j.marks("1"), task07::logging(j.sink(), reading(clock)), j.marks("2"),
                                 task07::bearer_auth("dev"), j.marks("3"))(j.answering("hello\n"));
  auto server = workbook::serving_beast(app);
  workbook::test_client client(server.port());

  auto const ok = client.send(get("/hello", authorization("Bearer dev")));
  CHECK(ok.status == 200);
  CHECK(j.events() == events{"1", "2", "3", "handler", "3-after", "2-after",
                             "log: method=GET target=/hello status=200 bytes=6 latency_us=0", "1-after"});

  // Without a token, auth answers: nothing inside it runs, and logging,
  // outside it, logs on the way out what auth decided.
  j.clear();
  auto const denied = client.get("/hello");
  CHECK(denied.status == 401);
  CHECK(up_to_status(j.events()) ==
        events{"1", "2", "2-after", "log: method=GET target=/hello status=401 ...", "1-after"});
}

// ---------------------------------------------------------------- AC3

TEST_CASE("through a server, chain(a, b, c) passes the request a, b, c and the response c, b, a", "[AC3]")
{
  journal j;
  auto const app = task07::chain(tagging(j, "a"), tagging(j, "b"), tagging(j, "c"))(seeing(j));
  auto server = workbook::serving_beast(app);
  workbook::test_client client(server.port());

  auto const res = client.get("/");
  CHECK(res.status == 200);
  CHECK(res.body == "seen=a,b,c\n");
  CHECK(res.header("X-Trail").value_or("(no X-Trail)") == "c,b,a");
  CHECK(j.events() == events{"a", "b", "c", "handler saw a,b,c", "c-after", "b-after", "a-after"});
}

TEST_CASE("chain(a, b, c)(h) behaves as a(b(c(h)))", "[AC3]")
{
  auto const by_hand = run([](journal& j) { return tagging(j, "a")(tagging(j, "b")(tagging(j, "c")(seeing(j)))); });
  auto const chained = run([](journal& j) { return task07::chain(tagging(j, "a"), tagging(j, "b"), tagging(j, "c"))(seeing(j)); });
  auto const from_vector = run([](journal& j) {
    return task07::chain(std::vector<task07::middleware>{tagging(j, "a"), tagging(j, "b"), tagging(j, "c")})(seeing(j));
  });
  CHECK(chained == by_hand);
  CHECK(from_vector == by_hand);
  CHECK(by_hand.trail == "c,b,a");  // the yardstick itself
}

TEST_CASE("chain() is the identity, and chain(a) is a", "[AC3]")
{
  auto const bare = run([](journal& j) { return seeing(j); });
  auto const empty_chain = run([](journal& j) { return task07::chain()(seeing(j)); });
  CHECK(empty_chain == bare);

  auto const a_alone = run([](journal& j) { return tagging(j, "a")(seeing(j)); });
  auto const chain_of_a = run([](journal& j) { return task07::chain(tagging(j, "a"))(seeing(j)); });
  CHECK(chain_of_a == a_alone);
  CHECK(a_alone.body == "seen=a\n");
}

TEST_CASE("chains nest: chain(chain(a, b), c) and chain(a, chain(b, c)) are chain(a, b, c)", "[AC3]")
{
  auto const flat = run([](journal& j) { return task07::chain(tagging(j, "a"), tagging(j, "b"), tagging(j, "c"))(seeing(j)); });
  auto const left = run([](journal& j) {
    return task07::chain(task07::chain(tagging(j, "a"), tagging(j, "b")), tagging(j, "c"))(seeing(j));
  });
  auto const right = run([](journal& j) {
    return task07::chain(tagging(j, "a"), task07::chain(tagging(j, "b"), tagging(j, "c")))(seeing(j));
  });
  CHECK(left == flat);
  CHECK(right == flat);
  CHECK(flat.body == "seen=a,b,c\n");
}

TEST_CASE("one chain wraps any number of handlers, each exactly once", "[AC3]")
{
  journal j;
  // Two handlers that answer differently: a chain that kept the first one
  // it wrapped, or wrapped the second in the first's layers twice, shows.
  auto const named = [&j](std::string name) -> task07::handler {
    return [&j, name](task07::request& req) {
      auto const it = req.find("X-Seen");
      std::string const seen = it == req.end() ? "" : std::string(it->value());
      j.record(name + " saw " + seen);
      return journal::reply(req, status::ok, name + " seen=" + seen + "\n");
    };
  };
  auto const stack = task07::chain(tagging(j, "a"), tagging(j, "b"));
  auto const first = stack(named("first"));
  auto const second = stack(named("second"));

  auto req = direct("GET", "/");
  CHECK(first(req).body() == "first seen=a,b\n");
  auto again = direct("GET", "/");
  CHECK(second(again).body() == "second seen=a,b\n");
  auto once_more = direct("GET", "/");
  CHECK(first(once_more).body() == "first seen=a,b\n");
  CHECK(j.events() == events{"a", "b", "first saw a,b", "b-after", "a-after",
                             "a", "b", "second saw a,b", "b-after", "a-after",
                             "a", "b", "first saw a,b", "b-after", "a-after"});
}
