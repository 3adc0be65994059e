#include <workbook/test_client.hpp>
#include <workbook/transcript.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <functional>
#include <sstream>

namespace workbook {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

std::string describe(beast::error_code ec, std::chrono::milliseconds timeout)
{
  if (ec == beast::error::timeout)
    return "no answer within " + std::to_string(timeout.count()) + " ms";
  if (ec == http::error::end_of_stream || ec == net::error::eof)
    return "connection closed by the server before a complete response";
  return ec.message();
}

// One connection with a deadline on every step. Each operation is started
// asynchronously and the private io_context is run until it completes:
// blocking calls would ignore tcp_stream's timeout.
class connection {
public:
  connection(unsigned short port, std::chrono::milliseconds timeout)
      : port_(port), timeout_(timeout), stream_(ioc_), id_(transcript::open_connection())
  {
    stream_.expires_after(timeout_);
    beast::error_code result;
    stream_.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_),
                          [&](beast::error_code ec) { result = ec; });
    run();
    if (result) {
      error_ = "connect to 127.0.0.1:" + std::to_string(port_) + " failed: " + describe(result, timeout_);
      if (port_ == 0) error_ += " (port 0: the server reported no listening port; did it bind and listen?)";
      transcript::note(id_, error_);
    } else {
      connected_ = true;
      beast::error_code ignored;
      transcript::register_client_port(stream_.socket().local_endpoint(ignored).port());
      transcript::note(id_, "connected to 127.0.0.1:" + std::to_string(port_));
    }
  }

  bool connected() const { return connected_; }
  std::string const& error() const { return error_; }
  bool received_anything() const { return received_anything_; }

  bool send(std::string_view bytes)
  {
    if (!connected_) return false;
    transcript::record(id_, transcript::direction::sent, bytes);
    stream_.expires_after(timeout_);
    beast::error_code result;
    net::async_write(stream_, net::buffer(bytes.data(), bytes.size()),
                     [&](beast::error_code ec, std::size_t) { result = ec; });
    run();
    if (result) {
      transcript::note(id_, "send failed: " + describe(result, timeout_));
      connected_ = false;
      return false;
    }
    return true;
  }

  response read_response(bool head_request = false)
  {
    response out;
    if (!connected_) {
      out.error = error_.empty() ? "not connected" : error_;
      return out;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    parser.skip(head_request);
    stream_.expires_after(timeout_);
    beast::error_code result;
    std::size_t const before = buffer_.size();
    http::async_read(stream_, buffer_, parser, [&](beast::error_code ec, std::size_t) { result = ec; });
    run();
    if (parser.got_some() || buffer_.size() != before) received_anything_ = true;
    if (result) {
      out.error = describe(result, timeout_);
      transcript::note(id_, out.error);
      // Either way the connection is gone: the server closed it, or the
      // deadline expired and tcp_stream closed it on this side.
      connected_ = false;
      peer_closed_ = result != beast::error::timeout;
      return out;
    }
    auto const& msg = parser.get();
    out.status = static_cast<int>(msg.result_int());
    out.reason = std::string(msg.reason());
    for (auto const& field : msg)
      out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    out.body = msg.body();
    std::ostringstream head;
    head << msg.base();
    transcript::record(id_, transcript::direction::received, head.str() + out.body);
    if (!msg.keep_alive()) keep_alive_ = false;
    return out;
  }

  bool keep_alive() const { return keep_alive_; }

  bool closed_by_peer(std::chrono::milliseconds within)
  {
    // Already gone: say who closed it. (A read that timed out closed it
    // here; that is not the peer's close.)
    if (!connected_) return peer_closed_;
    stream_.expires_after(within);
    beast::error_code result;
    char byte;
    // Read until EOF; data before EOF is recorded and otherwise ignored.
    std::function<void()> next = [&] {
      stream_.async_read_some(net::buffer(&byte, 1), [&](beast::error_code ec, std::size_t n) {
        if (!ec && n == 1) {
          transcript::record(id_, transcript::direction::received, std::string_view(&byte, 1));
          next();
          return;
        }
        result = ec;
      });
    };
    next();
    run();
    connected_ = false;
    if (result == beast::error::timeout) {
      transcript::note(id_, "the server did not close the connection within " + std::to_string(within.count()) +
                                " ms (closed here)");
      return false;
    }
    transcript::note(id_, "connection closed by the server");
    peer_closed_ = true;
    return true;
  }

  void close()
  {
    if (!connected_) return;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    connected_ = false;
    transcript::note(id_, "closed by the client");
  }

private:
  void run()
  {
    ioc_.restart();
    ioc_.run();
  }

  unsigned short port_;
  std::chrono::milliseconds timeout_;
  net::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  int id_;
  bool connected_ = false;
  bool peer_closed_ = false;   // the server ended the connection (EOF or reset), not this side
  bool keep_alive_ = true;
  bool received_anything_ = false;
  std::string error_;
};

