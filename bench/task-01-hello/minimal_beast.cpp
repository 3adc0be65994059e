// The peer the reference is held to: the least a Beast server can be and
// still serve keep-alive HTTP/1.1 correctly. One io_context on one thread,
// no strand (nothing runs concurrently), a session that reads a request,
// writes "hello\n" and reads again, a flat_buffer reused across requests,
// a response built once per request with a static body.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>
#include <memory>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

class session : public std::enable_shared_from_this<session> {
public:
  explicit session(tcp::socket socket) : stream_(std::move(socket)) {}
  void start() { read(); }

private:
  void read()
  {
    request_ = {};
    http::async_read(stream_, buffer_, request_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec) self->answer();
    });
  }

  void answer()
  {
    response_ = {};
    response_.version(request_.version());
    response_.keep_alive(request_.keep_alive());
    bool const found = request_.target() == "/";
    response_.result(found ? http::status::ok : http::status::not_found);
    response_.set(http::field::content_type, "text/plain");
    response_.body() = found ? "hello\n" : "not found\n";
    response_.prepare_payload();
    http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec && self->response_.keep_alive()) self->read();
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::empty_body> request_;
  http::response<http::string_body> response_;
};

void accept(tcp::acceptor& acceptor)
{
  acceptor.async_accept([&acceptor](beast::error_code ec, tcp::socket socket) {
    if (!ec) std::make_shared<session>(std::move(socket))->start();
    accept(acceptor);
  });
}

} // namespace

int main()
{
  net::io_context ioc(1);
  tcp::acceptor acceptor(ioc, {net::ip::make_address("127.0.0.1"), 0});
  accept(acceptor);
  std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
  std::fflush(stdout);
  ioc.run();
}
