// workbook/tls_serve.hpp: the HTTP reads and writes a TLS server's own code
// (stretch 3's ingress) makes over its ssl::stream. A minimal server below
// handshakes, then reads requests and writes responses with them until the
// client stops; tls_client is the peer.
#include <workbook/io_threads.hpp>
#include <workbook/test_ca.hpp>
#include <workbook/tls_client.hpp>
#include <workbook/tls_serve.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/http/error.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <string>

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto as_tuple = net::as_tuple(net::use_awaitable);

// What the server saw of one connection (Catch2's assertions belong to the
// test's thread, so the server only records).
struct served {
  int requests = 0;
  boost::system::error_code last;  // why it stopped reading
  std::size_t written = 0;         // bytes of the last response written
};

// Accepts one connection; answers each request "<method> <target> <body size>",
// refusing bodies over `body_limit` with the parser's error.
net::awaitable<served> serve_one(tcp::acceptor& acceptor, ssl::context& context, std::size_t body_limit)
{
  served out;
  auto socket = co_await acceptor.async_accept(net::use_awaitable);
  workbook::tls::server_stream stream(std::move(socket), context);
  co_await stream.async_handshake(ssl::stream_base::server, net::use_awaitable);
  boost::beast::flat_buffer buffer;
  for (;;) {
    workbook::tls::request_parser parser;
    parser.body_limit(body_limit);
    auto [ec, read] = co_await workbook::tls::async_read_request(stream, buffer, parser, as_tuple);
    if (ec) {
      out.last = ec;
      co_return out;
    }
    ++out.requests;
    auto const& request = parser.get();
    workbook::tls::response_message response{http::status::ok, 11};
    response.body() = std::string(request.method_string()) + " " + std::string(request.target()) + " " +
                      std::to_string(request.body().size());
    response.prepare_payload();
    auto [write_error, written] = co_await workbook::tls::async_write_response(stream, response, as_tuple);
    out.written = written;
    if (write_error) {
      out.last = write_error;
      co_return out;
    }
  }
}

struct rig {
  workbook::test_ca ca;
  ssl::context context{ssl::context::tls_server};
  net::io_context ioc;
  tcp::acceptor acceptor{ioc, {net::ip::make_address("127.0.0.1"), 0}};

  rig()
  {
    auto const identity = ca.issue_server({"serve.test"});
    context.use_certificate_chain(net::buffer(identity.certificate));
    context.use_private_key(net::buffer(identity.private_key), ssl::context::pem);
  }
  workbook::tls_client client()
  {
    return workbook::tls_client(acceptor.local_endpoint().port(),
                                {.sni = "serve.test", .trusted_ca = ca.certificate(), .verify_name = "serve.test"});
  }
};

} // namespace

TEST_CASE("tls_serve: requests are read and responses written over the stream, keep-alive", "[tls_serve]")
{
  rig r;
  auto done = net::co_spawn(net::make_strand(r.ioc), serve_one(r.acceptor, r.context, 1024), net::use_future);
  workbook::io_threads io(r.ioc, 2);

  auto c = r.client();
  REQUIRE(c.handshake().completed);
  auto const first = c.send({"GET", "/a", {}, ""});
  CHECK(first.status == 200);
  CHECK(first.body == "GET /a 0");
  auto const second = c.send({"POST", "/b", {}, "twelve bytes"});
  CHECK(second.status == 200);
  CHECK(second.body == "POST /b 12");
  c.shutdown();

  REQUIRE(done.wait_for(2s) == std::future_status::ready);
  auto const s = done.get();
  CHECK(s.requests == 2);
  CHECK(s.written > std::string("POST /b 12").size());  // the header went too
  INFO(s.last.message());
  CHECK(s.last == http::error::end_of_stream);  // the client's close_notify, read as the end
}

TEST_CASE("tls_serve: the parser's body limit reaches the read", "[tls_serve]")
{
  rig r;
  auto done = net::co_spawn(net::make_strand(r.ioc), serve_one(r.acceptor, r.context, 4), net::use_future);
  workbook::io_threads io(r.ioc, 2);

  auto c = r.client();
  REQUIRE(c.handshake().completed);
  auto const refused = c.send({"POST", "/big", {}, "more than four bytes"});
  CHECK(refused.status == 0);  // the server stopped reading; it did not answer

  REQUIRE(done.wait_for(2s) == std::future_status::ready);
  auto const s = done.get();
  CHECK(s.requests == 0);
  CHECK(s.last == http::error::body_limit);
}
