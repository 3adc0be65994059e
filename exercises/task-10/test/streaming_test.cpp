// Task 10 · acceptance tests for decoding the body while it arrives [AC6]:
// body_decoder fed in pieces, without a network, and the server answering
// a body that stops being JSON before the client has sent the rest of it.
#include "fixtures.hpp"

#include <workbook/test_client.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <vector>

using namespace task10_test;
using namespace std::chrono_literals;

namespace {

std::string head(std::string const& framing)
{
  return "POST /widgets HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + framing + "\r\n\r\n";
}

std::string chunk(std::string const& data)
{
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + data + "\r\n";
}

task10::request_header post_header()
{
  task10::request_header h;
  h.method(task10::http::verb::post);
  h.target("/widgets");
  h.version(11);
  h.set(task10::http::field::content_type, "application/json");
  return h;
}

// handle()'s answer in the harness's terms, for error_problem().
workbook::response plain(task10::response const& res)
{
  workbook::response out;
  out.status = static_cast<int>(res.result_int());
  for (auto const& field : res) out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  out.body = res.body();
  return out;
}

// What write() said to each piece, as "yyn..": y for true, n for false.
std::string write_pieces(task10::body_decoder& body, std::vector<std::string> const& pieces)
{
  std::string said;
  for (auto const& piece : pieces) said += body.write(piece) ? 'y' : 'n';
  return said;
}

std::vector<std::string> pieces_of(std::string const& body, std::size_t size)
{
  std::vector<std::string> out;
  for (std::size_t at = 0; at < body.size(); at += size) out.push_back(body.substr(at, size));
  return out;
}

} // namespace

TEST_CASE("body_decoder takes a body in pieces of any size, down to one byte", "[AC6]")
{
  task10::widget_api api;
  std::string const widget = R"({"name": "bolt", "price": 0.25, "quantity": 10})";

  task10::body_decoder bytes;
  auto const said = write_pieces(bytes, pieces_of(widget, 1));
  CHECK(said == std::string(widget.size(), 'y'));
  auto const one = plain(api.handle(post_header(), bytes));
  INFO("answer: " << one.status << " " << one.body);
  CHECK(one.status == 201);
  CHECK(body_of(one) == json{{"id", 1}});

  // Whitespace after the object is fine, whichever piece it comes in.
  task10::body_decoder spaced;
  CHECK(write_pieces(spaced, {R"({"name":"b",)", R"("price":2})", " ", "\r\n", "\t "}) == "yyyyy");
  auto const two = plain(api.handle(post_header(), spaced));
  INFO("answer: " << two.status << " " << two.body);
  CHECK(body_of(two) == json{{"id", 2}});
}

TEST_CASE("body_decoder refuses the piece that breaks the JSON, and counts the offset from the body's first byte", "[AC6]")
{
  task10::widget_api api;

  // The quote at byte 17 comes in the fifth piece of four bytes. Every
  // piece before it is fine; from that piece on, the answer is known.
  std::string const quoted = R"({"name": "bolt", 'price': 1})";
  task10::body_decoder body;
  CHECK(write_pieces(body, pieces_of(quoted, 4)) == "yyyynnn");
  auto const res = plain(api.handle(post_header(), body));
  INFO("answer: " << res.status << " " << res.body);
  CHECK(error_problem(res, 400, std::nullopt, 17) == "");

  // Data after the object, in a piece of its own after the object was
  // complete: the parser is done with the value, not with the body.
  task10::body_decoder trailing;
  CHECK(write_pieces(trailing, {R"({"name":"a","price":1})", "  \n", " x"}) == "yyn");
  auto const after = plain(api.handle(post_header(), trailing));
  INFO("answer: " << after.status << " " << after.body);
  CHECK(error_problem(after, 400, std::nullopt, 26) == "");

  // A body that ends too soon is refused only when it ends: at its length.
  task10::body_decoder cut;
  CHECK(write_pieces(cut, {R"({"na)", R"(me": "bo)"}) == "yy");
  auto const short_body = plain(api.handle(post_header(), cut));
  INFO("answer: " << short_body.status << " " << short_body.body);
  CHECK(error_problem(short_body, 400, std::nullopt, 12) == "");

  // None of them was stored.
  task10::body_decoder fine;
  fine.write(R"({"name": "bolt", "price": 1})");
  CHECK(body_of(plain(api.handle(post_header(), fine))) == json{{"id", 1}});
}

TEST_CASE("a body that is not JSON from its first bytes is a 400 before the client has sent the rest of it", "[AC6]")
{
  running_api api;
  // 1000000 bytes announced, within the limit; ten sent, the tenth already
  // wrong. A server that collects the body before parsing it is still
  // waiting for the other 999990 when the client gives up.
  workbook::raw_connection conn(api.port(), 2000ms);
  REQUIRE(conn.connected());
  REQUIRE(conn.send(head("Content-Length: 1000000") + R"({"name": x)"));
  auto const res = conn.read_response();
  INFO("answer: " << res.status << " " << res.body << res.error);
  CHECK(error_problem(res, 400, std::nullopt, 9) == "");
  // The rest of the body is never read: the connection is done.
  CHECK(workbook::iequals(res.header("Connection").value_or("(none)"), "close"));
  CHECK(conn.closed_by_peer(2000ms));

  // Nothing was stored, and the server goes on serving.
  workbook::test_client client(api.port());
  auto const next = client.send(post(R"({"name": "bolt", "price": 1})"));
  CHECK(next.status == 201);
  CHECK(body_of(next) == json{{"id", 1}});
}

TEST_CASE("a chunked body is refused at the chunk that breaks it, the offset counted across chunks, before it ends", "[AC6]")
{
  running_api api;
  // Three chunks of 9, 8 and 11 bytes; the `x` is byte 9 of the third, byte
  // 26 of the body. The last chunk, which would end the body, never comes.
  workbook::raw_connection conn(api.port(), 2000ms);
  REQUIRE(conn.connected());
  REQUIRE(conn.send(head("Transfer-Encoding: chunked") + chunk(R"({"name": )") + chunk(R"("bolt", )") +
                    chunk(R"("price": x})")));
  auto const res = conn.read_response();
  INFO("answer: " << res.status << " " << res.body << res.error);
  CHECK(error_problem(res, 400, std::nullopt, 26) == "");
  CHECK(workbook::iequals(res.header("Connection").value_or("(none)"), "close"));
  CHECK(conn.closed_by_peer(2000ms));
}
