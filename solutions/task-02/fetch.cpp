// Task 02 · reference.
//
// One deadline, set once, before the connect. basic_stream keeps it on its
// read and write timers, and every asynchronous operation that follows (the
// connect, each write_some of http::async_write, each read_some of
// http::async_read) waits on that same timer until expires_after is called
// again. Nothing below calls it again, so the budget is for the whole
// exchange: a server that trickles one byte at a time cannot stretch it.
//
// Timer armed at: boost/beast/core/impl/basic_stream.hpp:343
//   (transfer_op: `state().timer.async_wait(timeout_handler{...})`, run at
//   the start of every async_read_some / async_write_some while a deadline
//   is set; connect_op does the same for the connect at line 463.)
#include "fetch.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace task02 {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

fetch_result fetch(std::string const& host,
                   unsigned short port,
                   std::string const& target,
                   std::chrono::milliseconds timeout)
{
  fetch_result result;

  // No resolver: the stream's timer only exists once the stream does, so
  // name resolution would run outside the deadline. An IP literal needs none.
  beast::error_code not_an_address;
  auto const address = net::ip::make_address(host, not_an_address);
  if (not_an_address) {
    result.error = not_an_address;
    return result;
  }
  tcp::endpoint const endpoint(address, port);

  // fetch blocks its caller anyway, so it runs its own io_context: when
  // run() returns, every operation started below has completed, and the
  // handlers' references to these locals are no longer in use.
  net::io_context ioc;
  beast::tcp_stream stream(ioc);

  http::request<http::empty_body> request{http::verb::get, target, 11};
  std::string const authority = address.is_v6() ? "[" + host + "]" : host;
  request.set(http::field::host, authority + ":" + std::to_string(port));
  request.set(http::field::user_agent, "workbook-task-02");
  beast::flat_buffer buffer;
  http::response<http::string_body> response;

  // The whole budget, once. Resetting it before the write or the read would
  // give each phase a fresh budget; resetting it before every read_some
  // would let a server that sends a byte now and then keep us forever.
  stream.expires_after(timeout);

  // Asynchronous on purpose: tcp_stream's deadline applies only to its async
  // operations. A blocking http::read goes straight to the socket and would
  // wait for a silent server as long as the server likes.
  stream.async_connect(endpoint, [&](beast::error_code ec) {
    if (ec) {
      result.error = ec;
      return;
    }
    http::async_write(stream, request, [&](beast::error_code ec, std::size_t) {
      if (ec) {
        result.error = ec;
        return;
      }
      http::async_read(stream, buffer, response, [&](beast::error_code ec, std::size_t) {
        if (ec) {
          // A deadline that passed closed the socket; the read reports
          // beast::error::timeout, which we pass on unchanged.
          result.error = ec;
          return;
        }
        result.status = response.result_int();
        result.body = std::move(response.body());
      });
    });
  });

  ioc.run();

  // Done with the connection either way. (After a timeout the stream has
  // already closed the socket; the error is ignored.)
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream.close();
  return result;
}

} // namespace task02
