// Task 03 · acceptance tests for routing, [AC1] ... [AC5] and [AC7]. Each test puts a
// router behind a real server (fixtures.hpp) and talks HTTP to it.
#include "fixtures.hpp"

#include <workbook/test_client.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <vector>

using task03_test::reply;
using task03_test::says;
using task03_test::serve;
using status = task03::http::status;

namespace {

// The values a handler saw, written into its body: "id=42".
task03::handler echoes(std::vector<std::string> names)
{
  return [names = std::move(names)](task03::request const& req, task03::path_params const& params) {
    std::string body;
    for (auto const& n : names) body += (body.empty() ? "" : " ") + n + "=" + std::string(params.get(n));
    return reply(req, status::ok, body + "\n");
  };
}

// A handler that answers 200 with `name` as its body and in an X-Handler
// header (which survives a HEAD response, when the body does not).
task03::handler tagged(std::string name)
{
  return [name = std::move(name)](task03::request const& req, task03::path_params const&) {
    auto res = reply(req, status::ok, name);
    res.set("X-Handler", name);
    return res;
  };
}

workbook::request with_method(std::string method, std::string target)
{
  workbook::request req;
  req.method = std::move(method);
  req.target = std::move(target);
  return req;
}

// Registers `patterns` in the given order, each answering with its own text.
void register_each(task03::router& r, std::vector<std::string> const& patterns)
{
  for (auto const& p : patterns) r.handle(p, says(p));
}

std::string order_of(std::vector<std::string> const& patterns)
{
  std::string s;
  for (auto const& p : patterns) s += (s.empty() ? "" : ", ") + p;
  return "registered in this order: " + s;
}

} // namespace

// ---------------------------------------------------------------- AC1

TEST_CASE("GET /users/{id} serves /users/42 and hands the handler id \"42\"", "[AC1]")
{
  task03::router r;
  r.handle("GET /users/{id}", echoes({"id"}));
  auto server = serve(r);
  workbook::test_client client(server.port());

  auto const a = client.get("/users/42");
  REQUIRE(a.status == 200);
  CHECK(a.body == "id=42\n");

  auto const b = client.get("/users/ada");
  CHECK(b.status == 200);
  CHECK(b.body == "id=ada\n");
}

TEST_CASE("the query string is not part of the path", "[AC1]")
{
  task03::router r;
  r.handle("GET /users/{id}", echoes({"id"}));
  auto server = serve(r);
  workbook::test_client client(server.port());

  auto const res = client.get("/users/42?verbose=1&page=2");
  CHECK(res.status == 200);
  CHECK(res.body == "id=42\n");
}

TEST_CASE("several wildcards each get their own segment; an unknown name gives \"\"", "[AC1]")
{
  task03::router r;
  r.handle("GET /users/{user}/posts/{post}", echoes({"user", "post", "missing"}));
  auto server = serve(r);
  workbook::test_client client(server.port());

  auto const res = client.get("/users/ada/posts/7");
  CHECK(res.status == 200);
  CHECK(res.body == "user=ada post=7 missing=\n");
}

// ---------------------------------------------------------------- AC2

TEST_CASE("POST /users answers 201 from its own route", "[AC2]")
{
  task03::router r;
  r.handle("GET /users/{id}", echoes({"id"}));
  r.handle("POST /users", [](task03::request const& req, task03::path_params const&) {
    return reply(req, status::created, "created\n");
  });
  auto server = serve(r);
  workbook::test_client client(server.port());

  auto const created = client.send(with_method("POST", "/users"));
  CHECK(created.status == 201);
  CHECK(created.body == "created\n");

  auto const got = client.get("/users/42");
  CHECK(got.status == 200);
  CHECK(got.body == "id=42\n");
}

TEST_CASE("one path, one handler per method", "[AC2]")
{
  task03::router r;
  r.handle("GET /users", says("list\n"));
  r.handle("POST /users", says("create\n"));
  r.handle("DELETE /users", says("delete all\n"));
  auto server = serve(r);
  workbook::test_client client(server.port());

  CHECK(client.get("/users").body == "list\n");
  CHECK(client.send(with_method("POST", "/users")).body == "create\n");
  CHECK(client.send(with_method("DELETE", "/users")).body == "delete all\n");
}

