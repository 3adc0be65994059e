// Stretch 2 · acceptance tests for the admin endpoint [AC6]: table_json
// writes the documented table byte for byte; GET /backends answers it
// with each backend's live state (health, draining, breaker, in_flight,
// responses, failures, probes), as application/json, on a keep-alive
// connection; POST /check answers with the table after a probe round that
// started after the request; the endpoint binds only to a loopback
// address (any other throws invalid_argument before anything binds); and
// the same paths on the proxy port are proxied like any request.
#include "fixtures.hpp"

#include <workbook/test_client.hpp>

#include <catch2/catch.hpp>

#include <stdexcept>

using namespace stretch2_test;

namespace {

tcp::endpoint at(char const* address, unsigned short port) { return {net::ip::make_address(address), port}; }

std::string content_type(admin_reply const& r) { return r.response.header("Content-Type").value_or("(none)"); }

} // namespace

TEST_CASE("table_json writes the documented table exactly", "[AC6]")
{
  using stretch2::backend_status;
  using stretch2::health;

  std::vector<backend_status> two = {
      {.id = "a", .endpoint = at("127.0.0.1", 40001), .state = health::up, .draining = false, .breaker = std::nullopt,
       .in_flight = 0, .responses = 10, .failures = 0, .probes = 3},
      {.id = "b.2_x-Y", .endpoint = at("::1", 8080), .state = health::down, .draining = true,
       .breaker = breaker_state::open, .in_flight = 2, .responses = 12345678901, .failures = 7, .probes = 4},
  };
  auto const written = stretch2::table_json(stretch2::policy::least_connections, two);
  std::string const expected =
      "{\"policy\":\"least_connections\",\"backends\":["
      "{\"id\":\"a\",\"address\":\"127.0.0.1:40001\",\"health\":\"up\",\"draining\":false,\"breaker\":null,"
      "\"in_flight\":0,\"responses\":10,\"failures\":0,\"probes\":3},"
      "{\"id\":\"b.2_x-Y\",\"address\":\"[::1]:8080\",\"health\":\"down\",\"draining\":true,\"breaker\":\"open\","
      "\"in_flight\":2,\"responses\":12345678901,\"failures\":7,\"probes\":4}]}";
  INFO("table_json(least_connections, two backends) wrote\n  " << written << "\nexpected\n  " << expected);
  CHECK(written == expected);

  std::vector<backend_status> one = {{.id = "c", .endpoint = at("10.0.0.3", 80), .state = health::unknown,
                                      .breaker = breaker_state::half_open, .in_flight = 1}};
  auto const unknown = stretch2::table_json(stretch2::policy::round_robin, one);
  std::string const expected_unknown =
      "{\"policy\":\"round_robin\",\"backends\":["
      "{\"id\":\"c\",\"address\":\"10.0.0.3:80\",\"health\":\"unknown\",\"draining\":false,\"breaker\":\"half_open\","
      "\"in_flight\":1,\"responses\":0,\"failures\":0,\"probes\":0}]}";
  INFO("table_json(round_robin, one backend) wrote\n  " << unknown << "\nexpected\n  " << expected_unknown);
  CHECK(unknown == expected_unknown);

  auto const none = stretch2::table_json(stretch2::policy::sticky_cookie, {});
  INFO("table_json(sticky_cookie, no backend) wrote " << none);
  CHECK(none == "{\"policy\":\"sticky_cookie\",\"backends\":[]}");
}

TEST_CASE("GET /backends shows each backend's live state", "[AC6]")
{
  backend_farm farm;
  lb_rig rig(farm, [](stretch2::balancer_options& o) { o.backend_timeout = 5000ms; });
  rig.settled();

  // a, b, c, a, b, c, a, b answered; the ninth, to c, held.
  auto client = rig.proxy();
  auto const rs = get_n(client, 8);
  INFO("8 GETs: " << describe(rs));
  REQUIRE(joined(served_sequence(rs)) == "a b c a b c a b");
  background_get held(rig.port(), "/hold/9");
  REQUIRE(farm.until_held("c", 1, scaled(2s)));

  auto const expected = table_text("round_robin", {
                                                      {.id = "a", .address = farm.address("a"), .responses = 3, .probes = 1},
                                                      {.id = "b", .address = farm.address("b"), .responses = 3, .probes = 1},
                                                      {.id = "c", .address = farm.address("c"), .in_flight = 1, .responses = 2, .probes = 1},
                                                  });
  for (int i = 1; i <= 3; ++i) {
    auto const table = rig.admin_get("/backends");
    INFO("GET /backends, request " << i << " on one connection: " << table.describe() << "\nexpected body\n  "
                                   << expected);
    CHECK(table.status() == 200);
    CHECK(content_type(table).rfind("application/json", 0) == 0);
    CHECK(table.response.body == expected);
  }
  CHECK(rig.admin_connections() == 1);

  farm.release("c");
  CHECK(held.wait(scaled(2s)).status == 200);
  CHECK(workbook::eventually([&] { return rig.status("c").in_flight == 0; }, scaled(1s)));
  auto const after = rig.admin_get("/backends");
  INFO("after the release, GET /backends: " << after.describe());
  CHECK(after.field("c", "in_flight") == 0);
  CHECK(after.field("c", "responses") == 3);

  // The table read while two clients load the proxy: always whole.
  load_driver load(rig.port(), 2);
  for (int i = 0; i < 10; ++i) {
    auto const table = rig.admin_get("/backends");
    INFO("GET /backends under load: " << table.describe());
    CHECK(table.status() == 200);
    CHECK(table.backend("a").is_object());
    CHECK(table.backend("c").is_object());
  }
  load.stop();
}

