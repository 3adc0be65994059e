// Task 10 · acceptance tests for the body limit [AC5]. The raw connections
// send exactly the bytes written here: a header that announces 2 MB and
// then only a few bytes of body, or a chunked body that never says how
// long it will be, and never ends.
#include "fixtures.hpp"

#include <workbook/test_client.hpp>
#include <workbook/transcript.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <sstream>

using namespace task10_test;
using namespace std::chrono_literals;

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

std::string head(std::string const& framing)
{
  return "POST /widgets HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + framing + "\r\n\r\n";
}

// A valid widget padded with spaces to exactly `size` bytes.
std::string widget_of_size(std::size_t size)
{
  std::string body = R"({"name": "big", "price": 1})";
  body.resize(size, ' ');
  return body;
}

std::string chunk(std::string const& data)
{
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + data + "\r\n";
}

// A client whose kernel cannot hide a reset from it. Its send buffer is
// fixed small (64 KiB, set before it connects), so a send of a megabyte
// completes only while the server keeps taking the bytes off the
// connection. A server that has closed its socket answers the first of
// them with a reset, and the send fails: every time, not only when the
// timing is unlucky, as it is with the harness's clients and their large
// buffers.
class small_buffer_client {
public:
  explicit small_buffer_client(unsigned short port)
      : socket_(ioc_), id_(workbook::transcript::open_connection())
  {
    socket_.open(tcp::v4());
    socket_.set_option(net::socket_base::send_buffer_size(64 * 1024));
    error_ = run([&](auto done) { socket_.async_connect({net::ip::make_address("127.0.0.1"), port}, done); }, 2000ms);
    workbook::transcript::note(id_, error_ ? "connect failed: " + error_.message() : "connected (64 KiB send buffer)");
  }

  beast::error_code const& error() const { return error_; }

  // Sends all of `bytes`, or says why not. `show` is what the transcript
  // shows of them.
  beast::error_code send(std::string_view bytes, std::string_view show, std::chrono::milliseconds within)
  {
    workbook::transcript::record(id_, workbook::transcript::direction::sent, show);
    auto const ec = run([&](auto done) { net::async_write(socket_, net::buffer(bytes.data(), bytes.size()), done); },
                        within);
    if (ec) workbook::transcript::note(id_, "send failed: " + ec.message());
    return ec;
  }

  workbook::response read_response(std::chrono::milliseconds within)
  {
    workbook::response out;
    http::response_parser<http::string_body> parser;
    if (auto const ec = run([&](auto done) { http::async_read(socket_, buffer_, parser, done); }, within)) {
      out.error = ec.message();
      workbook::transcript::note(id_, "no response: " + out.error);
      return out;
    }
    auto const& msg = parser.get();
    out.status = static_cast<int>(msg.result_int());
    for (auto const& field : msg) out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    out.body = msg.body();
    std::ostringstream text;
    text << msg;
    workbook::transcript::record(id_, workbook::transcript::direction::received, text.str());
    return out;
  }

  // Stops sending, then reads until the server closes: "" for a clean end
  // (EOF), else what happened instead.
  std::string finish(std::chrono::milliseconds within)
  {
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    std::array<char, 4096> scratch{};
    for (;;) {
      std::size_t got = 0;
      auto const ec = run(
          [&](auto done) {
            socket_.async_read_some(net::buffer(scratch), [&got, done](beast::error_code e, std::size_t n) mutable {
              got = n;
              done(e);
            });
          },
          within);
      if (ec == net::error::eof) return "";
      if (ec) return ec.message();
      workbook::transcript::record(id_, workbook::transcript::direction::received, std::string_view(scratch.data(), got));
    }
  }

private:
  // Starts one operation and runs it to completion, or cancels it after
  // `within` (-> beast::error::timeout).
  template <class Start>
  beast::error_code run(Start start, std::chrono::milliseconds within)
  {
    beast::error_code result;
    bool done = false;
    start([&](beast::error_code ec, auto&&...) {
      result = ec;
      done = true;
    });
    ioc_.restart();
    ioc_.run_for(within);
    if (!done) {
      beast::error_code ignored;
      socket_.cancel(ignored);
      ioc_.restart();
      ioc_.run();
      return beast::error::timeout;
    }
    return result;
  }

  net::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
  int id_;
  beast::error_code error_;
};

} // namespace