TEST_CASE("a method Beast has no verb for is routed by its name", "[AC2]")
{
  // http::verb knows no FROB: req.method() is verb::unknown, and
  // req.method_string() is "FROB".
  task03::router r;
  r.handle("FROB /widgets/{id}", echoes({"id"}));
  r.handle("GET /widgets/{id}", says("plain get\n"));
  auto server = serve(r);
  workbook::test_client client(server.port());

  auto const res = client.send(with_method("FROB", "/widgets/9"));
  CHECK(res.status == 200);
  CHECK(res.body == "id=9\n");
}

// ---------------------------------------------------------------- AC3

TEST_CASE("DELETE /users/42 answers 405 with Allow: GET, HEAD", "[AC3]")
{
  task03::router r;
  r.handle("GET /users/{id}", echoes({"id"}));
  r.handle("POST /users", says("created\n"));
  auto server = serve(r);
  workbook::test_client client(server.port());

  auto const res = client.send(with_method("DELETE", "/users/42"));
  CHECK(res.status == 405);
  CHECK(res.header("Allow").value_or("(no Allow header)") == "GET, HEAD");

  auto const put = client.send(with_method("PUT", "/users"));
  CHECK(put.status == 405);
  CHECK(put.header("Allow").value_or("(no Allow header)") == "POST");
}

TEST_CASE("Allow lists every method the path has, sorted, HEAD beside GET", "[AC3]")
{
  task03::router r;
  r.handle("PUT /items/{id}", says("put\n"));
  r.handle("GET /items/{id}", says("get\n"));
  r.handle("DELETE /items/{id}", says("delete\n"));
  r.handle("PUT /items/{id}/tags", says("tags\n"));  // another path: not in the list
  auto server = serve(r);
  workbook::test_client client(server.port());

  auto const res = client.send(with_method("PATCH", "/items/3"));
  CHECK(res.status == 405);
  CHECK(res.header("Allow").value_or("(no Allow header)") == "DELETE, GET, HEAD, PUT");
}

TEST_CASE("HEAD /users/42 is served by the GET route, without a body", "[AC3]")
{
  std::atomic<int> calls{0};  // counted on the server's thread
  task03::router r;
  r.handle("GET /users/{id}", [&calls](task03::request const& req, task03::path_params const& params) {
    ++calls;
    return reply(req, status::ok, "user " + std::string(params.get("id")) + "\n");
  });
  auto server = serve(r);
  workbook::test_client client(server.port());

  auto const head = client.send(with_method("HEAD", "/users/42"));
  CHECK(head.status == 200);
  CHECK(calls == 1);
  // A body after a HEAD response is read as the start of the next response:
  // this GET on the same connection fails if the HEAD answer carried one.
  auto const get = client.get("/users/42");
  CHECK(get.status == 200);
  CHECK(get.body == "user 42\n");
  CHECK(client.connections_opened() == 1);

  // The same, asked of the router directly.
  task03::request direct{task03::http::verb::head, "/users/42", 11};
  CHECK(r.serve(direct).body().empty());
}

// ---------------------------------------------------------------- AC4

TEST_CASE("a path no pattern matches answers 404, whatever the method", "[AC4]")
{
  task03::router r;
  r.handle("GET /users/{id}", echoes({"id"}));
  r.handle("POST /users", says("created\n"));
  auto server = serve(r);
  workbook::test_client client(server.port());

  CHECK(client.get("/nothing").status == 404);
  CHECK(client.get("/users/42/posts").status == 404);  // one segment too many
  CHECK(client.get("/users/").status == 404);          // {id} needs a non-empty segment
  CHECK(client.send(with_method("DELETE", "/nothing")).status == 404);
}

TEST_CASE("{file...} captures the rest of the path, slashes included", "[AC4]")
{
  task03::router r;
  r.handle("GET /static/{file...}", echoes({"file"}));
  auto server = serve(r);
  workbook::test_client client(server.port());

  auto const deep = client.get("/static/css/site/main.css");
  CHECK(deep.status == 200);
  CHECK(deep.body == "file=css/site/main.css\n");

  auto const dir = client.get("/static/img/");
  CHECK(dir.status == 200);
  CHECK(dir.body == "file=img/\n");

  auto const empty = client.get("/static/");
  CHECK(empty.status == 200);
  CHECK(empty.body == "file=\n");

  CHECK(client.get("/static").status == 404);  // no slash, no rest to capture
}

