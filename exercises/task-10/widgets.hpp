// Task 10 · the contract between your JSON API, the tests and the reference.
// Do not change this file: the tests are compiled against it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <memory>
#include <string_view>

namespace task10 {

namespace http = boost::beast::http;
namespace net = boost::asio;
using request_header = http::request_header<>;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

// The largest request body the server accepts: 1 MiB.
inline constexpr std::size_t max_body_bytes = 1024 * 1024;

class widget_api;

// ---------------------------------------------------------------- the body

// A request body decoded while it arrives. Its bytes are written in order,
// in pieces of any size: all at once, one at a time, or as they come off
// the socket. No piece is needed again once it has been written, so the
// body is never held whole. The parsing is Boost.JSON's
// boost::json::stream_parser, with its default options (strict JSON, and
// arrays and objects nested at most 32 deep).
class body_decoder {
public:
  body_decoder();
  ~body_decoder();
  body_decoder(body_decoder&&) noexcept;
  body_decoder& operator=(body_decoder&&) noexcept;

  // The next piece of the body. Returns false as soon as the body fails
  // check 1 below at a byte of this piece (a byte that cannot continue
  // JSON, or anything but whitespace after the value): no byte that could
  // still follow would change the answer, so whoever reads the body stops
  // reading and answers. Once it has returned false it ignores any further
  // piece and returns false again.
  bool write(std::string_view piece);

  // Yours to define in widgets.cpp: what the decoder keeps between pieces.
  struct state;

private:
  friend class widget_api;  // handle() finishes the decoding and reads the result
  std::unique_ptr<state> state_;
};

// ---------------------------------------------------------------- the API

// The widget API without the network: what the server does with one
// request. handle() may run on several threads at once.
//
//   POST /widgets     the body is one JSON object:
//                       {"name": "bolt", "price": 0.25, "quantity": 10}
//                     name      a string of 1 to 100 bytes; required
//                     price     a finite number >= 0; required
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
//        else 400 {"error": "...", "offset": K}: K is the index of the byte
//        where the parser stopped, counted from the body's first byte
//        whichever piece that byte came in (the `}` in `{"a": 1,}`, the `x`
//        in `{"a": 1} x`), or the body's length when the body ended too
//        soon ("" -> 0). (Inside a broken literal, \u escape or multi-byte
//        character, such as the `tru` of `[tru]`, the parser may stop at
//        the token's first byte or at the byte that broke it, depending on
//        whether the token came in one piece: K is where it stopped.)
//   2. that value is an object
//        else 400 {"error": "..."}
//   3. every member's name is one of name, price, quantity
//        else 400 {"error": "...", "field": "<the first other name, in the
//        order of the body>"}
//   4. name, then price, then quantity are as described above
//        else 422 {"error": "...", "field": "<the first that is not>"}
//        (a number too large for a double, 1e999, is infinite: not a price)
//
// Every response has `Content-Type: application/json`, a body that is one
// JSON object (every 4xx with a string member "error"), the request's
// version and a Content-Length. Whether the connection stays open is the
// server's to say, not handle()'s: the server sets keep-alive on every
// answer. (A body over max_body_bytes never reaches handle(): the server
// answers it.)
class widget_api {
public:
  widget_api();
  ~widget_api();
  widget_api(widget_api const&) = delete;
  widget_api& operator=(widget_api const&) = delete;

  // One request: its header, and its body as far as it was read, decoded
  // by `body`. Either every byte of the body was written to `body`, or
  // body.write() returned false and the rest was never read. Only a POST
  // to /widgets looks at the body.
  response handle(request_header const& head, body_decoder& body);

  // One complete request, its body in a string: the same as writing the
  // whole body to a fresh decoder in one piece.
  response handle(request const& req)
  {
    body_decoder body;
    body.write(req.body());
    return handle(req.base(), body);
  }

  // Yours to define in widgets.cpp: what the API keeps (the widgets, the
  // next id, whatever guards them).
  struct state;

private:
  std::unique_ptr<state> state_;
};

// ---------------------------------------------------------------- the server

// An HTTP/1.1 server in front of a widget_api: every request goes through
// api.handle(), and connections are kept alive as the client asks, except
// after the two answers below.
//
// It reads each request with a fresh http::request_parser whose body limit
// is max_body_bytes, the header first, and writes the body's bytes to a
// body_decoder as they arrive: the body is never collected in a string.
// Two answers go out before the body has all arrived, each with
// `Connection: close` (the rest of the body is never read, so the
// connection cannot carry another request):
//   - 413 {"error": "..."} (application/json) for a body over the limit:
//     right after the header when Content-Length says so, without waiting
//     for a single byte of the body; for a chunked body, as soon as its
//     chunks pass the limit;
//   - handle()'s 400 as soon as body_decoder::write() returns false.
// After either, the connection is closed without resetting it under the
// client's feet while the client is still sending: the server stops
// sending, reads and discards what still arrives until the client stops
// or a deadline passes, and only then closes.
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