TEST_CASE("a Content-Length over 1 MiB is answered 413 right after the header, without waiting for the body", "[AC5]")
{
  running_api api;
  // The client announces 2 MB and sends eight bytes of it. A server that
  // waits for the rest waits forever; this one must answer within a second.
  workbook::raw_connection conn(api.port(), 1000ms);
  REQUIRE(conn.connected());
  auto const start = std::chrono::steady_clock::now();
  REQUIRE(conn.send(head("Content-Length: 2000000") + R"({"name":)"));
  auto const res = conn.read_response();
  auto const waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  INFO("answered after " << waited.count() << " ms: " << res.status << " " << res.body);
  CHECK(error_problem(res, 413) == "");
  CHECK(workbook::iequals(res.header("Connection").value_or("(none)"), "close"));
  // The connection cannot carry another request: the server ends it.
  CHECK(conn.closed_by_peer(1000ms));

  // ... and goes on serving everyone else.
  workbook::test_client client(api.port());
  auto const next = client.send(post(R"({"name": "bolt", "price": 1})"));
  CHECK(next.status == 201);
  CHECK(body_of(next) == json{{"id", 1}});
}

TEST_CASE("after its 413 the client can still send the rest of its body: the server reads it, and does not reset", "[AC5]")
{
  running_api api;
  small_buffer_client client(api.port());
  REQUIRE_FALSE(client.error());

  std::string const first = head("Content-Length: 2000000") + R"({"name":)";
  REQUIRE_FALSE(client.send(first, first, 2000ms));
  auto const res = client.read_response(2000ms);
  INFO("answer: " << res.status << " " << res.body << res.error);
  REQUIRE(error_problem(res, 413) == "");

  // A client that writes its whole request before it reads (many do) is
  // still sending now. The server has answered and will not use these
  // bytes; it must still take them off the connection until the client
  // stops, or its kernel resets the connection under the client's feet.
  std::string const rest(2000000 - 8, ' ');
  auto const sent = client.send(rest, "(the other 1999992 bytes of the body)", 5000ms);
  INFO("sending the rest of the body after the 413: " << (sent ? sent.message() : "all sent"));
  CHECK_FALSE(sent);
  // Once the client stops, the server closes: a clean end, not a reset.
  auto const end = client.finish(3000ms);
  INFO("after the client stopped sending: " << (end.empty() ? "closed by the server" : end));
  CHECK(end == "");
}

TEST_CASE("a body of exactly 1 MiB is accepted; one byte more is a 413", "[AC5]")
{
  running_api api;
  workbook::test_client client(api.port());

  auto const exact = client.send(post(widget_of_size(task10::max_body_bytes)));
  CHECK(exact.status == 201);
  CHECK(body_of(exact) == json{{"id", 1}});

  // The whole body is sent this time: the 413 must still reach the client
  // (a server that closes with the body unread resets the connection, and
  // the reset can destroy the answer before the client reads it).
  auto const over = client.send(post(widget_of_size(task10::max_body_bytes + 1)));
  CHECK(error_problem(over, 413) == "");
  CHECK(workbook::iequals(over.header("Connection").value_or("(none)"), "close"));

  auto const after = client.send(post(R"({"name": "bolt", "price": 1})"));
  CHECK(body_of(after) == json{{"id", 2}});
}

TEST_CASE("a chunked body is a 413 as soon as its chunks pass 1 MiB, before it ends; a small one is fine", "[AC5]")
{
  running_api api;

  {
    // Seventeen chunks of 64 KiB after a small one: 1 MiB + 64 KiB, and no
    // chunk says so alone. The last chunk, which would end the body, never
    // comes: a server that waits for the end before it counts never answers.
    workbook::raw_connection conn(api.port(), 2000ms);
    REQUIRE(conn.connected());
    std::string bytes = head("Transfer-Encoding: chunked") + chunk(R"({"name": "big", "price": 1})");
    for (int i = 0; i < 17; ++i) bytes += chunk(std::string(64 * 1024, ' '));
    conn.send(bytes);  // may fail part-way once the server has answered; the answer counts
    auto const res = conn.read_response();
    INFO("answer: " << res.status << " " << res.body << res.error);
    CHECK(error_problem(res, 413) == "");
    // The rest of the body is still to come: this connection is done.
    CHECK(workbook::iequals(res.header("Connection").value_or("(none)"), "close"));
    CHECK(conn.closed_by_peer(1000ms));
  }
  {
    workbook::raw_connection conn(api.port());
    REQUIRE(conn.connected());
    REQUIRE(conn.send(head("Transfer-Encoding: chunked") + chunk(R"({"name": )") + chunk(R"("bolt", )") +
                      chunk(R"("price": 2})") + "0\r\n\r\n"));
    auto const res = conn.read_response();
    INFO("answer: " << res.status << " " << res.body << res.error);
    CHECK(res.status == 201);
    CHECK(body_of(res) == json{{"id", 1}});
  }
}