TEST_CASE("{file...} stops where the query string starts", "[AC4]")
{
  task03::router r;
  r.handle("GET /static/{file...}", echoes({"file"}));
  auto server = serve(r);
  workbook::test_client client(server.port());

  auto const versioned = client.get("/static/css/site.css?v=3&t=a/b");
  CHECK(versioned.status == 200);
  INFO("the target was /static/css/site.css?v=3&t=a/b: the query is not part of the path");
  CHECK(versioned.body == "file=css/site.css\n");

  auto const bare = client.get("/static/?download=1");
  CHECK(bare.status == 200);
  CHECK(bare.body == "file=\n");
}

TEST_CASE("{$} matches the path with its trailing slash and nothing beneath", "[AC4]")
{
  task03::router r;
  r.handle("GET /{$}", says("home\n"));
  r.handle("GET /docs/{$}", says("docs index\n"));
  auto server = serve(r);
  workbook::test_client client(server.port());

  CHECK(client.get("/").body == "home\n");
  CHECK(client.get("/docs/").body == "docs index\n");
  CHECK(client.get("/docs").status == 404);
  CHECK(client.get("/docs/intro").status == 404);
  CHECK(client.get("/index.html").status == 404);
}

TEST_CASE("a pattern ending in a slash matches everything beneath it", "[AC4]")
{
  task03::router r;
  r.handle("/blog/", says("blog\n"));
  auto server = serve(r);
  workbook::test_client client(server.port());

  CHECK(client.get("/blog/").body == "blog\n");
  CHECK(client.get("/blog/2024/05/hello").body == "blog\n");
  CHECK(client.send(with_method("POST", "/blog/comments")).body == "blog\n");  // no method: any method
  CHECK(client.get("/blog").status == 404);
  CHECK(client.get("/blogs/x").status == 404);
}

// ---------------------------------------------------------------- AC5

TEST_CASE("/users/admin beats /users/{id}, whatever the registration order", "[AC5]")
{
  for (auto order : {std::vector<std::string>{"GET /users/admin", "GET /users/{id}"},
                     std::vector<std::string>{"GET /users/{id}", "GET /users/admin"}}) {
    INFO(order_of(order));
    task03::router r;
    register_each(r, order);
    auto server = serve(r);
    workbook::test_client client(server.port());

    CHECK(client.get("/users/admin").body == "GET /users/admin");
    CHECK(client.get("/users/42").body == "GET /users/{id}");
  }
}

TEST_CASE("GET /x beats /x for GET and HEAD; other methods reach /x", "[AC5]")
{
  for (auto order : {std::vector<std::string>{"GET /x", "/x"}, std::vector<std::string>{"/x", "GET /x"}}) {
    INFO(order_of(order));
    std::atomic<int> get_calls{0};  // counted on the server's thread
    task03::router r;
    for (auto const& p : order)
      if (p == "GET /x")
        r.handle(p, [&get_calls](task03::request const& req, task03::path_params const&) {
          ++get_calls;
          return reply(req, status::ok, "GET /x");
        });
      else
        r.handle(p, says(p));
    auto server = serve(r);
    workbook::test_client client(server.port());

    CHECK(client.get("/x").body == "GET /x");
    CHECK(client.send(with_method("POST", "/x")).body == "/x");
    CHECK(client.send(with_method("DELETE", "/x")).body == "/x");
    get_calls = 0;
    CHECK(client.send(with_method("HEAD", "/x")).status == 200);
    CHECK(get_calls == 1);  // HEAD went to GET /x, not to /x
  }
}

