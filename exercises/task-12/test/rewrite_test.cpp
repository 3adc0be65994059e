// Task 12 · acceptance tests for what the proxy changes on the way through:
// the target [AC1], the X-Forwarded fields [AC2], the hop-by-hop fields
// [AC3] and X-Proxy [AC4]. The backends record every request that reaches
// them, so each test checks the backend's side as well as the client's.
#include "fixtures.hpp"

#include <workbook/ports.hpp>
#include <workbook/test_client.hpp>

#include <catch2/catch.hpp>

using namespace task12_test;

namespace {

workbook::request get(std::string target, workbook::header_list headers = {})
{
  workbook::request req;
  req.target = std::move(target);
  req.headers = std::move(headers);
  return req;
}

std::string x_proxy() { return std::string(task12::x_proxy_value); }

} // namespace

// ---------------------------------------------------------------- AC1

TEST_CASE("requests under /api reach the backend with /api taken off and the query kept", "[AC1]")
{
  auto seen = std::make_shared<seen_requests>();
  auto backend = recording_backend(seen);
  running_proxy proxy(options_for(backend.port()));
  workbook::test_client client(proxy.port());

  struct {
    char const* sent;
    char const* expected;
  } const cases[] = {
      {"/api/users/1?q=1", "/users/1?q=1"},
      {"/api", "/"},
      {"/api?x=1&y=%2F", "/?x=1&y=%2F"},
      {"/api/", "/"},
      {"/api/a/b/", "/a/b/"},
      {"/api/api/x", "/api/x"},
  };
  for (auto const& c : cases) {
    auto const res = client.get(c.sent);
    INFO("GET " << c.sent << " -> " << res.status << " " << res.body << res.error);
    CHECK(res.status == 200);
    // The backend's answer comes back whole: status, fields and body.
    CHECK(res.body == std::string("GET ") + c.expected);
    CHECK(res.header("X-Backend-Saw").value_or("(none)") == c.expected);
  }
  std::vector<std::string> expected;
  for (auto const& c : cases) expected.push_back(c.expected);
  CHECK(seen->targets() == expected);

  // Every request kept the one client connection.
  CHECK(client.connections_opened() == 1);
}

TEST_CASE("the backend gets the method, the body and the end-to-end fields as sent, with its own Host", "[AC1]")
{
  auto seen = std::make_shared<seen_requests>();
  auto backend = recording_backend(seen);
  running_proxy proxy(options_for(backend.port()));
  workbook::test_client client(proxy.port());

  workbook::request post;
  post.method = "POST";
  post.target = "/api/items?draft=1";
  post.headers = {{"Host", "shop.example:8080"}, {"Content-Type", "application/json"}, {"X-Request-Id", "r-42"}};
  post.body = R"({"name": "bolt"})";
  auto const res = client.send(post);
  INFO("answer: " << res.status << " " << res.body << res.error);
  CHECK(res.status == 200);
  CHECK(res.body == "POST /items?draft=1");

  auto const got = seen->snapshot();
  REQUIRE(got.size() == 1);
  auto const& req = got.front();
  INFO("the backend saw " << req.method << " " << req.target << "\n" << show(req.headers));
  CHECK(req.method == "POST");
  CHECK(req.body == R"({"name": "bolt"})");
  CHECK(values_of(req.headers, "Content-Type") == std::vector<std::string>{"application/json"});
  CHECK(values_of(req.headers, "X-Request-Id") == std::vector<std::string>{"r-42"});
  // Host names the server the request is for: the backend, not the proxy.
  CHECK(values_of(req.headers, "Host") == std::vector<std::string>{"127.0.0.1:" + std::to_string(backend.port())});
}

TEST_CASE("targets outside /api are answered 404 by the proxy, and never reach the backend", "[AC1]")
{
  auto seen = std::make_shared<seen_requests>();
  auto backend = recording_backend(seen);
  running_proxy proxy(options_for(backend.port()));
  workbook::test_client client(proxy.port());

  for (char const* target : {"/", "/apix", "/apix/y", "/v1/api/x", "/API/x", "/ap"}) {
    auto const res = client.get(target);
    INFO("GET " << target << " -> " << res.status << " " << res.body << res.error);
    CHECK(res.status == 404);
  }
  // And the proxy goes on serving, on the same connection.
  auto const ok = client.get("/api/ok");
  CHECK(ok.status == 200);
  CHECK(seen->targets() == std::vector<std::string>{"/ok"});
  CHECK(client.connections_opened() == 1);
}

// ---------------------------------------------------------------- AC2

