// The TLS floor: what TLS and HTTP/1.1 alone cost on one core, for the
// ingress to be divided by. One certificate loaded at start, no ClientHello
// callback, no SNI lookup, no upstream: every request is answered 200 "ok"
// on the spot. It reads and writes HTTP through the same compiled-once
// helpers as the reference ingress (workbook/tls_serve.hpp), so the gap
// between the two is the ingress's own work: picking a certificate per
// handshake, checking Host, and forwarding through the pool. One
// io_context on one thread and no strand: nothing runs concurrently.
//
//   floor CERT KEY      prints "listening on 127.0.0.1:PORT"
#include <workbook/tls_serve.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/error.hpp>

#include <openssl/ssl.h>

#include <cstdio>
#include <exception>

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr auto tuple = net::as_tuple(net::use_awaitable);

net::awaitable<void> serve(workbook::tls::server_stream stream)
{
  auto [handshake_error] = co_await stream.async_handshake(ssl::stream_base::server, tuple);
  if (handshake_error) co_return;
  beast::flat_buffer buffer;
  for (;;) {
    workbook::tls::request_parser parser;
    auto [read_error, read] = co_await workbook::tls::async_read_request(stream, buffer, parser, tuple);
    if (read_error) {
      // The client's close_notify: answer with ours, as the ingress does.
      if (read_error == http::error::end_of_stream) co_await stream.async_shutdown(tuple);
      co_return;
    }
    auto const request = parser.release();
    workbook::tls::response_message response{http::status::ok, request.version()};
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    response.body() = "ok";
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    auto [write_error, written] = co_await workbook::tls::async_write_response(stream, response, tuple);
    if (write_error || !response.keep_alive()) co_return;
  }
}

net::awaitable<void> accept_loop(tcp::acceptor& acceptor, ssl::context& context)
{
  for (;;) {
    auto [error, socket] = co_await acceptor.async_accept(tuple);
    if (error) continue;
    // Detached, as in the minimal Beast server: the coroutine owns its
    // stream and nothing waits for it; the process ends with SIGTERM.
    net::co_spawn(acceptor.get_executor(), serve(workbook::tls::server_stream(std::move(socket), context)),
                  net::detached);
  }
}

} // namespace

int main(int argc, char** argv)
{
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s CERT KEY\n", argv[0]);
    return 2;
  }
  net::io_context ioc(1);
  ssl::context context(ssl::context::tls_server);
  // TLS 1.3 only: what the ingress negotiates with the load generator, so
  // the two handshakes are the same protocol. OpenSSL's defaults otherwise:
  // a server session cache and tickets, so resumption works here too.
  SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_3_VERSION);
  context.use_certificate_chain_file(argv[1]);
  context.use_private_key_file(argv[2], ssl::context::pem);
  tcp::acceptor acceptor(ioc, {net::ip::make_address("127.0.0.1"), 0});
  net::co_spawn(ioc, accept_loop(acceptor, context), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
  std::fflush(stdout);
  ioc.run();
}