std::string serialize(request const& req, unsigned short port)
{
  http::request<http::string_body> msg;
  auto const verb = http::string_to_verb(req.method);
  if (verb == http::verb::unknown) msg.method_string(req.method);
  else msg.method(verb);
  msg.target(req.target);
  msg.version(11);
  bool has_host = false;
  for (auto const& [k, v] : req.headers) {
    msg.insert(k, v);
    if (iequals(k, "host")) has_host = true;
  }
  if (!has_host) msg.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  msg.body() = req.body;
  if (!msg.has_content_length() && !msg.chunked()) msg.prepare_payload();
  std::ostringstream os;
  os << msg;
  return os.str();
}

} // namespace

// ---------------------------------------------------------------- test_client

struct test_client::impl {
  impl(unsigned short p, std::chrono::milliseconds t) : port(p), timeout(t) {}
  unsigned short port;
  std::chrono::milliseconds timeout;
  std::unique_ptr<connection> conn;
  int opened = 0;

  bool ensure_connected()
  {
    if (conn && conn->connected() && conn->keep_alive()) return true;
    conn = std::make_unique<connection>(port, timeout);
    ++opened;
    return conn->connected();
  }
};

test_client::test_client(unsigned short port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<impl>(port, timeout))
{
}
test_client::~test_client() = default;
test_client::test_client(test_client&&) noexcept = default;
test_client& test_client::operator=(test_client&&) noexcept = default;

response test_client::get(std::string target)
{
  request req;
  req.target = std::move(target);
  return send(std::move(req));
}

response test_client::send(request req)
{
  std::string const bytes = serialize(req, impl_->port);
  bool const head = iequals(req.method, "HEAD");
  for (int attempt = 0;; ++attempt) {
    bool const reused = impl_->conn && impl_->conn->connected() && impl_->conn->keep_alive();
    if (!impl_->ensure_connected()) {
      response r;
      r.error = impl_->conn->error();
      return r;
    }
    impl_->conn->send(bytes);
    response r = impl_->conn->read_response(head);
    // A kept-alive connection the server closed while idle: one fresh try,
    // as any HTTP client does. A fresh connection gets no second chance.
    if (r.status == 0 && reused && attempt == 0 && !impl_->conn->received_anything() &&
        !impl_->conn->connected())
      continue;
    return r;
  }
}

int test_client::connections_opened() const { return impl_->opened; }

void test_client::close()
{
  if (impl_->conn) impl_->conn->close();
}

// ------------------------------------------------------------- raw_connection

struct raw_connection::impl {
  impl(unsigned short port, std::chrono::milliseconds timeout) : conn(port, timeout) {}
  connection conn;
};

raw_connection::raw_connection(unsigned short port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<impl>(port, timeout))
{
}
raw_connection::~raw_connection() = default;
raw_connection::raw_connection(raw_connection&&) noexcept = default;
raw_connection& raw_connection::operator=(raw_connection&&) noexcept = default;

bool raw_connection::connected() const { return impl_->conn.connected(); }
std::string const& raw_connection::error() const { return impl_->conn.error(); }
bool raw_connection::send(std::string_view bytes) { return impl_->conn.send(bytes); }
response raw_connection::read_response() { return impl_->conn.read_response(); }
bool raw_connection::closed_by_peer(std::chrono::milliseconds within) { return impl_->conn.closed_by_peer(within); }
void raw_connection::close() { impl_->conn.close(); }

} // namespace workbook
