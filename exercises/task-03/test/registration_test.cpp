// Task 03 · acceptance tests for registration, [AC6]: router::handle checks
// each pattern when it is registered, long before any request arrives.
#include "fixtures.hpp"

#include <workbook/test_client.hpp>

#include <catch2/catch.hpp>

using Catch::Matchers::Contains;
using task03_test::says;
using task03_test::serve;

TEST_CASE("registering the same pattern twice is a conflict", "[AC6]")
{
  task03::router r;
  r.handle("GET /users/{id}", says("first\n"));
  INFO("registered: GET /users/{id}; registering it again must throw");
  CHECK_THROWS_AS(r.handle("GET /users/{id}", says("second\n")), task03::pattern_conflict);
  CHECK_THROWS_WITH(r.handle("GET /users/{id}", says("second\n")), Contains("GET /users/{id}"));
}

TEST_CASE("patterns that match the same requests under other names conflict", "[AC6]")
{
  task03::router r;
  r.handle("/users/{id}", says("id\n"));
  r.handle("/files/", says("files\n"));
  INFO("registered: /users/{id} and /files/");

  CHECK_THROWS_AS(r.handle("/users/{name}", says("name\n")), task03::pattern_conflict);
  CHECK_THROWS_WITH(r.handle("/users/{name}", says("name\n")),
                    Contains("/users/{name}") && Contains("/users/{id}"));

  // A trailing slash is an unnamed {...}: these two match the same paths.
  CHECK_THROWS_AS(r.handle("/files/{path...}", says("path\n")), task03::pattern_conflict);
  CHECK_THROWS_WITH(r.handle("/files/{path...}", says("path\n")),
                    Contains("/files/{path...}") && Contains("/files/"));
}

TEST_CASE("GET /a/{x} and GET /{y}/b conflict: both match GET /a/b, neither is more specific", "[AC6]")
{
  {
    task03::router r;
    r.handle("GET /a/{x}", says("x\n"));
    INFO("registered: GET /a/{x}; adding GET /{y}/b must throw");
    CHECK_THROWS_AS(r.handle("GET /{y}/b", says("y\n")), task03::pattern_conflict);
    CHECK_THROWS_WITH(r.handle("GET /{y}/b", says("y\n")), Contains("GET /a/{x}") && Contains("GET /{y}/b"));
  }
  {
    // The other way round, the same two conflict.
    task03::router r;
    r.handle("GET /{y}/b", says("y\n"));
    INFO("registered: GET /{y}/b; adding GET /a/{x} must throw");
    CHECK_THROWS_AS(r.handle("GET /a/{x}", says("x\n")), task03::pattern_conflict);
  }
}

TEST_CASE("methods and paths are judged together: GET /{a} and /b conflict", "[AC6]")
{
  // GET /b matches both. GET /c matches only the first, POST /b only the
  // second: neither is more specific.
  task03::router r;
  r.handle("GET /{a}", says("a\n"));
  INFO("registered: GET /{a}; adding /b must throw");
  CHECK_THROWS_AS(r.handle("/b", says("b\n")), task03::pattern_conflict);
  CHECK_THROWS_WITH(r.handle("/b", says("b\n")), Contains("GET /{a}") && Contains("/b"));
}

TEST_CASE("a more specific pattern, or one with no request in common, is no conflict", "[AC6]")
{
  task03::router r;
  CHECK_NOTHROW(r.handle("GET /users/{id}", says("get\n")));
  CHECK_NOTHROW(r.handle("GET /users/admin", says("admin\n")));     // more specific
  CHECK_NOTHROW(r.handle("POST /users/{id}", says("post\n")));      // another method
  CHECK_NOTHROW(r.handle("/users/{id}", says("any\n")));            // more general
  CHECK_NOTHROW(r.handle("GET /users/{id}/posts", says("posts\n"))); // another length
  CHECK_NOTHROW(r.handle("/", says("root\n")));                      // more general than all

  // But this one crosses GET /users/{id}: both match GET /users/admin.
  INFO("registered: all of the above; adding GET /{kind}/admin must throw");
  CHECK_THROWS_AS(r.handle("GET /{kind}/admin", says("kind\n")), task03::pattern_conflict);
  CHECK_THROWS_WITH(r.handle("GET /{kind}/admin", says("kind\n")),
                    Contains("GET /{kind}/admin") && Contains("/users/{id}"));
}

TEST_CASE("malformed patterns throw std::invalid_argument", "[AC6]")
{
  for (char const* bad : {
           "",                        // nothing
           "users/{id}",              // no leading slash
           "GET users",               // no leading slash after the method
           "/files/{path...}/edit",   // {...} before the last segment
           "/docs/{$}/intro",         // {$} before the last segment
           "/users/{}",               // empty wildcard name
           "/files/{...}",            // empty wildcard name
           "/users/{id}/posts/{id}",  // the same name twice
           "/users/id{id}",           // a wildcard must be a whole segment
       }) {
    INFO("pattern \"" << bad << "\"");
    task03::router r;
    CHECK_THROWS_AS(r.handle(bad, says("bad\n")), std::invalid_argument);
  }
  for (char const* good : {"/", "/{$}", "GET /users/{id}", "/files/{path...}", "PURGE /cache/{key}",
                           "GET\t/tabbed", "DELETE  /two/spaces"}) {
    INFO("pattern \"" << good << "\"");
    task03::router r;
    CHECK_NOTHROW(r.handle(good, says("good\n")));
  }
}

TEST_CASE("a rejected registration leaves the router as it was", "[AC6]")
{
  task03::router r;
  r.handle("GET /users/{id}", says("kept\n"));
  // Each of these conflicts with GET /users/{id}, and each, had it been
  // stored anyway, would answer requests that GET /users/{id} leaves alone.
  CHECK_THROWS_AS(r.handle("GET /users/{name}", says("replaced\n")), task03::pattern_conflict);
  CHECK_THROWS_AS(r.handle("GET /{kind}/admin", says("kind\n")), task03::pattern_conflict);
  CHECK_THROWS_AS(r.handle("/users/admin", says("any method\n")), task03::pattern_conflict);
  CHECK_THROWS_AS(r.handle("GET /users/{id}/{id}", says("half-added\n")), std::invalid_argument);
  auto server = serve(r);
  workbook::test_client client(server.port());

  auto const res = client.get("/users/42");
  CHECK(res.status == 200);
  CHECK(res.body == "kept\n");
  CHECK(client.get("/users/42/7").status == 404);

  {
    INFO("GET /{kind}/admin was refused: GET /posts/admin matches nothing registered");
    auto const posts = client.get("/posts/admin");
    CHECK(posts.status == 404);
    CHECK(posts.body != "kind\n");
  }
  {
    INFO("/users/admin was refused: POST /users/admin matches only GET /users/{id}'s path");
    auto const post = client.send({"POST", "/users/admin", {}, ""});
    CHECK(post.status == 405);
    CHECK(post.body != "any method\n");
    CHECK(client.get("/users/admin").body == "kept\n");
  }
}
