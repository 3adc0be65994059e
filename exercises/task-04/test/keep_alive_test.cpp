// Task 04 · acceptance tests for keeping and giving up connections, [AC1]
// ... [AC3] (AC4, retrying, is in retry_test.cpp). The server counts the
// connections it accepted and the ones still open: that, not the client's
// word, is what the tests check.
#include "fixtures.hpp"

#include <workbook/eventually.hpp>
#include <workbook/test_server.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <optional>
#include <vector>

using namespace task04_test;

namespace {

// 1 KiB that says which request it answers: "item 7\n......".
std::string item_body(int i)
{
  std::string body = "item " + std::to_string(i) + "\n";
  body.resize(1024, '.');
  return body;
}

// `size` bytes of a pattern that shows where a piece went missing.
std::string patterned(std::size_t size)
{
  std::string body;
  body.reserve(size);
  for (std::size_t i = 0; body.size() < size; ++i) body += std::to_string(i % 1000) + ",";
  body.resize(size);
  return body;
}

// Answers a GET with 200 "answer to <target>\n" and a POST with 201
// "created\n", on a kept-alive connection, until the client leaves.
bool answer_plainly(workbook::peer& p, std::string const& request)
{
  if (method_of(request) == "POST") return p.write(workbook::http_response(201, "created\n"));
  return p.write(workbook::http_response(200, "answer to " + target_of(request) + "\n"));
}

// Serves every request plainly, except `special`, which gets `raw` as the
// whole response; then, if `then_hold`, the server keeps the connection
// open without a word (until the client closes it), or else closes it.
workbook::test_server::script special_response(std::string special, std::string raw, bool then_hold)
{
  return [special = std::move(special), raw = std::move(raw), then_hold](workbook::peer& p) {
    for (;;) {
      auto const request = p.read_request();
      if (request.empty()) return;
      if (target_of(request) == special) {
        if (!p.write(raw)) return;
        if (then_hold) p.hold();
        return;
      }
      if (!answer_plainly(p, request)) return;
    }
  };
}

// GET /endless announces 10 MiB, sends 64 KiB of it and then nothing more,
// holding the connection open until the client closes it. Everything else
// is answered plainly.
workbook::test_server::script endless_body()
{
  std::string head =
      "HTTP/1.1 200 OK\r\n"
      "Content-Type: application/octet-stream\r\n"
      "Content-Length: 10485760\r\n"
      "\r\n";
  return special_response("/endless", head + std::string(64 * 1024, 'x'), true);
}

// `body` as chunks of `chunk` bytes (the last one may be shorter), without
// the last-chunk that ends a chunked body.
std::string as_chunks(std::string const& body, std::size_t chunk)
{
  std::string out;
  for (std::size_t at = 0; at < body.size(); at += chunk) {
    auto const piece = body.substr(at, chunk);
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
    out += size + piece + "\r\n";
  }
  return out;
}

constexpr char chunked_head[] =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/plain\r\n"
    "Transfer-Encoding: chunked\r\n"
    "\r\n";

// GET /endless-chunks: a chunked body with no length to announce. Four
// chunks of 16 KiB arrive, then nothing more (no last-chunk), the
// connection held open until the client closes it. Everything else is
// answered plainly.
workbook::test_server::script endless_chunks()
{
  return special_response("/endless-chunks", chunked_head + as_chunks(std::string(64 * 1024, 'x'), 16 * 1024),
                          true);
}

} // namespace

// ---------------------------------------------------------------- AC1

TEST_CASE("get returns the status and the whole body, a 404 included", "[AC1]")
{
  std::mutex mutex;
  std::vector<workbook::request> seen;
  auto server = workbook::test_server::serving([&](workbook::request const& req) {
    std::lock_guard lock(mutex);
    seen.push_back(req);
    if (req.target == "/missing") return workbook::response{404, "", {}, "no such thing\n", ""};
    return workbook::response{200, "", {{"Content-Type", "text/plain"}}, "hello from the server\n", ""};
  });
  auto client = client_for(server);

  auto const [found, missing] = drive(client, server, [](task04::client& c) {
    auto a = c.get("/greeting?lang=en");
    auto b = c.get("/missing");
    return std::pair(a, b);
  });
  INFO("GET /greeting?lang=en: " << describe(found));
  INFO("GET /missing: " << describe(missing));
  CHECK(!found.error);
  CHECK(found.status == 200);
  CHECK(found.body == "hello from the server\n");
  CHECK(!missing.error);
  CHECK(missing.status == 404);
  CHECK(missing.body == "no such thing\n");

  std::lock_guard lock(mutex);
  REQUIRE(seen.size() >= 1);
  CHECK(seen[0].method == "GET");
  CHECK(seen[0].target == "/greeting?lang=en");
  INFO("an HTTP/1.1 request needs a Host field, e.g. \"127.0.0.1:" << server.port() << "\"");
  CHECK(std::any_of(seen[0].headers.begin(), seen[0].headers.end(),
                    [](auto const& field) { return workbook::iequals(field.first, "Host"); }));
}

