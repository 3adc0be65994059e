// Task 01 · reference.
//
// Call chain, first request (read from a handler-tracking build of this file):
//   1. io_context::run                      the event loop; every step below runs inside it
//   2. basic_socket_acceptor::async_accept  completes with the new connection's socket
//   3. session::run                         our per-connection async chain starts
//   4. http::async_read                     Beast's composed read of one whole message
//   5. http::async_read_some                one parser step: read some bytes, feed the parser
//   6. basic_stream::async_read_some        tcp_stream arms its timer, then reads the socket
//   7. basic_parser::put                    the bytes become a request
//   8. session::handle_request              our handler builds the response
//   9. http::async_write                    the serializer writes it back
//
// A blocking call in step 8 would run on the io_context's only thread and
// stall every connection; /slow's work is therefore posted to a thread pool
// and its result posted back to the session's strand.
#include "hello_server.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>

namespace task01 {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct hello_server::state {
  state(net::io_context& ioc, tcp::endpoint ep, blocking_work w)
      : ioc(ioc), acceptor(net::make_strand(ioc)), endpoint(ep), slow_work(std::move(w)) {}

  net::io_context& ioc;
  tcp::acceptor acceptor;
  tcp::endpoint endpoint;
  blocking_work slow_work;
  net::thread_pool blocking_pool{2};   // where blocking work may block
};

namespace {

// One connection: read a request, answer it, repeat while keep-alive holds.
class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket socket, std::shared_ptr<hello_server::state> server)
      : stream_(std::move(socket)), server_(std::move(server)) {}

  void run()
  {
    // The socket came from the acceptor's strand; give the session its own
    // so its handlers never run concurrently, whatever runs the io_context.
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&session::do_read, shared_from_this()));
  }

private:
  void do_read()
  {
    request_ = {};
    stream_.expires_after(std::chrono::seconds(30));  // a silent peer may not hold us forever
    http::async_read(stream_, buffer_, request_,
                     beast::bind_front_handler(&session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t)
  {
    if (ec == http::error::end_of_stream) return do_close();
    if (ec) return;  // timeout or reset: nothing to answer
    handle_request();
  }

  void handle_request()
  {
    if (request_.method() == http::verb::get && request_.target() == "/")
      return send(http::status::ok, "hello\n");
    if (request_.method() == http::verb::get && request_.target() == "/slow") {
      // Off the io_context thread for the blocking part, back on our strand to write.
      stream_.expires_never();
      net::post(server_->blocking_pool, [self = shared_from_this()] {
        self->server_->slow_work();
        net::post(self->stream_.get_executor(), [self] { self->send(http::status::ok, "done\n"); });
      });
      return;
    }
    send(http::status::not_found, "not found\n");
  }

  void send(http::status status, std::string body)
  {
    response_ = {status, request_.version()};
    response_.set(http::field::content_type, "text/plain");
    response_.keep_alive(request_.keep_alive());
    response_.body() = std::move(body);
    response_.prepare_payload();
    stream_.expires_after(std::chrono::seconds(30));
    http::async_write(stream_, response_,
                      beast::bind_front_handler(&session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t)
  {
    if (ec) return;
    if (!response_.keep_alive()) return do_close();
    do_read();
  }

  void do_close()
  {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  std::shared_ptr<hello_server::state> server_;
};

void do_accept(std::shared_ptr<hello_server::state> server)
{
  auto& acceptor = server->acceptor;
  // Each connection gets a strand of its own: this is the Beast counterpart
  // of one goroutine per connection.
  acceptor.async_accept(net::make_strand(server->ioc),
                        [server = std::move(server)](beast::error_code ec, tcp::socket socket) mutable {
                          if (!ec) std::make_shared<session>(std::move(socket), server)->run();
                          if (server->acceptor.is_open()) do_accept(std::move(server));
                        });
}

} // namespace

hello_server::hello_server(net::io_context& ioc, tcp::endpoint listen_on, blocking_work slow_work)
    : state_(std::make_shared<state>(ioc, listen_on, std::move(slow_work)))
{
}

hello_server::~hello_server()
{
  // Joining the pool first: blocking work may still hold a session.
  beast::error_code ignored;
  state_->acceptor.close(ignored);
  state_->blocking_pool.join();
}

void hello_server::start()
{
  auto& acceptor = state_->acceptor;
  acceptor.open(state_->endpoint.protocol());
  acceptor.set_option(net::socket_base::reuse_address(true));
  acceptor.bind(state_->endpoint);
  acceptor.listen(net::socket_base::max_listen_connections);
  do_accept(state_);
}

tcp::endpoint hello_server::local_endpoint() const
{
  beast::error_code ec;
  auto ep = state_->acceptor.local_endpoint(ec);
  return ec ? state_->endpoint : ep;
}

} // namespace task01
