// Stretch 2 · acceptance tests for distribution [AC1]: round robin gives
// each eligible backend exactly its turn, in configuration order, whether
// the requests come from one client or eight threads at once, and a down
// backend's turn goes round the rotation, not to its neighbour;
// least-connections picks the eligible backend with the fewest requests in
// flight, ties in rotation, and a request that ended in an error no longer
// counts; and a request reaches its backend intact, without hop-by-hop
// fields, with X-Forwarded-For appended, and comes back without the
// backend's hop-by-hop fields.
//
// The policies are deterministic (R2): the tests assert exact shares and
// sequences, read from each response's X-Served-By and from what reached
// each backend (probes apart).
#include "fixtures.hpp"

#include <workbook/test_client.hpp>

#include <catch2/catch.hpp>

using namespace stretch2_test;

namespace {

adjust_fn least_connections(milliseconds backend_timeout = 300ms)
{
  return [backend_timeout](stretch2::balancer_options& o) {
    o.policy = stretch2::policy::least_connections;
    o.backend_timeout = backend_timeout;
  };
}

std::vector<std::string> repeated(std::vector<std::string> const& cycle, int n)
{
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(cycle[static_cast<std::size_t>(i) % cycle.size()]);
  return out;
}

bool all_status(std::vector<workbook::response> const& rs, int status)
{
  return std::all_of(rs.begin(), rs.end(), [&](auto const& r) { return r.status == status; });
}

} // namespace

TEST_CASE("round robin visits the backends in configuration order", "[AC1]")
{
  backend_farm farm;
  lb_rig rig(farm);

  auto client = rig.proxy();
  auto const rs = get_n(client, 30);
  INFO("30 GETs on one connection came back: " << describe(rs) << "\n" << rig.state());
  CHECK(all_status(rs, 200));
  CHECK(joined(served_sequence(rs)) == joined(repeated({"a", "b", "c"}, 30)));
  CHECK(farm.traffic() == std::map<std::string, int>{{"a", 10}, {"b", 10}, {"c", 10}});
  CHECK(client.connections_opened() == 1);
}

TEST_CASE("eight threads under round robin give each backend exactly its share", "[AC1]")
{
  backend_farm farm;
  lb_rig rig(farm);

  int const threads = 8, each = 30;
  std::mutex mutex;
  std::condition_variable cv;
  bool go = false;
  std::vector<std::vector<workbook::response>> answers(threads);
  std::vector<std::thread> clients;
  for (int i = 0; i < threads; ++i)
    clients.emplace_back([&, i] {
      auto client = rig.proxy();
      {
        std::unique_lock lock(mutex);
        cv.wait(lock, [&] { return go; });
      }
      answers[static_cast<std::size_t>(i)] = get_n(client, each, "/thread/" + std::to_string(i));
    });
  {
    std::lock_guard lock(mutex);
    go = true;
  }
  cv.notify_all();
  for (auto& c : clients) c.join();

  std::vector<workbook::response> all;
  for (auto const& a : answers) all.insert(all.end(), a.begin(), a.end());
  INFO("8 clients x 30 GETs, released together; by X-Served-By: " << describe(count_served(all)) << "\n"
                                                                   << describe(all) << "\n" << rig.state());
  CHECK(all.size() == 240);
  CHECK(all_status(all, 200));
  CHECK(count_served(all) == std::map<std::string, int>{{"a", 80}, {"b", 80}, {"c", 80}});
  CHECK(farm.traffic() == std::map<std::string, int>{{"a", 80}, {"b", 80}, {"c", 80}});
}