TEST_CASE("100 GETs read to the end, one after another, use one connection", "[AC1]")
{
  auto server = workbook::test_server::serving([](workbook::request const& req) {
    auto const n = std::stoi(req.target.substr(std::string("/item/").size()));
    return workbook::response{200, "", {}, item_body(n), ""};
  });
  auto client = client_for(server);

  auto const responses = drive(client, server, [](task04::client& c) {
    std::vector<task04::response> out;
    for (int i = 0; i < 100; ++i) {
      out.push_back(c.get("/item/" + std::to_string(i)));
      if (out.back().status != 200) break;  // no point waiting for 99 more failures
    }
    return out;
  });
  REQUIRE(!responses.empty());
  for (std::size_t i = 0; i < responses.size(); ++i) {
    INFO("GET /item/" << i << ": " << describe(responses[i]));
    REQUIRE(responses[i].status == 200);
    REQUIRE(responses[i].body == item_body(static_cast<int>(i)));
  }
  REQUIRE(responses.size() == 100);
  INFO("the server accepted " << server.accepted() << " connection(s) for 100 requests; each "
       "response was read to its end and allowed keep-alive, so one connection could carry them all");
  CHECK(server.requests() == 100);
  CHECK(server.accepted() == 1);
}

TEST_CASE("chunked bodies and bodies larger than one read are read to the end, and the connection is kept",
          "[AC1]")
{
  std::string const chunked =
      "HTTP/1.1 200 OK\r\n"
      "Transfer-Encoding: chunked\r\n"
      "\r\n"
      "7\r\nhello, \r\n"
      "8\r\nchunked \r\n"
      "6\r\nworld\n\r\n"
      "0\r\n\r\n";
  std::string const large = patterned(300 * 1024);
  auto server = workbook::test_server::scripted([chunked, large](workbook::peer& p) {
    for (;;) {
      auto const request = p.read_request();
      if (request.empty()) return;
      bool const ok = target_of(request) == "/chunked" ? p.write(chunked)
                                                       : p.write(workbook::http_response(200, large));
      if (!ok) return;
    }
  });
  auto client = client_for(server);

  auto const responses = drive(client, server, [](task04::client& c) {
    std::vector<task04::response> out;
    for (int i = 0; i < 3; ++i) {
      out.push_back(c.get("/chunked"));
      out.push_back(c.get("/large"));
    }
    return out;
  });
  REQUIRE(responses.size() == 6);
  for (std::size_t i = 0; i < responses.size(); ++i) {
    bool const is_chunked = i % 2 == 0;
    INFO("request " << i + 1 << ", GET " << (is_chunked ? "/chunked" : "/large (300 KiB)") << ": "
         << describe(responses[i]));
    REQUIRE(!responses[i].error);
    REQUIRE(responses[i].status == 200);
    if (is_chunked) REQUIRE(responses[i].body == "hello, chunked world\n");
    else REQUIRE(responses[i].body == large);
  }
  INFO("the server accepted " << server.accepted() << " connection(s) for 6 requests");
  CHECK(server.accepted() == 1);
}

// ---------------------------------------------------------------- AC2

