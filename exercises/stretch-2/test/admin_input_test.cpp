// Stretch 2 · acceptance tests for bad admin input [AC7]: an unknown id is
// a 404 that names it, a malformed id a 400, an unknown path a 404, a
// wrong method a 405 with Allow, a body over 1 KiB a 413 decided from the
// header (before the body is read), an unparsable request a 400 and a
// closed connection; every error is a JSON {"error":...}, none changes
// the table or reports an event, and the endpoint goes on serving.
#include "fixtures.hpp"

#include <workbook/test_client.hpp>

#include <catch2/catch.hpp>

using namespace stretch2_test;

namespace {

// The error's text, or "" when the body is not {"error":"<text>"}.
std::string error_text(admin_reply const& r)
{
  if (!r.is_json() || !r.json.is_object() || !r.json.contains("error") || !r.json["error"].is_string()) return "";
  return r.json["error"].get<std::string>();
}

bool json_type(admin_reply const& r)
{
  return r.response.header("Content-Type").value_or("").rfind("application/json", 0) == 0;
}

// What the admin endpoint shows, and the events so far: what bad input
// must leave as it is.
struct unchanged {
  std::string table;
  std::size_t events;
};

unchanged snapshot(lb_rig& rig) { return {rig.admin_get("/backends").response.body, rig.log.snapshot().size()}; }

} // namespace

TEST_CASE("an unknown backend id is a 404 naming it and changes nothing", "[AC7]")
{
  backend_farm farm;
  lb_rig rig(farm);
  rig.settled();
  auto const before = snapshot(rig);
  REQUIRE(rig.admin_get("/backends").status() == 200);

  for (std::string const target : {"/drain/zz", "/undrain/zz", "/drain/nobody.here"}) {
    auto const r = rig.admin_post(target);
    auto const id = target.substr(target.rfind('/') + 1);
    INFO("POST " << target << ": " << r.describe());
    CHECK(r.status() == 404);
    CHECK(json_type(r));
    CHECK(error_text(r).find(id) != std::string::npos);
  }

  auto const after = snapshot(rig);
  INFO("GET /backends before:\n  " << before.table << "\nafter:\n  " << after.table << "\n" << rig.log.describe());
  CHECK(after.table == before.table);
  CHECK(after.events == before.events);
  CHECK(rig.table().size() == 3);
}

TEST_CASE("a wrong method is a 405 with the allowed method", "[AC7]")
{
  backend_farm farm;
  lb_rig rig(farm);
  rig.settled();
  auto const before = snapshot(rig);

  struct attempt {
    char const* method;
    char const* target;
    char const* allowed;
  };
  for (auto const& a : {attempt{"GET", "/drain/a", "POST"}, attempt{"PUT", "/undrain/a", "POST"},
                        attempt{"POST", "/backends", "GET"}, attempt{"DELETE", "/check", "POST"},
                        attempt{"GET", "/check", "POST"}}) {
    auto const r = rig.admin({a.method, a.target, {}, ""});
    auto const allow = r.response.header("Allow").value_or("");
    INFO(a.method << " " << a.target << ": " << r.describe());
    CHECK(r.status() == 405);
    CHECK(has_token(allow, a.allowed));
    CHECK_FALSE(has_token(allow, a.method));
    CHECK(json_type(r));
    CHECK_FALSE(error_text(r).empty());
  }

  auto const after = snapshot(rig);
  INFO("GET /backends before:\n  " << before.table << "\nafter:\n  " << after.table << "\n" << rig.log.describe());
  CHECK(after.table == before.table);
  CHECK(after.events == before.events);
  CHECK_FALSE(rig.status("a").draining);
}