TEST_CASE("a down backend's turn is not handed to its neighbour", "[AC1]")
{
  backend_farm farm;
  farm.set_health("b", health_mode::sick);
  lb_rig rig(farm);
  rig.settled();
  auto const checked = rig.check();
  INFO("POST /check: " << checked.describe());
  REQUIRE(checked.field("b", "health") == "down");

  auto client = rig.proxy();
  auto const rs = get_n(client, 20);
  INFO("with b down, 20 GETs came back: " << describe(rs) << "\n" << rig.state());
  CHECK(all_status(rs, 200));
  // b's turn goes to the next eligible backend after the previous choice:
  // a, c, a, c. Handing it to c would make it a, c, c, a, c, c.
  CHECK(joined(served_sequence(rs)) == joined(repeated({"a", "c"}, 20)));
  CHECK(farm.traffic() == std::map<std::string, int>{{"a", 10}, {"b", 0}, {"c", 10}});
}

TEST_CASE("least connections avoids a backend that holds a request", "[AC1]")
{
  backend_farm farm;
  lb_rig rig(farm, least_connections(5000ms));

  background_get held(rig.port(), "/hold/1");
  REQUIRE(workbook::eventually([&] { return farm.held() == 1; }, scaled(2s)));
  std::string holder;
  for (auto const& id : farm.ids())
    if (farm.held(id) == 1) holder = id;

  auto client = rig.proxy();
  auto const rs = get_n(client, 20);
  auto const counts = count_served(rs);
  INFO(holder << " holds a request; 20 GETs came back: " << describe(rs) << "\n" << rig.state());
  CHECK(all_status(rs, 200));
  CHECK(counts.count(holder) == 0);
  for (auto const& id : farm.ids())
    if (id != holder) CHECK((counts.count(id) == 1 && counts.at(id) == 10));
  CHECK(rig.status(holder).in_flight == 1);

  farm.release(holder);
  auto const answer = held.wait(scaled(2s));
  INFO("the held request, released: " << describe(answer));
  CHECK(answer.status == 200);
  CHECK(served_by(answer) == holder);
}

TEST_CASE("least connections spreads an idle farm in rotation", "[AC1]")
{
  backend_farm farm;
  lb_rig rig(farm, least_connections());

  auto client = rig.proxy();
  auto const rs = get_n(client, 30);
  INFO("30 sequential GETs (every backend idle each time) came back: " << describe(rs) << "\n" << rig.state());
  CHECK(all_status(rs, 200));
  // Every choice is a tie at 0: it goes to the first tied backend after
  // the previous choice.
  CHECK(joined(served_sequence(rs)) == joined(repeated({"a", "b", "c"}, 30)));
  CHECK(farm.traffic() == std::map<std::string, int>{{"a", 10}, {"b", 10}, {"c", 10}});
}

TEST_CASE("a failed request no longer counts as in flight", "[AC1]")
{
  backend_farm farm;
  lb_rig rig(farm, least_connections(5000ms));

  auto client = rig.proxy();
  auto const reset = client.get("/reset");
  INFO("GET /reset (the backend closes without answering): " << describe(reset) << "\n" << rig.state());
  CHECK(reset.status == 502);
  std::string failed;
  for (auto const& id : farm.ids())
    if (farm.traffic(id) > 0) failed = id;
  REQUIRE(!failed.empty());
  CHECK(workbook::eventually([&] { return rig.status(failed).in_flight == 0; }, scaled(1s)));

  // Hold one request at each of the two others: in_flight is then 1, 1, and
  // 0 at the backend whose request failed.
  background_get first(rig.port(), "/hold/1");
  REQUIRE(workbook::eventually([&] { return farm.held() == 1; }, scaled(2s)));
  background_get second(rig.port(), "/hold/2");
  REQUIRE(workbook::eventually([&] { return farm.held() == 2; }, scaled(2s)));
  INFO("after the 502 at " << failed << ", two held requests:\n" << rig.state());
  CHECK(farm.held(failed) == 0);

  // The fewest in flight is the backend whose request failed, every time.
  auto const rs = get_n(client, 3);
  INFO("the next 3 GETs came back: " << describe(rs));
  CHECK(all_status(rs, 200));
  CHECK(joined(served_sequence(rs)) == joined({failed, failed, failed}));

  for (auto const& id : farm.ids()) farm.release(id);
  CHECK(first.wait(scaled(2s)).status == 200);
  CHECK(second.wait(scaled(2s)).status == 200);
}

