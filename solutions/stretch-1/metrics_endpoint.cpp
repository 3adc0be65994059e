// Stretch 1 · reference: the metrics endpoint, a Beast server that answers
// one route. Everything it does runs on one strand, so the destructor's
// "stop" (posted there) never races an accept or a read.
#include "observed_transport.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <chrono>
#include <stdexcept>
#include <vector>

namespace stretch1 {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using awaitable_tuple = net::as_tuple_t<net::use_awaitable_t<>>;

struct metrics_endpoint::state {
  net::strand<net::any_io_executor> strand;
  tcp::acceptor acceptor;
  std::shared_ptr<metrics_registry const> registry;
  std::vector<std::weak_ptr<beast::tcp_stream>> sessions;  // to close when the endpoint goes
  tcp::endpoint local;  // read by any thread: kept apart from the acceptor the strand uses

  state(net::any_io_executor ex, std::shared_ptr<metrics_registry const> r)
      : strand(net::make_strand(ex)), acceptor(strand), registry(std::move(r))
  {
  }

  http::response<http::string_body> answer(http::request<http::string_body> const& request) const
  {
    http::response<http::string_body> response{http::status::ok, request.version()};
    response.keep_alive(request.keep_alive());
    if (request.target() != "/metrics") {
      response.result(http::status::not_found);
      response.set(http::field::content_type, "text/plain; charset=utf-8");
      response.body() = "not found: this endpoint serves /metrics\n";
    } else if (request.method() != http::verb::get) {
      response.result(http::status::method_not_allowed);
      response.set(http::field::allow, "GET");
      response.set(http::field::content_type, "text/plain; charset=utf-8");
      response.body() = "method not allowed: /metrics is read with GET\n";
    } else {
      response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      response.body() = registry->exposition();
    }
    response.prepare_payload();
    return response;
  }
};

namespace {

net::awaitable<void> session(std::shared_ptr<metrics_endpoint::state> self, std::shared_ptr<beast::tcp_stream> stream)
{
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> request;
    auto [read_error, read] = co_await http::async_read(*stream, buffer, request, awaitable_tuple{});
    if (read_error == http::error::end_of_stream || read_error == net::error::operation_aborted) break;
    if (read_error) {
      // A request we cannot parse gets a 400, then the connection ends.
      http::response<http::string_body> bad{http::status::bad_request, 11};
      bad.set(http::field::content_type, "text/plain; charset=utf-8");
      bad.body() = "bad request: " + read_error.message() + "\n";
      bad.keep_alive(false);
      bad.prepare_payload();
      co_await http::async_write(*stream, bad, awaitable_tuple{});
      break;
    }
    auto response = self->answer(request);
    auto [write_error, written] = co_await http::async_write(*stream, response, awaitable_tuple{});
    if (write_error || !response.keep_alive()) break;
  }
  beast::error_code ignored;
  stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
}

net::awaitable<void> accept_loop(std::shared_ptr<metrics_endpoint::state> self)
{
  while (self->acceptor.is_open()) {
    auto [error, socket] = co_await self->acceptor.async_accept(awaitable_tuple{});
    if (error == net::error::operation_aborted) break;  // the endpoint is closing
    if (error) {
      // Out of descriptors (EMFILE), or one connection that went away before
      // it was accepted: the next accept may fail at once too, so pause
      // rather than spin a core until it does not.
      net::steady_timer pause(self->strand, std::chrono::milliseconds(50));
      co_await pause.async_wait(awaitable_tuple{});
      continue;
    }
    auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
    std::erase_if(self->sessions, [](auto const& s) { return s.expired(); });
    self->sessions.push_back(stream);
    net::co_spawn(self->strand, session(self, std::move(stream)), net::detached);
  }
}

} // namespace

metrics_endpoint::metrics_endpoint(net::any_io_executor executor, std::shared_ptr<metrics_registry const> registry,
                                   net::ip::tcp::endpoint listen_on)
{
  // Before anything is bound: metrics say what the client talks to.
  if (!listen_on.address().is_loopback())
    throw std::invalid_argument("metrics_endpoint listens on a loopback address only, not " +
                                listen_on.address().to_string());
  state_ = std::make_shared<state>(std::move(executor), std::move(registry));
  state_->acceptor.open(listen_on.protocol());
  state_->acceptor.set_option(net::socket_base::reuse_address(true));
  state_->acceptor.bind(listen_on);
  state_->acceptor.listen();
  state_->local = state_->acceptor.local_endpoint();
  net::co_spawn(state_->strand, accept_loop(state_), net::detached);
}

metrics_endpoint::~metrics_endpoint()
{
  net::post(state_->strand, [self = state_] {
    beast::error_code ignored;
    self->acceptor.close(ignored);
    for (auto const& weak : self->sessions)
      if (auto stream = weak.lock()) stream->socket().close(ignored);
  });
}

net::ip::tcp::endpoint metrics_endpoint::local_endpoint() const { return state_->local; }

} // namespace stretch1
