// Task 05 · acceptance tests for keys and caps across origins, [AC3]. Each
// server here is its own origin (127.0.0.1 with its own port) and answers
// with its name, so a connection handed to the wrong origin shows at once.
#include "fixtures.hpp"

#include <workbook/eventually.hpp>

#include <catch2/catch.hpp>

#include <array>

using namespace task05_test;

namespace {

workbook::test_server named_server(std::string name)
{
  return workbook::test_server::serving([name](workbook::request const& req) {
    return workbook::response{200, "", {}, name + " " + req.target + "\n", ""};
  });
}

// GETs each URL in turn; returns the responses.
std::vector<task05::response> get_each(std::shared_ptr<task05::transport> t, std::vector<workbook::test_server*> servers,
                                       std::vector<std::string> urls)
{
  return drive(t, servers, [urls](task05::transport& tr) {
    std::vector<task05::response> out;
    for (auto const& u : urls) out.push_back(tr.get(u));
    return out;
  });
}

} // namespace

TEST_CASE("idle connections are kept per origin, and max_idle_per_host counts each origin apart", "[AC3]")
{
  auto a = named_server("A");
  auto b = named_server("B");
  auto log = std::make_shared<got_conn_log>();
  task05::transport_options options;
  options.max_idle_per_host = 1;
  auto t = make_transport(options, log);

  auto const responses = get_each(t, {&a, &b},
                                  {a.url() + "/1", b.url() + "/1", a.url() + "/2", b.url() + "/2", a.url() + "/3",
                                   b.url() + "/3"});
  std::vector<std::string> const expected{"A /1\n", "B /1\n", "A /2\n", "B /2\n", "A /3\n", "B /3\n"};
  REQUIRE(responses.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("request " << i + 1 << ": " << describe(responses[i]));
    REQUIRE(!responses[i].error);
    CHECK(responses[i].body == expected[i]);
  }

  auto const calls = log->calls();
  INFO(describe(calls));
  REQUIRE(calls.size() == 6);
  for (std::size_t i = 0; i < calls.size(); ++i) {
    CHECK(calls[i].key == (i % 2 == 0 ? a.url() : b.url()));
    CHECK(calls[i].reused == (i >= 2));
  }
  INFO("connections accepted: A " << a.accepted() << ", B " << b.accepted()
       << ". With one idle connection allowed per origin, each origin keeps its own");
  CHECK(a.accepted() == 1);
  CHECK(b.accepted() == 1);
  CHECK(idle_count(t, {&a, &b}, a.url()) == 1);
  CHECK(idle_count(t, {&a, &b}, b.url()) == 1);
  CHECK(idle_count(t, {&a, &b}) == 2);
}

TEST_CASE("max_idle_total caps the idle connections of all origins together", "[AC3]")
{
  std::array<workbook::test_server, 3> servers{named_server("A"), named_server("B"), named_server("C")};
  std::vector<workbook::test_server*> all{&servers[0], &servers[1], &servers[2]};
  auto log = std::make_shared<got_conn_log>();
  task05::transport_options options;
  options.max_idle_per_host = 2;
  options.max_idle_total = 2;
  auto t = make_transport(options, log);

  auto const first = get_each(t, all, {servers[0].url() + "/", servers[1].url() + "/", servers[2].url() + "/"});
  for (auto const& r : first) {
    INFO(describe(r));
    REQUIRE(r.status == 200);
  }
  auto const idle = idle_count(t, all);
  INFO("idle connections the transport reports: " << idle);
  CHECK(idle == 2);
  auto const open_in_all = [&] { return servers[0].open() + servers[1].open() + servers[2].open(); };
  bool const two_open = workbook::eventually([&] { return open_in_all() == 2; }, 2s);
  INFO("connections the servers still see open: A " << servers[0].open() << ", B " << servers[1].open()
       << ", C " << servers[2].open() << ". Three connections, room for two: one must be closed");
  REQUIRE(two_open);

  // Whichever connection the pool let go, the two it kept are reused and
  // the third origin needs a new one. (The kept ones go first, so that a
  // connection given back cannot push out one the test has yet to use.)
  std::vector<std::string> kept, dropped;
  for (auto& s : servers) (s.open() == 1 ? kept : dropped).push_back(s.url());
  REQUIRE(kept.size() == 2);
  REQUIRE(dropped.size() == 1);
  auto const second = get_each(t, all, {kept[0] + "/again", kept[1] + "/again", dropped[0] + "/again"});
  for (auto const& r : second) {
    INFO(describe(r));
    REQUIRE(r.status == 200);
  }
  auto const calls = log->calls();
  INFO(describe(calls));
  REQUIRE(calls.size() == 6);
  CHECK(calls[3].reused);
  CHECK(calls[4].reused);
  CHECK_FALSE(calls[5].reused);
  CHECK(servers[0].accepted() + servers[1].accepted() + servers[2].accepted() == 4);
  CHECK(idle_count(t, all) <= 2);
}

TEST_CASE("only http URLs with an IP literal are fetched; anything else is an error and connects nothing", "[AC3]")
{
  auto a = named_server("A");
  auto log = std::make_shared<got_conn_log>();
  auto t = make_transport({}, log);
  auto const port = std::to_string(a.port());

  auto const responses = get_each(t, {&a}, {"https://127.0.0.1:" + port + "/", "127.0.0.1:" + port + "/",
                                            "http://127.0.0.1:not-a-port/", "http://127.0.0.1:" + port + "/fine"});
  REQUIRE(responses.size() == 4);
  INFO("https://127.0.0.1:" << port << "/ -> " << describe(responses[0]));
  CHECK(responses[0].error);
  INFO("127.0.0.1:" << port << "/ (no scheme) -> " << describe(responses[1]));
  CHECK(responses[1].error);
  INFO("http://127.0.0.1:not-a-port/ -> " << describe(responses[2]));
  CHECK(responses[2].error);
  INFO("http://127.0.0.1:" << port << "/fine -> " << describe(responses[3]));
  CHECK(responses[3].status == 200);
  CHECK(responses[3].body == "A /fine\n");

  auto const calls = log->calls();
  INFO(describe(calls));
  CHECK(calls.size() == 1);
  INFO("the server accepted " << a.accepted() << " connection(s): only the http URL should connect");
  CHECK(a.accepted() == 1);
}
