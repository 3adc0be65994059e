// Task 08 · the HTTP client your handler is handed. Given: do not change this
// file (the tests, the reference and the broken handlers all compile it).
//
// It plays the part of Go's *http.Client: something a handler receives from
// whoever builds it, together with the address of the service to call,
// instead of reaching for a global. It is the client you wrote in task 02,
// with a URL in front: one GET, one deadline, failures reported, not thrown.
#pragma once

#include <workbook/url.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace task08 {

// What one GET brought back.
struct upstream_reply {
  // Set when no complete response arrived: the connection was refused or
  // reset, the deadline passed (boost::beast::error::timeout), or the URL is
  // not one this client understands (boost::asio::error::invalid_argument).
  boost::system::error_code error;
  int status = 0;      // the response's status code, any of them; 0 when `error` is set
  std::string body;    // the whole body, exactly as sent; empty when `error` is set
};

class upstream_client {
public:
  explicit upstream_client(std::chrono::milliseconds timeout = std::chrono::seconds(2))
      : timeout_(timeout) {}

  std::chrono::milliseconds timeout() const { return timeout_; }

  // Sends `GET path` to the server named by `url` and reads the whole response.
  //
  //   url  "http://IP:PORT/path": scheme http, an IP literal (no names are
  //        resolved; "[::1]" for IPv6), an optional port (80), an optional
  //        path ("/"). For example "http://127.0.0.1:41234/now".
  //
  // Blocks the calling thread for at most timeout() from the call: one
  // deadline covers connecting, writing and reading. A new connection each
  // time, closed before returning. Safe to call from several threads at once.
  upstream_reply get(std::string_view url) const;

private:
  std::chrono::milliseconds timeout_;
};

// ---------------------------------------------------------------- implementation

inline upstream_reply upstream_client::get(std::string_view url) const
{
  namespace beast = boost::beast;
  namespace http = beast::http;
  namespace net = boost::asio;

  upstream_reply reply;
  // The workbook's one URL parser (Boost.URL underneath): http only, an IP
  // literal (nothing is resolved), a port from 1 to 65535 (80 when absent).
  workbook::http_url where;
  if (workbook::parse_http_url(url, where)) {
    reply.error = net::error::invalid_argument;
    return reply;
  }

  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  http::request<http::empty_body> request{http::verb::get, where.target, 11};
  request.set(http::field::host, where.host);
  request.set(http::field::user_agent, "workbook-task-08");
  beast::flat_buffer buffer;
  http::response<http::string_body> response;

  // One deadline for the whole exchange (task 02), started before the connect.
  stream.expires_after(timeout_);
  stream.async_connect(where.endpoint, [&](beast::error_code ec) {
    if (ec) {
      reply.error = ec;
      return;
    }
    http::async_write(stream, request, [&](beast::error_code ec, std::size_t) {
      if (ec) {
        reply.error = ec;
        return;
      }
      http::async_read(stream, buffer, response, [&](beast::error_code ec, std::size_t) {
        if (ec) {
          reply.error = ec;
          return;
        }
        reply.status = static_cast<int>(response.result_int());
        reply.body = std::move(response.body());
      });
    });
  });
  ioc.run();

  beast::error_code ignored;
  stream.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  stream.close();
  return reply;
}

} // namespace task08
