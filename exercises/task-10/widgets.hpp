// Task 10 · the contract between your JSON API, the tests and the reference.
// Do not change this file: the tests are compiled against it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <memory>

namespace task10 {

namespace http = boost::beast::http;
namespace net = boost::asio;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

// The largest request body the server accepts: 1 MiB.
inline constexpr std::size_t max_body_bytes = 1024 * 1024;

// ---------------------------------------------------------------- the API

// The widget API without the network: what the server does with one
// complete request. handle() may run on several threads at once.
//
//   POST /widgets     the body is one JSON object:
//                       {"name": "bolt", "price": 0.25, "quantity": 10}
//                     name      a string of 1 to 100 bytes; required
//                     price     a number >= 0; required
//                     quantity  an integer (no fraction, no exponent) from 0
//                               to 1000000; optional, 0 when absent
//                     -> 201 {"id": N}, with `Location: /widgets/N`.
//                        N is 1 for the first widget stored, then 2, 3, ...
//   GET /widgets/N    -> 200 {"id": N, "name": ..., "price": ..., "quantity": ...}
//                        404 when no widget N was stored
//   another method on /widgets -> 405 with `Allow: POST`,
//                  on /widgets/N -> 405 with `Allow: GET`
//   any other target           -> 404
//
// A POST body is checked in this order; the first check that fails decides
// the answer, and nothing is stored:
//
//   1. it is exactly one JSON value, with nothing but whitespace after it
//        else 400 {"error": "...", "offset": K}: K is the 0-based index of
//        the last byte the parser read when it gave up (the `}` in
//        `{"a": 1,}`, the `x` in `{"a": 1} x`), or the body's length when
//        the body ended too soon ("" -> 0). A number JSON allows but a
//        double cannot hold (1e999) is a 400 too, with or without "offset".
//   2. that value is an object
//        else 400 {"error": "..."}
//   3. every member's name is one of name, price, quantity
//        else 400 {"error": "...", "field": "<the first other name, in the
//        order of the body>"}
//   4. name, then price, then quantity are as described above
//        else 422 {"error": "...", "field": "<the first that is not>"}
//
// Every response has `Content-Type: application/json`, a body that is one
// JSON object (every 4xx with a string member "error"), the request's
// version and keep-alive, and a Content-Length. (A body over
// max_body_bytes never reaches handle(): the server answers it.)
class widget_api {
public:
  widget_api();
  ~widget_api();
  widget_api(widget_api const&) = delete;
  widget_api& operator=(widget_api const&) = delete;

  response handle(request const& req);

  // Yours to define in widgets.cpp: what the API keeps (the widgets, the
  // next id, whatever guards them).
  struct state;

private:
  std::unique_ptr<state> state_;
};

// ---------------------------------------------------------------- the server

// An HTTP/1.1 server in front of a widget_api: every request goes through
// api.handle(), and connections are kept alive as the client asks.
//
// It reads each request with an http::request_parser<http::string_body>
// whose body limit is max_body_bytes, the header first. A body over the
// limit is answered with 413 {"error": "..."}, Content-Type
// application/json and `Connection: close` as soon as the server knows it:
//   - right after the header when Content-Length says so, without waiting
//     for a single byte of the body;
//   - when the body crosses the limit, for a chunked body;
// and then the connection is closed, without resetting it under the
// client's feet while the client is still sending.
class widget_server {
public:
  widget_server(net::io_context& ioc, net::ip::tcp::endpoint listen_on, widget_api& api);
  ~widget_server();
  widget_server(widget_server const&) = delete;
  widget_server& operator=(widget_server const&) = delete;

  // Opens the listening socket and starts accepting; returns at once.
  // Whoever runs `ioc` serves the connections.
  void start();

  // Where the server listens; after start(), the real port.
  net::ip::tcp::endpoint local_endpoint() const;

  // Yours to define in widgets.cpp: what the server keeps.
  struct state;

private:
  std::shared_ptr<state> state_;
};

} // namespace task10
