#include <workbook/test_server.hpp>
#include <workbook/transcript.hpp>

#include "handler_reply.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <condition_variable>
#include <list>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace workbook {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct test_server::impl {
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  unsigned short bound_port = 0;   // kept: the acceptor forgets it once closed
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work{net::make_work_guard(ioc)};
  std::thread io_thread;
  handler on_request;
  script on_connection;

  std::atomic<int> accepted_count{0};
  std::atomic<int> open_count{0};
  std::atomic<int> request_count{0};

  std::mutex mutex;
  std::condition_variable stop_cv;
  bool stopping = false;
  std::list<std::thread> script_threads;
  std::list<int> script_fds;                 // open script connections, for stop()
  std::list<std::weak_ptr<beast::tcp_stream>> streams;

  void start()
  {
    tcp::endpoint const ep(net::ip::make_address("127.0.0.1"), 0);
    acceptor.open(ep.protocol());
    acceptor.set_option(net::socket_base::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen();
    bound_port = acceptor.local_endpoint().port();
    accept();
    io_thread = std::thread([this] { ioc.run(); });
  }

  void accept()
  {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;  // closed by stop()
      ++accepted_count;
      ++open_count;
      if (on_request) start_session(std::move(socket));
      else start_script(std::move(socket));
      accept();
    });
  }

  // ---- handler mode: an async keep-alive session per connection

  struct session : std::enable_shared_from_this<session> {
    impl& server;
    std::shared_ptr<beast::tcp_stream> stream;
    beast::flat_buffer buffer;
    std::optional<http::request_parser<http::string_body>> parser;
    http::response<http::string_body> reply;

    transcript::server_side log;

    session(impl& s, tcp::socket socket, unsigned short remote_port)
        : server(s), stream(std::make_shared<beast::tcp_stream>(std::move(socket))), log(remote_port) {}
    ~session() { --server.open_count; }

    void read()
    {
      parser.emplace();
      parser->body_limit(64 * 1024 * 1024);
      http::async_read(*stream, buffer, *parser,
                       [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec)
    {
      if (ec) return close();
      ++server.request_count;
      auto const& msg = parser->get();
      {
        std::ostringstream head;
        head << msg.base();
        log.record(transcript::direction::received, head.str() + msg.body());
      }
      request req;
      req.method = std::string(msg.method_string());
      req.target = std::string(msg.target());
      for (auto const& f : msg) req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
      req.body = msg.body();

      detail::make_reply(reply, msg.keep_alive(), "test server", log, [&] { return server.on_request(req); });
      http::async_write(*stream, reply,
                        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
    }

    void on_write(beast::error_code ec)
    {
      if (ec || !reply.keep_alive()) return close();
      read();
    }

    void close()
    {
      beast::error_code ignored;
      stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
  };

  static unsigned short remote_port_of(tcp::socket const& socket)
  {
    beast::error_code ec;
    auto const ep = socket.remote_endpoint(ec);
    return ec ? 0 : ep.port();
  }

  void start_session(tcp::socket socket)
  {
    unsigned short const remote = remote_port_of(socket);
    auto s = std::make_shared<session>(*this, std::move(socket), remote);
    streams.push_back(s->stream);
    s->read();
  }

  // ---- script mode: a blocking script on its own thread per connection

  struct script_peer final : peer {
    impl& server;
    int fd;
    std::string pending;   // bytes read past the last request
    transcript::server_side log;

    script_peer(impl& s, int f, unsigned short remote_port) : server(s), fd(f), log(remote_port) {}

    bool wait_readable(std::chrono::milliseconds timeout)
    {
      pollfd p{fd, POLLIN, 0};
      return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
    }

    std::string read_request(std::chrono::milliseconds timeout) override
    {
      auto const deadline = std::chrono::steady_clock::now() + timeout;
      for (;;) {
        auto const end = pending.find("\r\n\r\n");
        if (end != std::string::npos) {
          std::size_t length = 0;
          std::string const head = pending.substr(0, end);
          for (std::size_t pos = 0; (pos = head.find('\n', pos)) != std::string::npos;) {
            ++pos;
            std::string_view line(head.data() + pos, head.size() - pos);
            if (line.size() > 15 && iequals(line.substr(0, 15), "content-length:"))
              length = std::stoul(std::string(line.substr(15)));
          }
          if (pending.size() >= end + 4 + length) {
            std::string req = pending.substr(0, end + 4 + length);
            pending.erase(0, req.size());
            ++server.request_count;
            log.record(transcript::direction::received, req);
            return req;
          }
        }
        auto const left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0 || !wait_readable(left)) return {};
        char buf[4096];
        ssize_t const n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return {};
        pending.append(buf, static_cast<std::size_t>(n));
      }
    }

    bool write(std::string_view bytes) override
    {
      log.record(transcript::direction::sent, bytes);
      while (!bytes.empty()) {
        ssize_t const n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
      }
      return true;
    }

    bool pause(std::chrono::milliseconds d) override
    {
      std::unique_lock lock(server.mutex);
      return !server.stop_cv.wait_for(lock, d, [this] { return server.stopping; });
    }

    void hold() override
    {
      // stop() shuts the socket down, which ends this wait too.
      char buf[4096];
      for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, -1) < 0 && errno != EINTR) return;
        if (::recv(fd, buf, sizeof buf, 0) <= 0) return;
      }
    }

    void close() override { ::shutdown(fd, SHUT_RDWR); }
  };

  void start_script(tcp::socket socket)
  {
    unsigned short const remote = remote_port_of(socket);
    int const fd = socket.release();
    std::lock_guard lock(mutex);
    if (stopping) {
      ::close(fd);
      --open_count;
      return;
    }
    auto fd_it = script_fds.insert(script_fds.end(), fd);
    script_threads.emplace_back([this, fd, fd_it, remote] {
      {
        script_peer p(*this, fd, remote);
        try {
          on_connection(p);
        } catch (...) {
          // A script that throws just drops its connection.
        }
      }
      {
        std::lock_guard lock(mutex);
        script_fds.erase(fd_it);
        ::shutdown(fd, SHUT_RDWR);
        ::close(fd);
      }
      --open_count;
    });
  }

  void stop()
  {
    {
      std::lock_guard lock(mutex);
      if (stopping) return;
      stopping = true;
      for (int fd : script_fds) ::shutdown(fd, SHUT_RDWR);
    }
    stop_cv.notify_all();
    net::post(ioc, [this] {
      beast::error_code ignored;
      acceptor.close(ignored);
      for (auto& weak : streams)
        if (auto s = weak.lock()) s->socket().close(ignored);
      work.reset();
    });
    if (io_thread.joinable()) io_thread.join();
    for (auto& t : script_threads) t.join();
  }
};

