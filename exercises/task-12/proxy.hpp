// Task 12 · the contract between your reverse proxy, the tests and the reference.
// Do not change this file: the tests are compiled against it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string_view>

namespace task12 {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// The path prefix the proxy serves, and the value of the X-Proxy field it
// puts on every response it sends.
inline constexpr std::string_view api_prefix = "/api";
inline constexpr std::string_view x_proxy_value = "workbook-task12";

struct proxy_options {
  // The one backend every request under /api goes to: an IP address and a
  // port (the proxy resolves no names).
  tcp::endpoint backend;

  // How long the proxy waits for the backend at each step: to accept the
  // connection, to take each piece of the request, to send the response
  // header once the request has gone, and to send each next piece of the
  // response body. (The tests use a few hundred milliseconds.)
  std::chrono::milliseconds backend_timeout{10'000};

  // How long the proxy waits for the client at each step: for a request
  // header (a kept-alive connection waits this long for its next request),
  // for each piece of a request body, and for each piece of the response
  // to be taken.
  std::chrono::milliseconds client_timeout{30'000};

  // The bytes of body a connection holds at most while it relays one:
  // bodies move through one buffer of this size, a piece at a time, and
  // the next piece is read only once the last one has been written.
  std::size_t buffer_size = 64 * 1024;
};

// A reverse proxy in front of one HTTP/1.1 backend, for the paths under
// /api. It speaks HTTP/1.1 to its clients, with keep-alive, and relays
// every request under /api to the backend on a connection of its own.
//
// Routing. A request whose target is "/api", or starts with "/api/" or
// "/api?", goes to the backend with "/api" taken off the front of its
// target and the query kept: /api/users/1?q=1 -> /users/1?q=1,
// /api -> /, /api?x=1 -> /?x=1, /api/ -> /. Any other target (/, /apix,
// /v1/api) is answered 404 by the proxy, and the backend never hears of it.
//
// The request to the backend: the client's method, target as above, body,
// and fields, except that
//   - Host is the backend's address ("127.0.0.1:PORT");
//   - X-Forwarded-For is the client's IP address, appended with ", " to the
//     values of every X-Forwarded-For field the client sent, as one field
//     ("203.0.113.7, 127.0.0.1");
//   - X-Forwarded-Host is the client's Host, and X-Forwarded-Proto is
//     "http", replacing any the client sent;
//   - the hop-by-hop fields are gone (below);
//   - the body is framed by the proxy: a Content-Length when the client
//     gave one, else chunked when the client's body was chunked, else no
//     body. The proxy may say Connection: close or keep-alive for its own
//     connection to the backend.
//
// The response to the client: the backend's status, fields and body, except
// that the hop-by-hop fields are gone, X-Proxy is x_proxy_value (replacing
// any X-Proxy the backend sent), and the body is framed by the proxy: the
// backend's Content-Length when it gave one, else chunked. Whether the
// client's connection stays open is the client's business and the proxy's,
// never the backend's: a backend's `Connection: close` closes the proxy's
// connection to the backend, not the client's.
//
// Hop-by-hop fields, removed in both directions: Connection, Keep-Alive,
// Proxy-Authenticate, Proxy-Authorization, TE, Trailer, Transfer-Encoding,
// Upgrade, and every field named by a token of a Connection field (of all
// the Connection fields, when there are several; names compare without
// regard to case).
//
// Streaming. Bodies are never held whole, in either direction: a piece of
// at most buffer_size bytes is read, written to the other side, and only
// then is the next piece read. So a client that reads slowly slows the
// backend down (and a backend that reads slowly, the client), the memory a
// body takes is bounded whatever its size, and the first bytes of a body
// are passed on before its last bytes have arrived.
//
// Answers of the proxy's own, each with a short text/plain body and
// X-Proxy:
//   400  a request the proxy cannot read as HTTP/1.1 (Beast's parser
//        refuses it), or whose body length is ambiguous: both a
//        Transfer-Encoding and a Content-Length, or a Transfer-Encoding
//        that is not exactly "chunked". Sent with Connection: close, and
//        the connection is then closed; nothing is sent to the backend.
//   404  a target outside /api.
//   502  the backend could not be reached (connection refused, say) or
//        failed before its response header had been read whole (it closed
//        the connection, or sent something that is not an HTTP response).
//   504  the backend_timeout passed at a step before the response header
//        had been read whole (the backend never accepted the connection,
//        or never answered).
// After a 404, 502 or 504 the connection stays open as the client asked,
// unless part of the request's body was left unread: then the answer says
// Connection: close and the connection is closed.
//
// Once the response header has gone to the client, an error can no longer
// be answered: when the backend fails in the middle of the body (closes
// the connection, resets it, or passes its backend_timeout), the proxy
// closes the client's connection without ending the response, so the
// client sees a response cut short (fewer bytes than its Content-Length,
// or no last chunk), never one that looks complete. The proxy goes on
// serving other connections.
class reverse_proxy {
public:
  reverse_proxy(net::io_context& ioc, tcp::endpoint listen_on, proxy_options options);
  // Call it once nothing runs `ioc` any more.
  ~reverse_proxy();

  reverse_proxy(reverse_proxy const&) = delete;
  reverse_proxy& operator=(reverse_proxy const&) = delete;

  // Opens the listening socket and starts accepting; returns at once.
  // Whoever runs `ioc` serves the connections, on one thread or several.
  void start();

  // Where the proxy listens; after start(), the real port.
  tcp::endpoint local_endpoint() const;

  // Yours to define in proxy.cpp: whatever the proxy keeps.
  struct state;

private:
  std::shared_ptr<state> state_;
};

} // namespace task12
