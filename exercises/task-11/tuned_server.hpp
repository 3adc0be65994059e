// Task 11 · the contract between your server, the tests and the reference.
// Do not change this file: the tests are compiled against it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace task11 {

namespace http = boost::beast::http;
namespace net = boost::asio;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

// ---------------------------------------------------------------- the limits

// Every limit a connection lives under. The defaults are what the server
// runs with in production (they are Go's http.Server settings from the
// task's seed, and Beast's own header limit); the tests pass their own,
// scaled down to tens or hundreds of milliseconds.
//
// A connection goes through the same phases for every request:
//
//   waiting   idle_timeout     after a response, for the first byte of the
//                              next request (keep-alive only)
//   header    header_timeout   for the whole header, request line and fields
//   body      body_timeout     for the whole body, when there is one
//   writing   write_timeout    for the whole response
//
// Each phase has exactly one deadline, armed when the phase begins; the
// bytes that arrive or leave during the phase never move it. When a
// deadline passes the connection is closed, without an answer (the client
// sees the end of the stream, or a reset).
struct server_limits {
  // The whole header of a request, from the moment the server waits for
  // it: for a connection's first request, from the accept; on a kept-alive
  // connection, from the first byte of the next request. A client that
  // sends its header a byte at a time (slowloris) is cut off here, however
  // steadily the bytes come. (Go: ReadHeaderTimeout.)
  std::chrono::milliseconds header_timeout = std::chrono::seconds(5);

  // The whole body, from the end of the header. (Go: ReadTimeout, less
  // the header's share.)
  std::chrono::milliseconds body_timeout = std::chrono::seconds(30);

  // The whole response, from the moment its write begins: a client that
  // stops reading it is cut off here. (Go: WriteTimeout.)
  std::chrono::milliseconds write_timeout = std::chrono::seconds(30);

  // A kept-alive connection with no request in progress: from the end of
  // the last response until the next request's first byte. When it passes
  // the server closes the connection cleanly (the client sees a FIN).
  // (Go: IdleTimeout.)
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(120);

  // The largest header, request line and fields together, in bytes.
  // Larger: 431 Request Header Fields Too Large. (Beast's default; Go's
  // MaxHeaderBytes defaults to 1 MiB.)
  std::size_t header_limit = 8 * 1024;

  // The largest body, in bytes. Larger: 413 Payload Too Large.
  std::size_t body_limit = 1024 * 1024;
};

// What the application does with one complete request. It is called on the
// connection's own strand and must not block; it sets the status, the
// fields and the body. The server sets the version, Content-Length and the
// Connection header. An exception escaping it becomes a 500.
using handler = std::function<response(request const&)>;

// ---------------------------------------------------------------- the server

// An HTTP/1.1 server built to hold many thousands of connections at once,
// each of them cheap while it waits, none of them able to hold the server
// longer than its limits allow. For every connection, in a loop:
//
//   - the header is read under header_timeout and header_limit: over the
//     limit, the answer is 431 with `Connection: close`;
//   - the body, if any, under body_timeout and body_limit: over the limit,
//     413 with `Connection: close`, and when Content-Length announces a body
//     over the limit, at once, without reading any of it;
//   - the handler's response is written under write_timeout;
//   - the connection is kept alive as the client asks, and then waits for
//     the next request under idle_timeout.
//
// After a 431 or a 413 (and after any response that closes the connection)
// the server stops sending, reads and discards what the client still sends
// for at most header_timeout, and then closes: a client still sending never
// gets a reset that would destroy the answer before it is read.
//
// It listens with the longest accept queue the system allows
// (net::socket_base::max_listen_connections, which the kernel caps at
// /proc/sys/net/core/somaxconn), so a burst of connections waits in the
// queue instead of being dropped. An accept that fails (for lack of file
// descriptors, EMFILE, say) does not stop the server: it tries again a
// little later, and accepts as soon as it can.
class tuned_server {
public:
  tuned_server(net::io_context& ioc,
               net::ip::tcp::endpoint listen_on,   // port 0: any free port
               server_limits limits,
               handler h);
  // Call it once nothing runs `ioc` any more.
  ~tuned_server();
  tuned_server(tuned_server const&) = delete;
  tuned_server& operator=(tuned_server const&) = delete;

  // Opens the listening socket and starts accepting; returns at once.
  // Whoever runs `ioc`, on one thread or many, serves the connections.
  void start();

  // Where the server listens; after start(), the real port.
  net::ip::tcp::endpoint local_endpoint() const;

  // Yours to define in tuned_server.cpp: what the server keeps.
  struct state;

private:
  std::shared_ptr<state> state_;
};

// ---------------------------------------------------------------- the process

// What raise_fd_limit() found and did, in file descriptors (RLIMIT_NOFILE).
struct fd_limit_report {
  std::uint64_t before = 0;  // the soft limit when it was called
  std::uint64_t after = 0;   // the soft limit when it returned
  std::uint64_t hard = 0;    // the hard limit, the ceiling for the soft one
  // Empty when the soft limit is now at least `wanted`. Otherwise one line
  // for a person to act on: how many were wanted, how many there are, the
  // hard limit as a number, and how to see and raise it (it names
  // `ulimit -Hn`); or why setrlimit failed.
  std::string message;
};

// Makes the process's soft limit on open files at least `wanted`, as far as
// the hard limit allows: to `wanted` when the hard limit is at least that,
// to the hard limit when it is not (and then says so in `message`). A soft
// limit already at or above `wanted` is left as it is, never lowered. Call
// it first thing in main, before any socket is opened: every connection
// costs a descriptor, and the usual soft limit (1024) is far below 10K.
fd_limit_report raise_fd_limit(std::uint64_t wanted);

} // namespace task11