TEST_CASE("X-Forwarded-For names the client, after every address the client sent", "[AC2]")
{
  auto seen = std::make_shared<seen_requests>();
  auto backend = recording_backend(seen);
  running_proxy proxy(options_for(backend.port()));
  workbook::test_client client(proxy.port());

  CHECK(client.send(get("/api/none")).status == 200);
  CHECK(client.send(get("/api/one", {{"X-Forwarded-For", "203.0.113.7"}})).status == 200);
  CHECK(client.send(get("/api/two", {{"X-Forwarded-For", "203.0.113.7"}, {"X-Forwarded-For", "198.51.100.2, 192.0.2.9"}}))
            .status == 200);

  auto const got = seen->snapshot();
  REQUIRE(got.size() == 3);
  std::string saw;
  for (auto const& req : got) saw += req.target + ":\n" + show(req.headers);
  INFO("the backend saw\n" << saw);
  CHECK(values_of(got[0].headers, "X-Forwarded-For") == std::vector<std::string>{"127.0.0.1"});
  CHECK(values_of(got[1].headers, "X-Forwarded-For") == std::vector<std::string>{"203.0.113.7, 127.0.0.1"});
  // Two fields of a list are one list: the backend gets one field, in order.
  CHECK(values_of(got[2].headers, "X-Forwarded-For") ==
        std::vector<std::string>{"203.0.113.7, 198.51.100.2, 192.0.2.9, 127.0.0.1"});
}

TEST_CASE("X-Forwarded-Host is the client's Host and X-Forwarded-Proto is http, whatever the client said", "[AC2]")
{
  auto seen = std::make_shared<seen_requests>();
  auto backend = recording_backend(seen);
  running_proxy proxy(options_for(backend.port()));
  workbook::test_client client(proxy.port());

  CHECK(client.send(get("/api/plain", {{"Host", "shop.example:8080"}})).status == 200);
  CHECK(client
            .send(get("/api/forged", {{"Host", "shop.example"},
                                      {"X-Forwarded-Host", "evil.example"},
                                      {"X-Forwarded-Proto", "https"}}))
            .status == 200);

  auto const got = seen->snapshot();
  REQUIRE(got.size() == 2);
  INFO("the backend saw, first:\n" << show(got[0].headers) << "then:\n" << show(got[1].headers));
  CHECK(values_of(got[0].headers, "X-Forwarded-Host") == std::vector<std::string>{"shop.example:8080"});
  CHECK(values_of(got[0].headers, "X-Forwarded-Proto") == std::vector<std::string>{"http"});
  CHECK(values_of(got[1].headers, "X-Forwarded-Host") == std::vector<std::string>{"shop.example"});
  CHECK(values_of(got[1].headers, "X-Forwarded-Proto") == std::vector<std::string>{"http"});
}

// ---------------------------------------------------------------- AC3

TEST_CASE("hop-by-hop fields of the request, and the fields its Connection names, do not reach the backend", "[AC3]")
{
  auto seen = std::make_shared<seen_requests>();
  auto backend = recording_backend(seen);
  running_proxy proxy(options_for(backend.port()));

  workbook::raw_connection conn(proxy.port());
  REQUIRE(conn.connected());
  // Two Connection fields: a list may be split over several fields, and
  // the second one counts as much as the first.
  REQUIRE(conn.send("GET /api/hop HTTP/1.1\r\n"
                    "Host: shop.example\r\n"
                    "Connection: keep-alive, X-Client-Hop\r\n"
                    "Connection: x-second-hop\r\n"
                    "X-Client-Hop: secret\r\n"
                    "X-Second-Hop: also secret\r\n"
                    "Keep-Alive: timeout=5\r\n"
                    "Proxy-Authorization: Basic dXNlcjpwYXNz\r\n"
                    "Proxy-Authenticate: Basic\r\n"
                    "TE: trailers\r\n"
                    "Trailer: X-Checksum\r\n"
                    "Upgrade: h2c\r\n"
                    "X-End-To-End: kept\r\n"
                    "\r\n"));
  auto const res = conn.read_response();
  INFO("answer: " << res.status << " " << res.body << res.error);
  CHECK(res.status == 200);

  auto const got = seen->snapshot();
  REQUIRE(got.size() == 1);
  auto const& headers = got.front().headers;
  INFO("the backend saw:\n" << show(headers));
  for (char const* name :
       {"X-Client-Hop", "X-Second-Hop", "Keep-Alive", "Proxy-Authorization", "Proxy-Authenticate", "TE", "Trailer", "Upgrade"}) {
    INFO("field " << name);
    CHECK(values_of(headers, name).empty());
  }
  // The proxy may say what it wants about its own connection to the
  // backend; the client's words about the client's connection stay behind.
  for (auto const& value : values_of(headers, "Connection")) {
    INFO("Connection: " << value);
    CHECK_FALSE(has_token(value, "X-Client-Hop"));
    CHECK_FALSE(has_token(value, "X-Second-Hop"));
  }
  CHECK(values_of(headers, "X-End-To-End") == std::vector<std::string>{"kept"});
}