namespace {

// Serves every request plainly, except `special`, which gets `raw` as the
// whole response; the connection stays open for more requests after it.
workbook::test_server::script serving_raw(std::string special, std::string raw)
{
  return [special = std::move(special), raw = std::move(raw)](workbook::peer& p) {
    for (;;) {
      auto const request = p.read_request();
      if (request.empty()) return;
      bool const ok = target_of(request) == special ? p.write(raw) : answer_plainly(p, request);
      if (!ok) return;
    }
  };
}

// What a test learns from a body read to its end through open(), and the
// GET sent after it while the reader is still alive.
struct read_through {
  int status = 0;
  boost::system::error_code error;
  std::string body;
  std::size_t largest_piece = 0;
  bool empty_piece_before_done = false;
  bool done = false;
  task04::response next;
};

// open(target), then read_some(max) until done() or an error; then, the
// reader still alive but its body read to the end, GET /after.
read_through read_to_end_then_get(std::shared_ptr<task04::client> client, workbook::test_server& server,
                                  std::string target, std::size_t max)
{
  return drive(client, server, [target, max](task04::client& c) {
    read_through o;
    auto reader = c.open(target);
    o.status = reader.status();
    for (int i = 0; i < 10000 && !reader.done() && !reader.error(); ++i) {
      auto const piece = reader.read_some(max);
      o.largest_piece = std::max(o.largest_piece, piece.size());
      if (piece.empty() && !reader.done()) o.empty_piece_before_done = !reader.error();
      o.body += piece;
    }
    o.error = reader.error();
    o.done = reader.done();
    o.next = c.get("/after");
    return o;
  });
}

void check_read_through(read_through const& r, std::string const& target, std::string const& expected,
                        std::size_t max, workbook::test_server const& server)
{
  INFO("open(\"" << target << "\"): status " << r.status << ", " << r.body.size() << " of " << expected.size()
       << " bytes read, error " << describe(r.error) << ", done() " << r.done);
  REQUIRE(r.status == 200);
  CHECK(!r.error);
  CHECK(r.done);
  CHECK(r.body == expected);
  INFO("read_some(" << max << ") returned a piece of " << r.largest_piece << " bytes at most");
  CHECK(r.largest_piece <= max);
  INFO("read_some must not return \"\" before the body's end unless it failed: an empty piece is how "
       "the caller learns that the body is complete");
  CHECK_FALSE(r.empty_piece_before_done);

  INFO("the GET after it: " << describe(r.next));
  CHECK(r.next.status == 200);
  CHECK(r.next.body == "answer to /after\n");
  INFO("the server accepted " << server.accepted() << " connection(s): a body read to its end "
       "leaves the connection clean, ready for the next request");
  CHECK(server.accepted() == 1);
}

// What a test learns from a GET given up after its first piece of body, and
// the request after it.
struct abandoned {
  int status = 0;
  boost::system::error_code open_error;
  std::size_t first_piece = 0;
  milliseconds giving_up_took{};
  task04::response after;
};

// open(target), read_some(4096) once, give up on the rest, then GET /after.
abandoned give_up_then_get(std::shared_ptr<task04::client> client, workbook::test_server& server,
                           std::string target)
{
  return drive(client, server, [target](task04::client& c) {
    abandoned a;
    std::optional<task04::body_reader> reader;
    reader.emplace(c.open(target));
    a.status = reader->status();
    a.open_error = reader->error();
    a.first_piece = reader->read_some(4096).size();
    auto const start = std::chrono::steady_clock::now();
    reader.reset();  // gives up on the body
    a.giving_up_took = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
    a.after = c.get("/after");
    return a;
  });
}

void check_given_up(abandoned const& r, std::string const& target, std::string const& what,
                    workbook::test_server const& server)
{
  INFO("open(\"" << target << "\"): status " << r.status << ", error " << describe(r.open_error)
       << ", first read_some(4096) gave " << r.first_piece << " bytes");
  REQUIRE(r.status == 200);
  REQUIRE(r.first_piece > 0);
  CHECK(r.first_piece <= 4096);

  INFO("the server " << what << " and then waits: reading the rest would take forever. Giving up took "
       << r.giving_up_took.count() << " ms");
  CHECK(r.giving_up_took < 500ms);

  INFO("the GET after it: " << describe(r.after));
  CHECK(!r.after.error);
  CHECK(r.after.status == 200);
  CHECK(r.after.body == "answer to /after\n");
  INFO("the server accepted " << server.accepted() << " connection(s); the first still carried the "
       "unread rest of the body, so the next request needed a new one");
  CHECK(server.accepted() == 2);

  bool const closed = workbook::eventually([&] { return server.open() == 1; }, 1s);
  INFO("connections the server still sees open: " << server.open()
       << " (expected 1: the new one, kept; the abandoned one closed by the client)");
  CHECK(closed);
}

} // namespace