TEST_CASE("an explicit HEAD route beats the GET route's implicit HEAD, whatever the order", "[AC5]")
{
  for (auto order : {std::vector<std::string>{"GET /page", "HEAD /page"},
                     std::vector<std::string>{"HEAD /page", "GET /page"}}) {
    INFO(order_of(order));
    task03::router r;
    for (auto const& p : order) r.handle(p, tagged(p));
    auto server = serve(r);
    workbook::test_client client(server.port());

    // HEAD /page matches both: HEAD /page matches only HEAD requests, GET
    // /page matches GET and HEAD. The narrower one serves.
    auto const head = client.send(with_method("HEAD", "/page"));
    CHECK(head.status == 200);
    CHECK(head.header("X-Handler").value_or("(no X-Handler header)") == "HEAD /page");

    auto const get = client.get("/page");
    CHECK(get.status == 200);
    CHECK(get.header("X-Handler").value_or("(no X-Handler header)") == "GET /page");
  }
}

TEST_CASE("of several matching patterns the most specific serves, in any order", "[AC5]")
{
  // No two of these conflict; many requests match several of them.
  std::vector<std::string> patterns{"/",
                                    "/users/",
                                    "/users/{$}",
                                    "/users/{id}",
                                    "/users/admin",
                                    "GET /users/admin",
                                    "/users/{id}/posts"};
  std::vector<std::pair<workbook::request, std::string>> const expected{
      {with_method("GET", "/users/admin"), "GET /users/admin"},
      {with_method("POST", "/users/admin"), "/users/admin"},
      {with_method("GET", "/users/42"), "/users/{id}"},
      {with_method("GET", "/users/"), "/users/{$}"},
      {with_method("GET", "/users/42/posts"), "/users/{id}/posts"},
      {with_method("GET", "/users/42/likes"), "/users/"},
      {with_method("GET", "/users"), "/"},
      {with_method("GET", "/about"), "/"},
  };
  for (int pass = 0; pass < 2; ++pass) {
    if (pass == 1) std::reverse(patterns.begin(), patterns.end());
    INFO(order_of(patterns));
    task03::router r;
    register_each(r, patterns);
    auto server = serve(r);
    workbook::test_client client(server.port());

    for (auto const& [req, winner] : expected) {
      INFO(req.method << " " << req.target << " should reach " << winner);
      CHECK(client.send(req).body == winner);
    }
  }
}

// ---------------------------------------------------------------- AC7

TEST_CASE("a path with dot segments or doubled slashes is redirected to its clean form, query kept", "[AC7]")
{
  std::atomic<int> handled{0};  // counted on the server's thread
  auto const counted = [&handled](task03::handler h) {
    return [&handled, h = std::move(h)](task03::request const& req, task03::path_params const& params) {
      ++handled;
      return h(req, params);
    };
  };
  task03::router r;
  r.handle("GET /files/{path...}", counted(echoes({"path"})));
  r.handle("GET /users/{id}", counted(echoes({"id"})));
  r.handle("GET /secret", counted(says("secret\n")));
  auto server = serve(r);
  workbook::test_client client(server.port());

  struct redirect {
    char const* target;
    char const* location;
  };
  for (auto const& [target, location] : {
           redirect{"/files/../secret", "/secret"},
           redirect{"/files/a/./b", "/files/a/b"},
           redirect{"/files/a/b/..", "/files/a"},
           redirect{"/files/a/b/../", "/files/a/"},           // the trailing slash stays
           redirect{"/files/a/../../../../secret", "/secret"},  // never above the root
           redirect{"/users/..", "/"},                          // {id} would have taken ".."
           redirect{"/files/a/../b?v=2&next=/x/../y", "/files/b?v=2&next=/x/../y"},  // query as sent
           redirect{"/files//etc/passwd", "/files/etc/passwd"},
           redirect{"/..//evil.example/x", "/evil.example/x"},  // never "//host": another site
       }) {
    INFO("GET " << target << " should be redirected to " << location);
    auto const res = client.get(target);
    CHECK(res.status == 301);
    CHECK(res.header("Location").value_or("(no Location header)") == location);
  }
  {
    INFO("a handler was called for a path that is not clean");
    CHECK(handled == 0);
  }

  // Clean paths are served as they are, dots inside segments included.
  auto const dotted = client.get("/files/a..b/.hidden/v1.2");
  CHECK(dotted.status == 200);
  CHECK(dotted.body == "path=a..b/.hidden/v1.2\n");
  CHECK(client.get("/secret").body == "secret\n");
}