TEST_CASE("a forced check probes every backend and answers with the new table", "[AC6]")
{
  backend_farm farm;
  lb_rig rig(farm);
  rig.settled();
  for (auto const& id : farm.ids()) REQUIRE(rig.status(id).probes == 1);

  // b now fails its probe, and takes 20 ms to say so.
  farm.set_health("b", health_mode::sick, 20ms);
  auto const checked = rig.check();
  INFO("POST /check: " << checked.describe() << "\n" << rig.state());
  REQUIRE(checked.status() == 200);
  CHECK(content_type(checked).rfind("application/json", 0) == 0);
  CHECK((checked.json.is_object() && checked.json.value("policy", "") == "round_robin"));
  CHECK(checked.field("a", "health") == "up");
  CHECK(checked.field("b", "health") == "down");
  CHECK(checked.field("c", "health") == "up");
  for (auto const& id : farm.ids()) {
    INFO("backend " << id);
    CHECK(checked.field(id, "probes") == 2);
    CHECK(farm.probes(id) == 2);
  }
  CHECK(rig.log.await_nth(is(event_kind::round_done), 2, scaled(1s)).has_value());
}

TEST_CASE("the admin endpoint refuses an address that is not loopback", "[AC6]")
{
  backend_farm farm;
  net::io_context ioc;
  workbook::io_threads threads(ioc, 2);

  for (char const* address : {"0.0.0.0", "203.0.113.5", "::"}) {
    INFO("admin_on " << address << ":0");
    // 203.0.113.5 is no address of this machine: a balancer that tried to
    // bind it first would throw a system_error, not invalid_argument.
    CHECK_THROWS_AS(stretch2::load_balancer(ioc.get_executor(), local(0), at(address, 0), farm.configs()),
                    std::invalid_argument);
  }

  // Any loopback address will do; listen_on may be anything.
  stretch2::balancer_options options;
  options.health_interval = std::chrono::hours(1);
  options.probe_timeout = 100ms;
  std::optional<stretch2::load_balancer> lb;
  REQUIRE_NOTHROW(lb.emplace(ioc.get_executor(), at("0.0.0.0", 0), at("127.0.0.2", 0), farm.configs(), options));
  lb->start();
  CHECK(lb->admin_endpoint().address() == net::ip::make_address("127.0.0.2"));
  CHECK(lb->admin_endpoint().port() != 0);
  CHECK(lb->local_endpoint().port() != 0);
  workbook::test_client client(lb->local_endpoint().port());
  auto const r = client.get("/");
  INFO("GET / to the proxy listening on 0.0.0.0: " << describe(r));
  CHECK(r.status == 200);
  lb.reset();
}

TEST_CASE("admin paths on the proxy port are proxied, never executed", "[AC6]")
{
  backend_farm farm;
  lb_rig rig(farm);
  rig.settled();

  auto client = rig.proxy();
  std::vector<workbook::response> rs;
  rs.push_back(client.send({"POST", "/drain/b", {}, ""}));
  rs.push_back(client.send({"POST", "/check", {}, ""}));
  rs.push_back(client.send({"GET", "/backends", {}, ""}));
  INFO("POST /drain/b, POST /check and GET /backends to the proxy port came back: " << describe(rs) << "\n"
                                                                                    << rig.state());
  for (auto const& r : rs) {
    CHECK(r.status == 200);
    CHECK(r.body == "backend " + served_by(r));
  }
  CHECK(joined(served_sequence(rs)) == "a b c");
  auto const a = farm.requests("a");
  auto const b = farm.requests("b");
  auto const c = farm.requests("c");
  REQUIRE((a.size() == 1 && b.size() == 1 && c.size() == 1));
  CHECK(a.front().rfind("POST /drain/b HTTP/1.1\r\n", 0) == 0);
  CHECK(b.front().rfind("POST /check HTTP/1.1\r\n", 0) == 0);
  CHECK(c.front().rfind("GET /backends HTTP/1.1\r\n", 0) == 0);

  CHECK_FALSE(rig.status("b").draining);
  CHECK(rig.log.count(is(event_kind::draining)) == 0);
  CHECK(rig.log.count(is(event_kind::round_done)) == 1);
  for (auto const& id : farm.ids()) CHECK(farm.probes(id) == 1);
}
