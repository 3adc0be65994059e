// Task 09 · test helper: a small HTTP/1.1 server that serves a task09::handler,
// on an io_context the test runs (on as many threads as the test likes).
//
// For each request it builds a fresh request_context (the connection's
// strand, no ID, the test's log sink), calls the handler on the strand, and
// writes the response whenever, and from whichever thread, `done` is called.
// It sets the response's version, keep-alive and Content-Length. It is not
// what you write in this task, but read it: it is the "server" half of the
// contract in request_id.hpp.
#pragma once

#include "request_id.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <utility>

namespace task09_test {

class chain_server {
public:
  // Listens on 127.0.0.1, port 0, and starts accepting at once. The test
  // runs `ioc`; stop its threads before the server goes.
  chain_server(boost::asio::io_context& ioc, task09::handler h, task09::log_sink sink)
      : shared_(std::make_shared<shared>(ioc, std::move(h), std::move(sink)))
  {
    namespace net = boost::asio;
    using tcp = net::ip::tcp;
    tcp::endpoint const ep{net::ip::make_address("127.0.0.1"), 0};
    shared_->acceptor.open(ep.protocol());
    shared_->acceptor.set_option(net::socket_base::reuse_address(true));
    shared_->acceptor.bind(ep);
    shared_->acceptor.listen();
    port_ = shared_->acceptor.local_endpoint().port();
    accept(shared_);
  }

  ~chain_server()
  {
    boost::beast::error_code ignored;
    shared_->acceptor.close(ignored);
  }

  chain_server(chain_server const&) = delete;
  chain_server& operator=(chain_server const&) = delete;

  unsigned short port() const { return port_; }

private:
  struct shared {
    shared(boost::asio::io_context& io, task09::handler h, task09::log_sink s)
        : ioc(io), acceptor(boost::asio::make_strand(io)), handler(std::move(h)), sink(std::move(s)) {}
    boost::asio::io_context& ioc;
    boost::asio::ip::tcp::acceptor acceptor;
    task09::handler handler;
    task09::log_sink sink;
  };

  class session : public std::enable_shared_from_this<session> {
  public:
    session(boost::asio::ip::tcp::socket socket, std::shared_ptr<shared> s)
        : stream_(std::move(socket)), shared_(std::move(s)) {}

    void run()
    {
      boost::asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
    }

  private:
    void read()
    {
      request_ = {};
      stream_.expires_after(std::chrono::seconds(10));
      boost::beast::http::async_read(stream_, buffer_, request_,
                                     [self = shared_from_this()](boost::beast::error_code ec, std::size_t) {
                                       if (!ec) self->serve();
                                     });
    }

    void serve()
    {
      namespace net = boost::asio;
      stream_.expires_never();  // the handler's time is not the client's
      task09::request_context ctx{stream_.get_executor(), "", shared_->sink};
      // One `done` per request, good for one response: a second call is ignored.
      auto answered = std::make_shared<std::atomic<bool>>(false);
      task09::respond done = [self = shared_from_this(), answered](task09::response res) {
        if (answered->exchange(true)) return;
        net::post(self->stream_.get_executor(),
                  [self, res = std::move(res)]() mutable { self->write(std::move(res)); });
      };
      try {
        shared_->handler(std::move(ctx), request_, done);
      } catch (std::exception const& e) {
        done(internal_error(std::string("chain_server: the handler threw: ") + e.what() + "\n"));
      } catch (...) {
        done(internal_error("chain_server: the handler threw something that is not a std::exception\n"));
      }
    }

    static task09::response internal_error(std::string body)
    {
      task09::response res{boost::beast::http::status::internal_server_error, 11};
      res.set(boost::beast::http::field::content_type, "text/plain");
      res.body() = std::move(body);
      return res;
    }

    void write(task09::response res)
    {
      response_ = std::move(res);
      response_.version(request_.version());
      response_.keep_alive(request_.keep_alive());
      response_.prepare_payload();
      stream_.expires_after(std::chrono::seconds(10));
      boost::beast::http::async_write(stream_, response_,
                                      [self = shared_from_this()](boost::beast::error_code ec, std::size_t) {
                                        if (ec) return;
                                        if (!self->response_.keep_alive()) {
                                          boost::beast::error_code ignored;
                                          self->stream_.socket().shutdown(
                                              boost::asio::ip::tcp::socket::shutdown_send, ignored);
                                          return;
                                        }
                                        self->read();
                                      });
    }

    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    task09::request request_;
    task09::response response_;
    std::shared_ptr<shared> shared_;
  };

  static void accept(std::shared_ptr<shared> s)
  {
    auto& acceptor = s->acceptor;
    acceptor.async_accept(boost::asio::make_strand(s->ioc),
                          [s](boost::beast::error_code ec, boost::asio::ip::tcp::socket socket) mutable {
                            if (!ec) std::make_shared<session>(std::move(socket), s)->run();
                            if (s->acceptor.is_open()) accept(std::move(s));
                          });
  }

  std::shared_ptr<shared> shared_;
  unsigned short port_ = 0;
};

} // namespace task09_test
