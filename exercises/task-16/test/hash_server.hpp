// Task 16 · the /hash server, given: the HTTP plumbing around your
// handle_hash (profiler.hpp), which is the part this task is about. The
// tests run it, and so does the serve tool (test/serve/serve_main.cpp) that
// you point curl and perf at.
//
//   GET /hash?rounds=N    (1 <= N <= max_hash_rounds)
//     -> 200, Content-Type: text/plain, the body the hex digest of the
//        chain after N rounds, as handle_hash gave it to `respond`
//   a bad or missing N -> 400; another path or method -> 404
//
// One session per connection, on a strand of its own; the connection is
// kept alive. handle_hash is called from the session's read handler, with
// the io_context's executor (not the session's strand): its slices may run
// on any of the threads that run the io_context. `respond` may be called
// from any thread: it hands the digest back to the session's strand.
#pragma once

#include "profiler.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace task16 {

inline constexpr std::uint64_t max_hash_rounds = 1'000'000'000;

class hash_server {
public:
  hash_server(net::io_context& ioc, net::ip::tcp::endpoint listen_on)
      : state_(std::make_shared<state>(ioc, listen_on))
  {
  }
  hash_server(hash_server const&) = delete;
  hash_server& operator=(hash_server const&) = delete;

  void start()
  {
    auto& a = state_->acceptor;
    a.open(state_->endpoint.protocol());
    a.set_option(net::socket_base::reuse_address(true));
    a.bind(state_->endpoint);
    a.listen(net::socket_base::max_listen_connections);
    accept(state_);
  }

  net::ip::tcp::endpoint local_endpoint() const { return state_->acceptor.local_endpoint(); }

  // How many times handle_hash has been called, and how many times its
  // `respond` has: the tests watch a long request in progress.
  std::uint64_t jobs_started() const { return state_->started.load(); }
  std::uint64_t jobs_answered() const { return state_->answered.load(); }

private:
  struct state {
    state(net::io_context& c, net::ip::tcp::endpoint e) : ioc(c), endpoint(e), acceptor(net::make_strand(c)) {}
    net::io_context& ioc;
    net::ip::tcp::endpoint endpoint;
    net::ip::tcp::acceptor acceptor;
    std::atomic<std::uint64_t> started{0};
    std::atomic<std::uint64_t> answered{0};
  };

  class session : public std::enable_shared_from_this<session> {
  public:
    session(net::ip::tcp::socket socket, std::shared_ptr<state> s) : stream_(std::move(socket)), state_(std::move(s)) {}

    void read()
    {
      request_ = {};
      stream_.expires_after(std::chrono::seconds(30));
      boost::beast::http::async_read(stream_, buffer_, request_,
                                     [self = shared_from_this()](boost::beast::error_code ec, std::size_t) {
                                       if (!ec) self->on_request();
                                     });
    }

  private:
    void on_request()
    {
      namespace http = boost::beast::http;
      std::uint64_t rounds = 0;
      if (request_.method() != http::verb::get || !parse_target(request_.target(), rounds))
        return answer(http::status::not_found, "not found\n");
      if (rounds == 0) return answer(http::status::bad_request, "rounds must be 1 to 1000000000\n");
      ++state_->started;
      // The io_context's executor, not the strand: the slices may run on any thread.
      handle_hash(state_->ioc.get_executor(), rounds, [self = shared_from_this()](std::string digest) {
        ++self->state_->answered;
        net::dispatch(self->stream_.get_executor(), [self, digest = std::move(digest)]() mutable {
          self->answer(boost::beast::http::status::ok, std::move(digest));
        });
      });
    }

    // "/hash?rounds=N" -> N (0 when N is missing or bad); false for another path.
    static bool parse_target(std::string_view target, std::uint64_t& rounds)
    {
      std::string_view constexpr prefix = "/hash";
      if (target.substr(0, prefix.size()) != prefix) return false;
      target.remove_prefix(prefix.size());
      if (target.empty()) return true;
      if (target.front() != '?') return false;
      target.remove_prefix(1);
      std::string_view constexpr name = "rounds=";
      if (target.substr(0, name.size()) != name) return true;
      target.remove_prefix(name.size());
      std::uint64_t n = 0;
      auto const [end, ec] = std::from_chars(target.data(), target.data() + target.size(), n);
      if (ec == std::errc() && end == target.data() + target.size() && n <= max_hash_rounds) rounds = n;
      return true;
    }

    void answer(boost::beast::http::status status, std::string body)
    {
      namespace http = boost::beast::http;
      response_ = {status, request_.version()};
      response_.set(http::field::content_type, "text/plain");
      response_.keep_alive(request_.keep_alive());
      response_.body() = std::move(body);
      response_.prepare_payload();
      http::async_write(stream_, response_, [self = shared_from_this()](boost::beast::error_code ec, std::size_t) {
        if (ec || !self->response_.keep_alive()) {
          boost::beast::error_code ignored;
          self->stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
          return;
        }
        self->read();
      });
    }

    boost::beast::tcp_stream stream_;
    std::shared_ptr<state> state_;
    boost::beast::flat_buffer buffer_;
    boost::beast::http::request<boost::beast::http::string_body> request_;
    boost::beast::http::response<boost::beast::http::string_body> response_;
  };

  static void accept(std::shared_ptr<state> s)
  {
    auto& a = s->acceptor;
    a.async_accept(net::make_strand(s->ioc), [s = std::move(s)](boost::beast::error_code ec, net::ip::tcp::socket socket) {
      if (ec) return;  // the acceptor was closed, or the io_context stopped
      std::make_shared<session>(std::move(socket), s)->read();
      accept(s);
    });
  }

  std::shared_ptr<state> state_;
};

} // namespace task16