TEST_CASE("a request reaches its backend intact without hop-by-hop fields", "[AC1]")
{
  backend_farm farm;
  lb_rig rig(farm);

  std::string const body = "{\"order\":42,\"note\":\"intact\"}";
  std::string const sent = "POST /echo?x=1&y=2 HTTP/1.1\r\n"
                           "Host: shop.example:8080\r\n"
                           "Content-Type: application/json\r\n"
                           "Content-Length: " + std::to_string(body.size()) + "\r\n"
                           "X-Custom: kept\r\n"
                           "Connection: keep-alive, X-Secret\r\n"
                           "Connection: X-Second-Secret\r\n"
                           "X-Secret: hidden\r\n"
                           "X-Second-Secret: hidden too\r\n"
                           "Keep-Alive: timeout=5\r\n"
                           "TE: trailers\r\n"
                           "Trailer: X-Checksum\r\n"
                           "Upgrade: h2c\r\n"
                           "Proxy-Authorization: Basic dXNlcjpwYXNz\r\n"
                           "X-Forwarded-For: 203.0.113.7\r\n"
                           "\r\n" + body;
  workbook::raw_connection conn(rig.port());
  REQUIRE(conn.connected());
  REQUIRE(conn.send(sent));
  auto const res = conn.read_response();
  INFO("sent:\n" << printable(sent) << "\ncame back: " << describe(res));
  REQUIRE(res.status == 200);
  REQUIRE(res.has_header("X-Served-By"));

  // What the backend received (its /echo body, and its own record).
  auto const seen = parse_raw(res.body);
  auto const reached = farm.requests(served_by(res));
  REQUIRE(reached.size() == 1);
  CHECK(reached.front() == res.body);
  INFO("the backend received:\n" << seen.line << "\n" << show(seen.headers) << "  body \"" << printable(seen.body) << "\"");
  CHECK(seen.line == "POST /echo?x=1&y=2 HTTP/1.1");
  CHECK(seen.body == body);
  CHECK(values_of(seen.headers, "Content-Length") == std::vector<std::string>{std::to_string(body.size())});
  CHECK(values_of(seen.headers, "Content-Type") == std::vector<std::string>{"application/json"});
  CHECK(values_of(seen.headers, "Host") == std::vector<std::string>{"shop.example:8080"});
  CHECK(values_of(seen.headers, "X-Custom") == std::vector<std::string>{"kept"});
  CHECK(values_of(seen.headers, "X-Forwarded-For") == std::vector<std::string>{"203.0.113.7, 127.0.0.1"});
  for (char const* name :
       {"X-Secret", "X-Second-Secret", "Keep-Alive", "TE", "Trailer", "Upgrade", "Proxy-Authorization", "Transfer-Encoding"}) {
    INFO("field " << name);
    CHECK(values_of(seen.headers, name).empty());
  }
  // The balancer may say what it wants about its own connection to the
  // backend; the client's words about the client's connection stay behind.
  for (auto const& value : values_of(seen.headers, "Connection")) {
    INFO("Connection: " << value);
    CHECK_FALSE(has_token(value, "X-Secret"));
    CHECK_FALSE(has_token(value, "X-Second-Secret"));
  }

  // And the backend's own hop-by-hop fields stay on its side.
  for (char const* name : {"X-Backend-Hop", "Keep-Alive", "Proxy-Authenticate", "Trailer", "Upgrade"}) {
    INFO("response field " << name);
    CHECK(values_of(res.headers, name).empty());
  }
  for (auto const& value : values_of(res.headers, "Connection")) {
    INFO("response Connection: " << value);
    CHECK_FALSE(has_token(value, "X-Backend-Hop"));
  }
  CHECK(values_of(res.headers, "X-End-To-End") == std::vector<std::string>{"kept"});
}