TEST_CASE("hop-by-hop fields of the response do not reach the client, and a backend that closes its connection leaves the client's open", "[AC3]")
{
  std::string const body = "hello";
  auto backend = raw_backend("HTTP/1.1 200 OK\r\n"
                             "Content-Type: text/plain\r\n"
                             "Content-Length: 5\r\n"
                             "Connection: close, X-Backend-Hop\r\n"
                             "Connection: X-Second-Hop\r\n"
                             "X-Backend-Hop: 1\r\n"
                             "X-Second-Hop: 2\r\n"
                             "Keep-Alive: timeout=5, max=100\r\n"
                             "Proxy-Authenticate: Basic realm=\"backend\"\r\n"
                             "Proxy-Authorization: Basic dXNlcjpwYXNz\r\n"
                             "TE: trailers\r\n"
                             "Trailer: X-Checksum\r\n"
                             "Upgrade: h2c\r\n"
                             "X-End-To-End: kept\r\n"
                             "\r\n" +
                             body);
  running_proxy proxy(options_for(backend.port()));
  workbook::test_client client(proxy.port());

  for (int i = 0; i < 2; ++i) {
    auto const res = client.get("/api/hop");
    INFO("answer " << i + 1 << ": " << res.status << " " << res.body << res.error << "\n" << show(res.headers));
    CHECK(res.status == 200);
    CHECK(res.body == body);
    for (char const* name : {"X-Backend-Hop", "X-Second-Hop", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
                             "TE", "Trailer", "Upgrade"}) {
      INFO("field " << name);
      CHECK(values_of(res.headers, name).empty());
    }
    for (auto const& value : values_of(res.headers, "Connection")) {
      INFO("Connection: " << value);
      CHECK_FALSE(has_token(value, "close"));
      CHECK_FALSE(has_token(value, "X-Backend-Hop"));
      CHECK_FALSE(has_token(value, "X-Second-Hop"));
    }
    CHECK(values_of(res.headers, "X-End-To-End") == std::vector<std::string>{"kept"});
  }
  // The backend said close: the proxy closed that connection (the next
  // request needed a new one), and kept the client's open.
  CHECK(client.connections_opened() == 1);
  CHECK(backend.accepted() == 2);
}

TEST_CASE("a chunked response is framed again by the proxy, and its Transfer-Encoding is the proxy's", "[AC3]")
{
  auto backend = raw_backend("HTTP/1.1 200 OK\r\n"
                             "Content-Type: text/plain\r\n"
                             "Transfer-Encoding: chunked\r\n"
                             "\r\n"
                             "6\r\nhello \r\n"
                             "6\r\nworld!\r\n"
                             "0\r\n\r\n");
  running_proxy proxy(options_for(backend.port()));
  workbook::test_client client(proxy.port());

  for (int i = 0; i < 2; ++i) {
    auto const res = client.get("/api/chunked");
    INFO("answer " << i + 1 << ": " << res.status << " " << res.body << res.error << "\n" << show(res.headers));
    CHECK(res.status == 200);
    CHECK(res.body == "hello world!");
    // One framing, and it is a valid one: chunked, or a length.
    auto const te = values_of(res.headers, "Transfer-Encoding");
    auto const cl = values_of(res.headers, "Content-Length");
    CHECK(te.size() + cl.size() == 1);
    if (!te.empty()) CHECK(workbook::iequals(te.front(), "chunked"));
  }
  CHECK(client.connections_opened() == 1);
}

// ---------------------------------------------------------------- AC4

TEST_CASE("every response the proxy forwards carries its X-Proxy, in place of the backend's", "[AC4]")
{
  auto backend = workbook::test_server::serving([](workbook::request const& req) {
    workbook::response res;
    res.status = req.target == "/missing" ? 404 : req.target == "/broken" ? 500 : 200;
    res.headers = {{"Content-Type", "text/plain"}, {"X-Proxy", "the-backend-itself"}};
    res.body = "from the backend\n";
    return res;
  });
  running_proxy proxy(options_for(backend.port()));
  workbook::test_client client(proxy.port());

  struct {
    char const* target;
    int status;
  } const cases[] = {{"/api/ok", 200}, {"/api/missing", 404}, {"/api/broken", 500}};
  for (auto const& c : cases) {
    auto const res = client.get(c.target);
    INFO("GET " << c.target << " -> " << res.status << " " << res.body << res.error << "\n" << show(res.headers));
    CHECK(res.status == c.status);
    CHECK(res.body == "from the backend\n");
    CHECK(values_of(res.headers, "X-Proxy") == std::vector<std::string>{x_proxy()});
  }
}

TEST_CASE("the proxy's own answers carry X-Proxy too", "[AC4]")
{
  workbook::refusing_port down;
  running_proxy proxy(options_for(down.port()));
  workbook::test_client client(proxy.port());

  auto const not_found = client.get("/elsewhere");
  INFO("GET /elsewhere -> " << not_found.status << " " << not_found.body << not_found.error << "\n"
                            << show(not_found.headers));
  CHECK(not_found.status == 404);
  CHECK(values_of(not_found.headers, "X-Proxy") == std::vector<std::string>{x_proxy()});

  auto const bad_gateway = client.get("/api/x");
  INFO("GET /api/x -> " << bad_gateway.status << " " << bad_gateway.body << bad_gateway.error << "\n"
                        << show(bad_gateway.headers));
  CHECK(bad_gateway.status == 502);
  CHECK(values_of(bad_gateway.headers, "X-Proxy") == std::vector<std::string>{x_proxy()});
}