TEST_CASE("malformed ids and unknown paths are refused", "[AC7]")
{
  backend_farm farm;
  lb_rig rig(farm);
  rig.settled();
  auto const before = snapshot(rig);

  std::string const a64(64, 'a'), a65(65, 'a');
  struct attempt {
    std::string method, target;
    std::vector<int> statuses;  // what the contract allows
    std::string named;          // a 404 for an id names it
  };
  std::vector<attempt> const attempts = {
      // Not 1-64 of [A-Za-z0-9._-]: 400. (An empty id, or one with a "/",
      // may also be read as a path no route has: 404.)
      {"POST", "/drain/%61", {400}, ""},
      {"POST", "/drain/a%2Fb", {400}, ""},
      {"POST", "/drain/a+b", {400}, ""},
      {"POST", "/undrain/a:b", {400}, ""},
      {"POST", "/drain/" + a65, {400}, ""},
      {"POST", "/drain/", {400, 404}, ""},
      {"POST", "/drain/a/b", {400, 404}, ""},
      // Well formed, and no backend has it: 404, naming it.
      {"POST", "/drain/" + a64, {404}, a64},
      {"POST", "/drain/..", {404}, ".."},
      {"POST", "/drain/zz?id=a", {404}, "zz"},
      // No such path.
      {"GET", "/backend", {404}, ""},
      {"GET", "/backends/", {404}, ""},
      {"GET", "/", {404}, ""},
      {"POST", "/drainb", {404}, ""},
      {"POST", "/check/now", {404}, ""},
  };
  for (auto const& a : attempts) {
    auto const r = rig.admin({a.method, a.target, {}, ""});
    INFO(a.method << " " << a.target << ": " << r.describe());
    CHECK(std::find(a.statuses.begin(), a.statuses.end(), r.status()) != a.statuses.end());
    CHECK(json_type(r));
    CHECK_FALSE(error_text(r).empty());
    if (!a.named.empty()) CHECK(error_text(r).find(a.named) != std::string::npos);
  }

  // The query is ignored where the path is right.
  auto const with_query = rig.admin_get("/backends?pretty=1");
  INFO("GET /backends?pretty=1: " << with_query.describe());
  CHECK(with_query.status() == 200);

  auto const after = snapshot(rig);
  INFO("GET /backends before:\n  " << before.table << "\nafter:\n  " << after.table << "\n" << rig.log.describe());
  CHECK(after.table == before.table);
  CHECK(after.events == before.events);
  for (auto const& b : rig.table()) CHECK_FALSE(b.draining);
}

TEST_CASE("an oversized or unparsable request is refused and serving goes on", "[AC7]")
{
  backend_farm farm;
  lb_rig rig(farm);
  rig.settled();

  {
    // A header announcing 1 MiB, and no body: the answer cannot wait for it.
    workbook::raw_connection conn(rig.admin_port(), scaled(2s));
    REQUIRE(conn.connected());
    std::string const sent = "POST /drain/a HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                             "Content-Length: 1048576\r\n\r\n";
    auto const start = steady_clock::now();
    REQUIRE(conn.send(sent));
    auto const r = read_admin(conn.read_response());
    auto const took = since(start);
    INFO("sent " << printable(sent) << " (no body)\nafter " << took.count() << " ms: " << r.describe());
    CHECK(r.status() == 413);
    CHECK(took <= scaled(1s));
    CHECK(json_type(r));
    CHECK_FALSE(error_text(r).empty());
  }
  {
    // One byte over 1 KiB: still 413, and nothing drains.
    workbook::raw_connection conn(rig.admin_port(), scaled(2s));
    REQUIRE(conn.connected());
    REQUIRE(conn.send("POST /drain/a HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1025\r\n\r\n"));
    auto const r = read_admin(conn.read_response());
    INFO("POST /drain/a announcing a body of 1025 bytes: " << r.describe());
    CHECK(r.status() == 413);
  }
  {
    // 1 KiB exactly is allowed: the request is answered on its merits.
    auto const r = rig.admin({"POST", "/drain/zz", {{"Content-Type", "application/json"}}, std::string(1024, 'x')});
    INFO("POST /drain/zz with a body of 1024 bytes: " << r.describe());
    CHECK(r.status() == 404);
  }
  CHECK_FALSE(rig.status("a").draining);
  CHECK(rig.log.count(is(event_kind::draining)) == 0);

  {
    workbook::raw_connection conn(rig.admin_port(), scaled(2s));
    REQUIRE(conn.connected());
    REQUIRE(conn.send("HELLO\r\n\r\n"));
    auto const r = read_admin(conn.read_response());
    INFO("sent \"HELLO\\r\\n\\r\\n\": " << r.describe());
    CHECK(r.status() == 400);
    CHECK(json_type(r));
    CHECK_FALSE(error_text(r).empty());
    CHECK(conn.closed_by_peer(scaled(1s)));
  }

  // And the endpoint goes on serving, on a new connection.
  workbook::test_client fresh(rig.admin_port());
  auto const table = read_admin(fresh.get("/backends"));
  INFO("GET /backends afterwards: " << table.describe());
  CHECK(table.status() == 200);
  CHECK(table.backend("a").is_object());
}
