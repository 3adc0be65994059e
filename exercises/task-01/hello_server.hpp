// Task 01 · the contract between your server, the tests and the reference.
// Do not change this file: the tests are compiled against it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <memory>

namespace task01 {

// Work that blocks the thread calling it: a synchronous disk read, a legacy
// library, a slow computation. The tests hand in one they control.
using blocking_work = std::function<void()>;

// An HTTP/1.1 server:
//   GET /      -> 200, Content-Type: text/plain, body "hello\n"
//   GET /slow  -> calls slow_work(), then 200, body "done\n"
//   otherwise  -> 404
// Connections are kept alive as the client asks.
class hello_server {
public:
  hello_server(boost::asio::io_context& ioc,
               boost::asio::ip::tcp::endpoint listen_on,   // port 0: any free port
               blocking_work slow_work);
  ~hello_server();

  hello_server(hello_server const&) = delete;
  hello_server& operator=(hello_server const&) = delete;

  // Opens the listening socket and starts accepting; returns at once.
  // Whoever runs `ioc` serves the connections.
  void start();

  // Where the server listens; after start(), the real port.
  boost::asio::ip::tcp::endpoint local_endpoint() const;

  // Yours to define in hello_server.cpp: whatever the server needs to keep.
  // Public only so that your session class can name it.
  struct state;

private:
  std::shared_ptr<state> state_;
};

} // namespace task01
