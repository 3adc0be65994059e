// Task 06 · the contract between your server, the tests and the reference.
// Do not change this file: the tests are compiled against it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <stop_token>

namespace task06 {

namespace http = boost::beast::http;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

// What the application does with one request. It may block for as long as it
// likes (the tests' handlers wait until the test lets them go): call it where
// a blocking call stalls no other connection, as /slow did in task 01.
//
// `stop` is the request's cancellation signal: it is requested when the
// server starts shutting down (never before). A handler that can give up
// early, a long poll say, watches it; one that ignores it simply finishes.
// The server sets Content-Length and the Connection header on what the
// handler returns; the handler sets the status, other fields and the body.
using handler = std::function<response(request const&, std::stop_token stop)>;

// Called once when a shutdown has finished: with no error when every
// connection closed in time, with an error that compares equal to
// boost::system::errc::timed_out when the deadline cut some off.
using shutdown_handler = std::function<void(boost::system::error_code)>;

// An HTTP/1.1 keep-alive server that can stop without dropping the requests
// it has already accepted.
class graceful_server {
public:
  graceful_server(boost::asio::io_context& ioc,
                  boost::asio::ip::tcp::endpoint listen_on,   // port 0: any free port
                  handler h);
  // Call it once nothing runs `ioc` any more (or after a shutdown finished).
  ~graceful_server();

  graceful_server(graceful_server const&) = delete;
  graceful_server& operator=(graceful_server const&) = delete;

  // Opens the listening socket and starts accepting; returns at once.
  // Whoever runs `ioc` serves the connections.
  void start();

  // Where the server listens; after start(), the real port.
  boost::asio::ip::tcp::endpoint local_endpoint() const;

  // Starts a graceful shutdown and returns at once; callable from any thread,
  // including one that runs `ioc`. Promptly after the call (the tests allow
  // a fraction of a second for the first three):
  //   - the listening socket is closed: new connections are refused;
  //   - connections waiting for their next request are closed;
  //   - every handler still running sees its stop token requested;
  // and without exception:
  //   - every response written after the call carries `Connection: close`,
  //     and its connection is closed once the response is written;
  //   - `grace` after the call, connections still open are closed, whatever
  //     they were doing.
  // `done` is called once, on a thread that runs `ioc`: when the last
  // connection has closed (no error), or at the deadline (timed_out).
  //
  // Calling shutdown again, during or after the first, starts nothing new:
  // its `done` is called too, with the first one's outcome, when that is known.
  void shutdown(std::chrono::milliseconds grace, shutdown_handler done);

  // Yours to define in graceful_server.cpp: whatever the server keeps.
  // Public only so that your session class can name it.
  struct state;

private:
  std::shared_ptr<state> state_;
};

// The main loop of a server process. Installs handling for SIGINT and SIGTERM
// (boost::asio::signal_set on `ioc`) before running anything, then runs `ioc`
// on the calling thread. The first signal starts server.shutdown(grace, ...);
// when the shutdown is done and `ioc` has nothing left to do, returns the
// process's exit code: 0 if every connection finished in time, 1 if not.
// `server` must have been started.
int serve_until_signal(boost::asio::io_context& ioc,
                       graceful_server& server,
                       std::chrono::milliseconds grace);

} // namespace task06
