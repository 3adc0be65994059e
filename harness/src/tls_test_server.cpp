// tls_test_server: test_server's handler mode with an ssl::stream under the
// session. One io_context thread runs the acceptor and every session; the
// logs and counters are what the test's thread reads.
#include <workbook/tls_test_server.hpp>
#include <workbook/transcript.hpp>

#include "handler_reply.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <atomic>
#include <chrono>
#include <list>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

namespace workbook {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

// A client that connects and never finishes its handshake is let go after this.
constexpr std::chrono::seconds handshake_timeout(5);

std::string subject_of(SSL* ssl)
{
  X509* peer = SSL_get0_peer_certificate(ssl);
  if (!peer) return "";
  std::unique_ptr<BIO, int (*)(BIO*)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || X509_NAME_print_ex(bio.get(), X509_get_subject_name(peer), 0, XN_FLAG_RFC2253) < 0) return "?";
  char* data = nullptr;
  long const size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::string server_name_of(SSL* ssl)
{
  char const* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  return name ? name : "";
}

} // namespace

struct tls_test_server::impl {
  net::io_context ioc;
  ssl::context context{ssl::context::tls_server};
  tcp::acceptor acceptor{ioc};
  unsigned short bound_port = 0;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work{net::make_work_guard(ioc)};
  std::thread io_thread;
  handler on_request;

  std::atomic<int> accepted_count{0};
  std::atomic<int> open_count{0};
  std::atomic<int> handshake_count{0};
  std::atomic<int> failed_handshake_count{0};
  std::atomic<int> request_count{0};

  mutable std::mutex mutex;  // the logs, and stopping
  std::vector<tls_handshake> handshakes;
  std::vector<tls_served> served;
  bool stopping = false;

  struct session;
  std::list<std::weak_ptr<session>> sessions;  // touched only on the io thread

  void configure(options const& o)
  {
    context.use_certificate_chain(net::buffer(o.identity.certificate));
    context.use_private_key(net::buffer(o.identity.private_key), ssl::context::pem);
    if (!o.client_ca.empty()) {
      context.add_certificate_authority(net::buffer(o.client_ca));
      context.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    }
  }

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
      int const number = ++accepted_count;
      ++open_count;
      auto s = std::make_shared<session>(*this, std::move(socket), number);
      sessions.push_back(s);
      s->start();
      accept();
    });
  }

  struct session : std::enable_shared_from_this<session> {
    impl& server;
    ssl::stream<beast::tcp_stream> stream;
    beast::flat_buffer buffer;
    std::optional<http::request_parser<http::string_body>> parser;
    http::response<http::string_body> reply;
    tls_connection identity;
    transcript::server_side log;

    session(impl& s, tcp::socket socket, int number)
        : server(s), stream(beast::tcp_stream(std::move(socket)), s.context), log(remote_port_of(stream))
    {
      identity.connection = number;
    }
    ~session() { --server.open_count; }

    static unsigned short remote_port_of(ssl::stream<beast::tcp_stream>& s)
    {
      beast::error_code ec;
      auto const ep = beast::get_lowest_layer(s).socket().remote_endpoint(ec);
      return ec ? 0 : ep.port();
    }

    void start()
    {
      beast::get_lowest_layer(stream).expires_after(handshake_timeout);
      stream.async_handshake(ssl::stream_base::server,
                             [self = shared_from_this()](beast::error_code ec) { self->on_handshake(ec); });
    }

    void on_handshake(beast::error_code ec)
    {
      // The SNI is known once the ClientHello has been read, so even a
      // handshake the client then aborts (it did not trust us) has one.
      identity.server_name = server_name_of(stream.native_handle());
      identity.client_subject = subject_of(stream.native_handle());
      tls_handshake h;
      static_cast<tls_connection&>(h) = identity;
      h.completed = !ec;
      if (ec) h.error = ec.message();
      {
        std::lock_guard lock(server.mutex);
        server.handshakes.push_back(h);
      }
      log.record(transcript::direction::note,
                 "TLS handshake " + std::string(ec ? "failed (" + ec.message() + ")" : "completed") + ": SNI \"" +
                     identity.server_name + "\", client certificate " +
                     (identity.client_subject.empty() ? "(none)" : identity.client_subject));
      if (ec) {
        ++server.failed_handshake_count;
        return;
      }
      ++server.handshake_count;
      beast::get_lowest_layer(stream).expires_never();
      read();
    }

    void read()
    {
      parser.emplace();
      parser->body_limit(64 * 1024 * 1024);
      http::async_read(stream, buffer, *parser,
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
      {
        tls_served s;
        static_cast<tls_connection&>(s) = identity;
        s.method = req.method;
        s.target = req.target;
        std::lock_guard lock(server.mutex);
        server.served.push_back(std::move(s));
      }

      detail::make_reply(reply, msg.keep_alive(), "tls test server", log,
                         [&] { return server.on_request(req, identity); });
      http::async_write(stream, reply,
                        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
    }

    void on_write(beast::error_code ec)
    {
      if (ec || !reply.keep_alive()) return close();
      read();
    }

    // No close_notify: the test only needs the client to see the end of the
    // connection, and a shutdown would wait on a client that may be gone.
    void close()
    {
      beast::error_code ignored;
      beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
    }
  };

  void stop()
  {
    {
      std::lock_guard lock(mutex);
      if (stopping) return;
      stopping = true;
    }
    net::post(ioc, [this] {
      beast::error_code ignored;
      acceptor.close(ignored);
      for (auto& weak : sessions)
        if (auto s = weak.lock()) beast::get_lowest_layer(s->stream).close();
      work.reset();
    });
    if (io_thread.joinable()) io_thread.join();
  }
};

tls_test_server::tls_test_server(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
tls_test_server::~tls_test_server()
{
  if (impl_) impl_->stop();
}
tls_test_server::tls_test_server(tls_test_server&&) noexcept = default;
tls_test_server& tls_test_server::operator=(tls_test_server&&) noexcept = default;

tls_test_server tls_test_server::serving(options o, handler h)
{
  auto p = std::make_unique<impl>();
  p->configure(o);
  p->on_request = std::move(h);
  p->start();
  return tls_test_server(std::move(p));
}

unsigned short tls_test_server::port() const { return impl_->bound_port; }
int tls_test_server::accepted() const { return impl_->accepted_count.load(); }
int tls_test_server::open() const { return impl_->open_count.load(); }
int tls_test_server::handshakes() const { return impl_->handshake_count.load(); }
int tls_test_server::failed_handshakes() const { return impl_->failed_handshake_count.load(); }
int tls_test_server::requests() const { return impl_->request_count.load(); }

std::vector<tls_handshake> tls_test_server::handshake_log() const
{
  std::lock_guard lock(impl_->mutex);
  return impl_->handshakes;
}

std::vector<tls_served> tls_test_server::served() const
{
  std::lock_guard lock(impl_->mutex);
  return impl_->served;
}

void tls_test_server::stop() { impl_->stop(); }

} // namespace workbook
