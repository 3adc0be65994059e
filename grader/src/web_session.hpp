// The web workbook's HTTP server, in the shape of Beast's
// http_server_async example: a listener that accepts on 127.0.0.1 and a
// session per connection whose chain reads top to bottom: read a request,
// answer it (web_routes), write, read the next. A request for a task's
// events hands the connection to live_events and the session ends.
#pragma once

#include "live_events.hpp"
#include "web_routes.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <memory>

namespace grader::web {

// Binds and listens at once, so that the port (0: any) is known before the
// routes that check the Host header against it are made; throws
// boost::system::system_error when it cannot.
boost::asio::ip::tcp::acceptor listen_on(boost::asio::io_context& io, boost::asio::ip::tcp::endpoint endpoint);

class web_listener : public std::enable_shared_from_this<web_listener> {
public:
  web_listener(boost::asio::io_context& io, boost::asio::ip::tcp::acceptor acceptor, web_routes const& routes,
               live_events& events);

  void run();
  void stop();

private:
  void do_accept();

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  web_routes const& routes_;
  live_events& events_;
};

} // namespace grader::web
