// Task 09 · the client relay() calls other services with. Given: do not
// change this file (the tests and the reference compile it too).
//
// It is task 08's client made asynchronous: the caller does not block while
// the other service thinks. The GET runs on the executor it is given, and its
// answer arrives in a callback, on that executor, on whichever thread runs it
// then. That is the moment a request's handler "resumes", maybe on another
// thread than the one it started on.
#pragma once

#include <workbook/url.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace task09 {

// What one GET brought back.
struct upstream_reply {
  // Set when no complete response arrived: refused, reset, the deadline
  // passed (boost::beast::error::timeout), or a URL this client does not
  // understand (boost::asio::error::invalid_argument).
  boost::system::error_code error;
  int status = 0;      // the response's status code; 0 when `error` is set
  std::string body;    // the whole body; empty when `error` is set
};

// Sends `GET url` with `headers` (Host and User-Agent are added) and reads
// the whole response. One deadline, `timeout`, covers connecting, writing and
// reading; a new connection each time. `on_reply` is called exactly once,
// through `ex`, never before async_get returns.
//
//   url  "http://IP:PORT/path": scheme http, an IP literal (no names are
//        resolved), an optional port (80), an optional path ("/").
void async_get(boost::asio::any_io_executor ex, std::string_view url, boost::beast::http::fields headers,
               std::chrono::milliseconds timeout, std::function<void(upstream_reply)> on_reply);

// ---------------------------------------------------------------- implementation

namespace upstream_client_detail {

// One GET in flight: owned by the completion handlers of its own operations.
struct get_operation : std::enable_shared_from_this<get_operation> {
  get_operation(boost::asio::any_io_executor ex, std::function<void(upstream_reply)> done)
      : stream(std::move(ex)), on_reply(std::move(done)) {}

  void finish(boost::system::error_code ec)
  {
    upstream_reply reply;
    if (ec) {
      reply.error = ec;
    } else {
      reply.status = static_cast<int>(response.result_int());
      reply.body = std::move(response.body());
    }
    boost::beast::error_code ignored;
    stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    stream.close();
    auto callback = std::move(on_reply);
    callback(std::move(reply));
  }

  boost::beast::tcp_stream stream;
  boost::beast::flat_buffer buffer;
  boost::beast::http::request<boost::beast::http::empty_body> request;
  boost::beast::http::response<boost::beast::http::string_body> response;
  std::function<void(upstream_reply)> on_reply;
};

} // namespace upstream_client_detail

inline void async_get(boost::asio::any_io_executor ex, std::string_view url, boost::beast::http::fields headers,
                      std::chrono::milliseconds timeout, std::function<void(upstream_reply)> on_reply)
{
  namespace beast = boost::beast;
  namespace http = beast::http;
  namespace net = boost::asio;
  using upstream_client_detail::get_operation;

  // The workbook's one URL parser (Boost.URL underneath): http only, an IP
  // literal (nothing is resolved), a port from 1 to 65535 (80 when absent).
  workbook::http_url where;
  if (workbook::parse_http_url(url, where)) {
    net::post(ex, [on_reply = std::move(on_reply)] {
      upstream_reply reply;
      reply.error = net::error::invalid_argument;
      on_reply(std::move(reply));
    });
    return;
  }

  auto op = std::make_shared<get_operation>(ex, std::move(on_reply));
  op->request = {http::verb::get, where.target, 11};
  for (auto const& field : headers) op->request.insert(field.name_string(), field.value());
  op->request.set(http::field::host, where.host);
  op->request.set(http::field::user_agent, "workbook-task-09");

  op->stream.expires_after(timeout);  // one deadline for the whole exchange
  op->stream.async_connect(where.endpoint, [op](beast::error_code ec) {
    if (ec) return op->finish(ec);
    http::async_write(op->stream, op->request, [op](beast::error_code ec, std::size_t) {
      if (ec) return op->finish(ec);
      http::async_read(op->stream, op->buffer, op->response,
                       [op](beast::error_code ec, std::size_t) { op->finish(ec); });
    });
  });
}

} // namespace task09
