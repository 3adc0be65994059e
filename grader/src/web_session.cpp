#include "web_session.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>
#include <exception>
#include <optional>

namespace grader::web {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// Small: a request is a page, an event stream or a form of a few bytes.
constexpr std::size_t body_limit = 64 * 1024;
constexpr std::uint32_t header_limit = 16 * 1024;
constexpr auto idle_limit = std::chrono::seconds(30);

class web_session : public std::enable_shared_from_this<web_session> {
public:
  web_session(tcp::socket socket, web_routes const& routes, live_events& events)
      : stream_(std::move(socket)), routes_(routes), events_(events)
  {
  }

  void run() { do_read(); }

private:
  void do_read()
  {
    parser_.emplace();
    parser_->body_limit(body_limit);
    parser_->header_limit(header_limit);
    stream_.expires_after(idle_limit);
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(beast::error_code ec)
  {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::connection_reset)
      return close();
    if (ec) return answer_malformed(ec);   // a 4xx, then the connection ends
    auto const& req = parser_->get();
    web_request request{std::string(req.method_string()), std::string(req.target()),
                        std::string(req[http::field::host]), std::string(req[http::field::origin]),
                        std::string(req[http::field::cookie]), std::string(req[http::field::content_type]),
                        req.body()};
    web_response response = answer(request);
    if (!response.event_stream.empty()) return events_.subscribe(response.event_stream, std::move(stream_));
    write(std::move(response), req.version(), req.keep_alive());
  }

  // A route that throws (a file that cannot be read, a bug) costs this one
  // request a 500 saying what went wrong, never the server.
  web_response answer(web_request const& request)
  {
    try {
      return routes_.handle(request);
    } catch (std::exception const& e) {
      web_response r;
      r.status = 500;
      r.content_type = "text/plain; charset=utf-8";
      r.body = std::string("grader serve could not answer this request: ") + e.what() + "\n";
      std::string const path = request.target.substr(0, request.target.find('?'));   // not the token
      std::fprintf(stderr, "grader serve: %s %s: %s\n", request.method.c_str(), path.c_str(), e.what());
      return r;
    }
  }

  // Beast's parser said no: the request line, a header or the body broke a
  // rule or a limit. The client hears which, and nothing more is read.
  void answer_malformed(beast::error_code ec)
  {
    web_response r;
    r.status = ec == http::error::body_limit ? 413 : ec == http::error::header_limit ? 431 : 400;
    r.content_type = "text/plain; charset=utf-8";
    r.body = ec.message() + "\n";
    write(std::move(r), 11, false);
  }

  void write(web_response r, unsigned version, bool keep_alive)
  {
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), version);
    res->set(http::field::server, "grader serve");
    res->set(http::field::content_type, r.content_type);
    res->set(http::field::cache_control, "no-store");
    res->set("X-Content-Type-Options", "nosniff");
    res->set("X-Frame-Options", "DENY");   // no other page may frame (and click) ours
    for (auto const& [name, value] : r.headers) res->insert(name, value);
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive && r.status < 400);
    res->prepare_payload();
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
      if (ec || !res->keep_alive()) return self->close();
      self->do_read();
    });
  }

  void close()
  {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  web_routes const& routes_;
  live_events& events_;
};

} // namespace

tcp::acceptor listen_on(asio::io_context& io, tcp::endpoint endpoint)
{
  tcp::acceptor acceptor(io);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
  return acceptor;
}

web_listener::web_listener(asio::io_context& io, tcp::acceptor acceptor, web_routes const& routes, live_events& events)
    : io_(io), acceptor_(std::move(acceptor)), routes_(routes), events_(events)
{
}

void web_listener::run() { do_accept(); }

void web_listener::stop()
{
  beast::error_code ignored;
  acceptor_.close(ignored);
}

void web_listener::do_accept()
{
  acceptor_.async_accept(io_, [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;   // stopped
    if (!ec) std::make_shared<web_session>(std::move(socket), self->routes_, self->events_)->run();
    self->do_accept();
  });
}

} // namespace grader::web