test_server::test_server(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
test_server::~test_server()
{
  if (impl_) impl_->stop();
}
test_server::test_server(test_server&&) noexcept = default;
test_server& test_server::operator=(test_server&&) noexcept = default;

test_server test_server::serving(handler h)
{
  auto p = std::make_unique<impl>();
  p->on_request = std::move(h);
  p->start();
  return test_server(std::move(p));
}

test_server test_server::scripted(script s)
{
  auto p = std::make_unique<impl>();
  p->on_connection = std::move(s);
  p->start();
  return test_server(std::move(p));
}

unsigned short test_server::port() const { return impl_->bound_port; }
std::string test_server::url() const { return "http://127.0.0.1:" + std::to_string(port()); }
int test_server::accepted() const { return impl_->accepted_count.load(); }
int test_server::open() const { return impl_->open_count.load(); }
int test_server::requests() const { return impl_->request_count.load(); }
void test_server::stop() { impl_->stop(); }

std::string http_response(int status, std::string_view body, header_list const& headers)
{
  http::response<http::string_body> msg;
  msg.version(11);
  msg.result(static_cast<unsigned>(status));
  for (auto const& [k, v] : headers) msg.insert(k, v);
  msg.body() = std::string(body);
  try {
    msg.prepare_payload();
  } catch (std::invalid_argument const&) {
    // A 1xx, 204 or 304 with a body: the bytes a misbehaving server sends,
    // the header as is and the body after it, unframed.
    msg.body().clear();
    std::ostringstream os;
    os << msg.base();
    return os.str() + std::string(body);
  }
  std::ostringstream os;
  os << msg;
  return os.str();
}

} // namespace workbook