TEST_CASE("a body read to its end through open() leaves the connection for the next request", "[AC2]")
{
  std::string const big = patterned(200 * 1024);
  auto server = workbook::test_server::scripted(serving_raw("/big", workbook::http_response(200, big)));
  auto client = client_for(server);

  auto const r = read_to_end_then_get(client, server, "/big", 10000);
  check_read_through(r, "/big", big, 10000, server);
}

TEST_CASE("a chunked body read to its end through open() arrives whole, in pieces none of them empty, "
          "and leaves the connection for the next request",
          "[AC2]")
{
  // Chunks of 3000 bytes, read 1000 at a time: each chunk's size line is
  // parsed on its own, and produces no byte of body.
  std::string const text = patterned(40 * 1024);
  auto server = workbook::test_server::scripted(
      serving_raw("/chunked", chunked_head + as_chunks(text, 3000) + "0\r\n\r\n"));
  auto client = client_for(server);

  auto const r = read_to_end_then_get(client, server, "/chunked", 1000);
  check_read_through(r, "/chunked", text, 1000, server);
}

TEST_CASE("a body given up halfway: the client closes that connection at once and the next request "
          "goes on a new one",
          "[AC2]")
{
  auto server = workbook::test_server::scripted(endless_body());
  auto client = client_for(server);
  auto const r = give_up_then_get(client, server, "/endless");
  check_given_up(r, "/endless", "announced 10 MiB, sent 64 KiB", server);
}

TEST_CASE("a chunked body given up halfway is closed like any other, though nothing says how much is left",
          "[AC2]")
{
  auto server = workbook::test_server::scripted(endless_chunks());
  auto client = client_for(server);
  auto const r = give_up_then_get(client, server, "/endless-chunks");
  check_given_up(r, "/endless-chunks", "sent four chunks of 16 KiB, no last-chunk,", server);
}

TEST_CASE("bodies given up one after another leave no connection behind", "[AC2]")
{
  auto server = workbook::test_server::scripted(endless_body());
  auto client = client_for(server);

  auto const statuses = drive(client, server, [](task04::client& c) {
    std::vector<int> out;
    for (int i = 0; i < 5; ++i) {
      auto reader = c.open("/endless");  // destroyed at the end of the iteration, body unread
      out.push_back(reader.status());
      if (reader.status() != 200 || reader.read_some(1024).empty()) break;
    }
    return out;
  });
  INFO("statuses of the five GET /endless: " << Catch::Detail::stringify(statuses));
  REQUIRE(statuses == std::vector<int>(5, 200));
  CHECK(server.accepted() == 5);
  bool const closed = workbook::eventually([&] { return server.open() == 0; }, 1s);
  INFO("connections the server still sees open: " << server.open()
       << ". Each abandoned connection must be closed, not kept somewhere or left to the server");
  CHECK(closed);
}

TEST_CASE("the server sees it: 10 bodies read to their end arrive on one connection, 10 bodies given up "
          "on 10",
          "[AC2]")
{
  // The same 256 KiB answer from two servers. One client reads every body
  // to its last byte, and not one call further: the reader knows it is
  // done when it hands out that byte. The other reads 1 KiB of each and
  // gives up. Only the servers' accept counters are asked.
  constexpr int n = 10;
  std::string const body = patterned(256 * 1024);
  auto const answer = [body](workbook::request const&) { return workbook::response{200, "", {}, body, ""}; };
  auto read_server = workbook::test_server::serving(answer);
  auto given_up_server = workbook::test_server::serving(answer);

  struct tally {
    int whole = 0;      // bodies that arrived complete and correct
    int done = 0;       // readers whose done() was true once the last byte was out
    int given_up = 0;   // bodies given up after a first non-empty piece
  };
  auto const read = drive(client_for(read_server), read_server, [body](task04::client& c) {
    tally t;
    for (int i = 0; i < n; ++i) {
      auto reader = c.open("/item/" + std::to_string(i));
      if (reader.status() != 200) break;
      std::string got;
      for (int j = 0; j < 1000 && got.size() < body.size(); ++j) {
        auto const piece = reader.read_some(16 * 1024);
        if (piece.empty()) break;
        got += piece;
      }
      if (got == body) ++t.whole;
      if (reader.done()) ++t.done;
    }  // each reader is destroyed here, right after its last byte
    return t;
  });
  auto const given_up = drive(client_for(given_up_server), given_up_server, [](task04::client& c) {
    tally t;
    for (int i = 0; i < n; ++i) {
      auto reader = c.open("/item/" + std::to_string(i));
      if (reader.status() != 200 || reader.read_some(1024).empty()) break;
      ++t.given_up;
    }
    return t;
  });

  INFO(n << " bodies read to their end: " << read.whole << " complete, done() true after the last byte for "
       << read.done << ", on " << read_server.accepted() << " connection(s). " << n << " bodies given up: "
       << given_up.given_up << " opened, on " << given_up_server.accepted() << " connection(s)");
  REQUIRE(read.whole == n);
  REQUIRE(given_up.given_up == n);
  CHECK(read.done == n);
  CHECK(read_server.accepted() == 1);
  CHECK(given_up_server.accepted() == n);
  bool const closed = workbook::eventually([&] { return given_up_server.open() == 0; }, 1s);
  INFO("connections the second server still sees open: " << given_up_server.open());
  CHECK(closed);
}

