// Task 17 · the contract between your upgrading server, the tests and the
// reference. Do not change this file: the tests are compiled against it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <memory>

namespace task17 {

namespace net = boost::asio;

// ---------------------------------------------------------------- the options

// The server's deadlines and its one limit. The defaults are production's;
// the tests pass their own, scaled down to tens or hundreds of milliseconds.
struct upgrade_options {
  // HTTP, before any upgrade. request_timeout: reading one request, from the
  // connection's start or the end of the previous response. write_timeout:
  // writing one response, the 101 included. Neither applies to a connection
  // once it has switched protocols.
  std::chrono::milliseconds request_timeout = std::chrono::seconds(30);
  std::chrono::milliseconds write_timeout = std::chrono::seconds(30);

  // The echo protocol's own deadline, for each of its steps: a whole line
  // must arrive within echo_timeout of the 101 or of the end of the previous
  // reply (bytes of a line that never ends do not extend it), and each reply
  // must be written within echo_timeout. When one step overruns, the server
  // closes the connection.
  // For a WebSocket (GET /ws): the idle timeout, how long a connection may
  // go without a frame from the client.
  std::chrono::milliseconds echo_timeout = std::chrono::seconds(60);

  // The longest line the echo protocol accepts, in bytes, not counting its
  // line end. As soon as the client has sent more than that without a line
  // end, the server closes the connection, without a reply.
  std::size_t max_line = 64 * 1024;
};

// ---------------------------------------------------------------- the server

// An HTTP/1.1 server on which a client can switch a connection to the echo
// protocol.
//
//   GET /echo, HTTP/1.1, with an `Upgrade` field whose comma-separated list
//   holds the token `echo` and a `Connection` field whose list holds the
//   token `upgrade` (tokens compared case-insensitively; a field may appear
//   on several lines, which count as one list; a query string is ignored):
//     the server answers, and writes nothing else before the echo begins,
//
//       HTTP/1.1 101 Switching Protocols\r\n
//       Upgrade: echo\r\n
//       Connection: Upgrade\r\n
//       \r\n
//
//     (no Content-Length, no Transfer-Encoding: a 101 has no body), and from
//     then on the connection speaks the echo protocol, not HTTP.
//
//   /echo, anything else (no upgrade, an upgrade to another protocol, a
//   method other than GET, HTTP/1.0, whose Upgrade a server must ignore):
//     426 Upgrade Required, with `Upgrade: echo` and `Connection: Upgrade`,
//     a short text/plain body and a Content-Length; the connection is kept
//     alive as the request asks.
//
//   GET /ws, a WebSocket handshake (websocket::is_upgrade): the handshake,
//     then the WebSocket echo (below). /ws without one: 426 with
//     `Upgrade: websocket`, as for /echo.
//
//   any other target: 404, text/plain, kept alive as the request asks.
//   a request that is not HTTP (a field without a colon, a bad request
//   line): 400, text/plain, and the server closes the connection.
//
// The echo protocol. The client sends lines; a line ends at "\n", and a
// "\r" just before that "\n" belongs to the line end, not the line. For each
// line the server writes one reply: the line with the ASCII letters a-z made
// A-Z, every other byte (digits, punctuation, a lone "\r", the bytes of
// UTF-8) as it came, then "\n". Replies come in the order of the lines; an
// empty line gets "\n". Bytes the client sent right after the upgrade
// request, even in the same segment, are the first lines. A line longer than
// max_line closes the connection (see upgrade_options), and so does a step
// that overruns echo_timeout. When the client ends its side (a FIN), the
// server writes the replies to every whole line it had, then closes. No HTTP
// deadline applies once the 101 is written: the echo protocol's are the
// connection's only ones.
//
// The WebSocket echo: every message comes back as one message of the same
// kind, uppercased the same way (ASCII a-z only).
//
// Any number of threads may run the io_context.
class upgrade_server {
public:
  upgrade_server(net::io_context& ioc,
                 net::ip::tcp::endpoint listen_on,   // port 0: any free port
                 upgrade_options options);
  // Call it once nothing runs `ioc` any more.
  ~upgrade_server();
  upgrade_server(upgrade_server const&) = delete;
  upgrade_server& operator=(upgrade_server const&) = delete;

  // Opens the listening socket and starts accepting; returns at once.
  // Whoever runs `ioc` serves the connections.
  void start();

  // Where the server listens; after start(), the real port.
  net::ip::tcp::endpoint local_endpoint() const;

  // The echo connections that exist now: one is counted from the moment
  // the server decides to upgrade it until everything that served it (the
  // session, its socket, its timer) has been destroyed. WebSocket
  // connections are not counted. Callable from any thread at any time.
  std::size_t echo_connections() const;

  // Yours to define in upgrade.cpp: what the server keeps.
  struct state;

private:
  std::shared_ptr<state> state_;
};

} // namespace task17