// ---------------------------------------------------------------- AC3

namespace {

struct two_requests {
  task04::response first;
  task04::response then_post;
};

// GET `target`, then POST /orders. A POST is never retried, so if it goes
// out on a connection that cannot carry it, it fails.
two_requests get_then_post(std::shared_ptr<task04::client> client, workbook::test_server& server,
                           std::string target)
{
  return drive(client, server, [target](task04::client& c) {
    two_requests r;
    r.first = c.get(target);
    r.then_post = c.post("/orders", "1 pizza");
    return r;
  });
}

void check_post_went_on_new_connection(two_requests const& r, workbook::test_server const& server)
{
  INFO("the POST after it: " << describe(r.then_post));
  CHECK(!r.then_post.error);
  CHECK(r.then_post.status == 201);
  CHECK(r.then_post.body == "created\n");
  INFO("the server accepted " << server.accepted() << " connection(s)");
  CHECK(server.accepted() == 2);
}

} // namespace

TEST_CASE("a response with Connection: close ends the connection; the client closes it and uses a new one",
          "[AC3]")
{
  // The server says close, then (lazily) waits: a client that sends the
  // next request on this connection waits for an answer that never comes.
  auto server = workbook::test_server::scripted(special_response(
      "/last", workbook::http_response(200, "last words\n", {{"Connection", "close"}}), true));
  auto client = client_for(server);

  auto const r = get_then_post(client, server, "/last");
  INFO("GET /last (answered with Connection: close): " << describe(r.first));
  REQUIRE(r.first.status == 200);
  CHECK(r.first.body == "last words\n");
  check_post_went_on_new_connection(r, server);

  bool const closed = workbook::eventually([&] { return server.open() == 1; }, 1s);
  INFO("connections the server still sees open: " << server.open()
       << " (expected 1: the new one; the client should close the one it was told to close)");
  CHECK(closed);
}

TEST_CASE("an HTTP/1.0 response without keep-alive ends the connection", "[AC3]")
{
  std::string const old =
      "HTTP/1.0 200 OK\r\n"
      "Content-Length: 14\r\n"
      "\r\n"
      "old-fashioned\n";
  auto server = workbook::test_server::scripted(special_response("/old", old, true));
  auto client = client_for(server);

  auto const r = get_then_post(client, server, "/old");
  INFO("GET /old (an HTTP/1.0 response, no Connection field): " << describe(r.first));
  REQUIRE(r.first.status == 200);
  CHECK(r.first.body == "old-fashioned\n");
  check_post_went_on_new_connection(r, server);

  bool const closed = workbook::eventually([&] { return server.open() == 1; }, 1s);
  INFO("connections the server still sees open: " << server.open());
  CHECK(closed);
}

TEST_CASE("a body that ends when the server closes is read whole, and its connection is not reused", "[AC3]")
{
  // No Content-Length, not chunked: the body is everything until the
  // server closes the connection (the parser's need_eof()).
  std::string const until_close =
      "HTTP/1.1 200 OK\r\n"
      "Content-Type: text/plain\r\n"
      "\r\n"
      "this body ends when the server hangs up\n";
  auto server = workbook::test_server::scripted(special_response("/until-close", until_close, false));
  auto client = client_for(server);

  auto const r = get_then_post(client, server, "/until-close");
  INFO("GET /until-close: " << describe(r.first));
  REQUIRE(r.first.status == 200);
  CHECK(!r.first.error);
  CHECK(r.first.body == "this body ends when the server hangs up\n");
  check_post_went_on_new_connection(r, server);
}
