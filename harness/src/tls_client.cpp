// tls_client: test_client's connection with an ssl::stream over the
// tcp_stream. Each step is started asynchronously and the private io_context
// is run until it completes, so tcp_stream's deadline bounds it (blocking
// calls would ignore it). OpenSSL is reached through the stream's SSL* for
// what Asio does not wrap: SNI, the host check, sessions, and what the
// handshake ended with.
#include <workbook/beast_messages.hpp>
#include <workbook/tls_client.hpp>
#include <workbook/transcript.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <functional>
#include <sstream>
#include <stdexcept>

namespace workbook {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

// OpenSSL's objects, freed by their own functions.
template <auto Free>
struct openssl_deleter {
  template <class T>
  void operator()(T* p) const { Free(p); }
};
using session_ptr = std::unique_ptr<SSL_SESSION, openssl_deleter<SSL_SESSION_free>>;
using x509_ptr = std::unique_ptr<X509, openssl_deleter<X509_free>>;
using bio_ptr = std::unique_ptr<BIO, openssl_deleter<BIO_free>>;
using general_names_ptr = std::unique_ptr<GENERAL_NAMES, openssl_deleter<GENERAL_NAMES_free>>;

std::string sha256_hex(X509* certificate)
{
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (X509_digest(certificate, EVP_sha256(), digest, &size) != 1) return "?";
  static char const hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0xf];
  }
  return out;
}

std::string subject_of(X509* certificate)
{
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), X509_get_subject_name(certificate), 0, XN_FLAG_RFC2253) < 0) return "?";
  char* data = nullptr;
  long const size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::vector<std::string> dns_names_of(X509* certificate)
{
  std::vector<std::string> out;
  general_names_ptr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    GENERAL_NAME const* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_DNS) continue;
    out.emplace_back(reinterpret_cast<char const*>(ASN1_STRING_get0_data(name->d.dNSName)),
                     static_cast<std::size_t>(ASN1_STRING_length(name->d.dNSName)));
  }
  return out;
}

// The server's leaf certificate, or nullptr if it sent none. A handshake
// that failed verification has not set the peer certificate yet (OpenSSL
// sets it only once the chain verified), but the chain it received is kept:
// its first entry is the leaf, and a test wants to know which one it was.
X509* leaf_of(SSL* ssl)
{
  if (X509* peer = SSL_get0_peer_certificate(ssl)) return peer;
  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);
  if (chain && sk_X509_num(chain) > 0) return sk_X509_value(chain, 0);
  return nullptr;
}

// What an error means, in a test's terms.
struct failure {
  std::string text;
  int reason = 0;
  int alert = -1;
};

failure explain(beast::error_code ec, SSL* ssl, std::chrono::milliseconds timeout)
{
  failure f;
  if (ec == beast::error::timeout) {
    f.text = "no answer within " + std::to_string(timeout.count()) + " ms";
  } else if (ec.category() == net::error::get_ssl_category()) {
    // Asio puts the first error of OpenSSL's queue in the error_code; the
    // rest would only say the same from further down.
    ERR_clear_error();
    auto const code = static_cast<unsigned long>(static_cast<unsigned int>(ec.value()));
    char const* words = ERR_reason_error_string(code);
    f.text = words ? words : ec.message();
    f.reason = ERR_GET_REASON(code);
    if (f.reason == SSL_R_CERTIFICATE_VERIFY_FAILED)
      f.text += std::string(": ") + X509_verify_cert_error_string(SSL_get_verify_result(ssl));
    // A fatal alert from the peer is queued as SSL_AD_REASON_OFFSET + its
    // code (ssl3_read_bytes), so the alert is read back from the reason.
    if (ERR_GET_LIB(code) == ERR_LIB_SSL && f.reason > SSL_AD_REASON_OFFSET && f.reason < SSL_AD_REASON_OFFSET + 256) {
      f.alert = f.reason - SSL_AD_REASON_OFFSET;
      f.text += " (alert " + std::to_string(f.alert) + " from the server)";
    }
  } else if (ec == net::error::eof) {
    f.text = "the server closed the connection with close_notify";
  } else if (ec == ssl::error::stream_truncated) {
    f.text = "the server closed the connection without close_notify";
  } else {
    f.text = ec.message();
  }
  return f;
}

// The request on the wire: what to_beast makes of it, with the Host and the
// framing the test left out.
std::string serialize(request const& req, std::string const& default_host)
{
  auto msg = to_beast(req);
  if (msg.count(http::field::host) == 0) msg.set(http::field::host, default_host);
  if (!msg.has_content_length() && !msg.chunked()) msg.prepare_payload();
  std::ostringstream os;
  os << msg;
  return os.str();
}

} // namespace

// A copy of a connection's session, never the connection's own object: when
// a connection ends without sending close_notify, SSL_free marks its session
// not resumable, and that would spoil every copy of the pointer.
struct tls_session {
  session_ptr session;
  std::optional<std::string> sni;
};

struct tls_client::impl {
  unsigned short port;
  tls_client_options options;
  net::io_context ioc;
  ssl::context context{ssl::context::tls_client};
  std::optional<ssl::stream<beast::tcp_stream>> stream;  // made once the context is complete: SSL_new copies it
  beast::flat_buffer buffer;
  int id = transcript::open_connection();
  tls_handshake_info info;
  std::shared_ptr<tls_session const> saved;
  bool tcp_open = false;     // the socket is open on this side
  bool tls_broken = false;   // a fatal TLS error (the handshake's included): no more TLS on it
  bool peer_closed = false;  // the server ended the connection (close_notify, EOF or reset)

  impl(unsigned short p, tls_client_options o) : port(p), options(std::move(o)) {}

  SSL* ssl() { return stream->native_handle(); }

  void run()
  {
    ioc.restart();
    ioc.run();
  }

  void note(std::string const& text) { transcript::note(id, text); }

  // OpenSSL sets the flag for a fatal alert too; only on a sound
  // connection does it mean close_notify.
  bool received_close_notify() { return !tls_broken && (SSL_get_shutdown(ssl()) & SSL_RECEIVED_SHUTDOWN) != 0; }

  // Brings the state in line with an error from a read, write or shutdown.
  failure fail(beast::error_code ec)
  {
    failure f = explain(ec, ssl(), options.timeout);
    if (ec == beast::error::timeout) {
      tcp_open = false;  // tcp_stream closes the socket when its deadline expires
    } else {
      if (ec.category() == net::error::get_ssl_category()) tls_broken = true;
      else peer_closed = true;  // EOF, with or without close_notify, or a reset
    }
    return f;
  }

  bool configure()
  {
    beast::error_code ec;
    if (!options.trusted_ca.empty()) {
      context.add_certificate_authority(net::buffer(options.trusted_ca), ec);
      if (ec) return refuse("trusted_ca is not a PEM certificate: " + ec.message());
      context.set_verify_mode(ssl::verify_peer);
    } else {
      context.set_verify_mode(ssl::verify_none);
    }
    if (options.max_version != 0 && SSL_CTX_set_max_proto_version(context.native_handle(), options.max_version) != 1)
      return refuse("max_version " + std::to_string(options.max_version) + " is not a TLS version");
    if (!options.tickets) SSL_CTX_set_options(context.native_handle(), SSL_OP_NO_TICKET);

    stream.emplace(ioc, context);
    if (options.sni && SSL_set_tlsext_host_name(ssl(), options.sni->c_str()) != 1)
      return refuse("OpenSSL refused the SNI \"" + *options.sni + "\"");
    if (!options.verify_name.empty()) {
      SSL_set_hostflags(ssl(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      if (SSL_set1_host(ssl(), options.verify_name.c_str()) != 1)
        return refuse("OpenSSL refused the verify_name \"" + options.verify_name + "\"");
    }
    if (options.resume) {
      // A copy again: this connection's end must not spoil the caller's session.
      session_ptr copy(SSL_SESSION_dup(options.resume->session.get()));
      if (!copy || SSL_set_session(ssl(), copy.get()) != 1) return refuse("OpenSSL refused the session to resume");
      note("offering a session made with " +
           (options.resume->sni ? "SNI \"" + *options.resume->sni + "\"" : std::string("no SNI")));
    }
    return true;
  }

  bool refuse(std::string why)
  {
    ERR_clear_error();
    info.error = std::move(why);
    note(info.error);
    return false;
  }

  bool connect()
  {
    auto& socket = beast::get_lowest_layer(*stream);
    socket.expires_after(options.timeout);
    beast::error_code result;
    socket.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                         [&](beast::error_code ec) { result = ec; });
    run();
    if (result) {
      info.error = "connect to 127.0.0.1:" + std::to_string(port) + " failed: " + explain(result, ssl(), options.timeout).text;
      note(info.error);
      return false;
    }
    tcp_open = true;
    beast::error_code ignored;
    transcript::register_client_port(socket.socket().local_endpoint(ignored).port());
    note("connected to 127.0.0.1:" + std::to_string(port));
    return true;
  }

  void handshake()
  {
    beast::get_lowest_layer(*stream).expires_after(options.timeout);
    beast::error_code result;
    stream->async_handshake(ssl::stream_base::client, [&](beast::error_code ec) { result = ec; });
    run();

    // The certificate counts whether or not the handshake completed: "no
    // certificate" is what a refusal by alert must show.
    if (X509* leaf = leaf_of(ssl())) {
      info.peer_fingerprint = sha256_hex(leaf);
      info.peer_subject = subject_of(leaf);
      info.peer_dns_names = dns_names_of(leaf);
    }
    std::string const certificate =
        info.peer_fingerprint.empty() ? "no certificate" : "certificate " + info.peer_subject + " sha256 " + info.peer_fingerprint;
    std::string const sni = options.sni ? "SNI \"" + *options.sni + "\"" : "no SNI";
    if (result) {
      failure const f = fail(result);
      tls_broken = true;
      info.error = f.text;
      info.reason = f.reason;
      info.alert = f.alert;
      note("TLS handshake failed (" + sni + "): " + info.error + "; " + certificate);
      return;
    }
    info.completed = true;
    info.version = SSL_get_version(ssl());
    info.resumed = SSL_session_reused(ssl()) == 1;
    beast::get_lowest_layer(*stream).expires_never();
    save_session();
    note("TLS handshake completed: " + info.version + (info.resumed ? ", resumed" : ", full") + ", " + sni + ", " +
         certificate);
  }

  void save_session()
  {
    // A TLS 1.3 session is resumable only once a ticket has come, after the
    // handshake; until then OpenSSL says it is not.
    SSL_SESSION* current = SSL_get0_session(ssl());
    if (!current || !SSL_SESSION_is_resumable(current)) return;
    session_ptr copy(SSL_SESSION_dup(current));
    if (!copy) return;
    auto s = std::make_shared<tls_session>();
    s->session = std::move(copy);
    s->sni = options.sni;
    saved = std::move(s);
  }

  bool usable() const { return info.completed && tcp_open && !tls_broken && !peer_closed; }

  // Waits for the server to end the connection: true, with how it ended,
  // when it did within `within`; false, and the connection closed here,
  // when it did not.
  bool await_end(std::chrono::milliseconds within, beast::error_code& ended)
  {
    ended = read_to_end(within);
    if (ended == beast::error::timeout) {
      tcp_open = false;
      note("the server did not close the connection within " + std::to_string(within.count()) + " ms (closed here)");
      return false;
    }
    peer_closed = true;
    return true;
  }

  // Reads until the connection ends or `within` passes, through TLS when it
  // is up (so what arrives is recorded, and close_notify seen), else on the
  // socket itself. Returns how the reading ended.
  beast::error_code read_to_end(std::chrono::milliseconds within)
  {
    auto& socket = beast::get_lowest_layer(*stream);
    socket.expires_after(within);
    bool const through_tls = !tls_broken;
    char bytes[4096];
    std::size_t raw = 0;
    beast::error_code result;
    std::function<void()> next = [&] {
      auto on_read = [&](beast::error_code ec, std::size_t n) {
        if (ec) {
          result = ec;
          return;
        }
        if (through_tls) transcript::record(id, transcript::direction::received, std::string_view(bytes, n));
        else raw += n;
        next();
      };
      if (through_tls) stream->async_read_some(net::buffer(bytes), on_read);
      else socket.async_read_some(net::buffer(bytes), on_read);
    };
    next();
    run();
    if (raw > 0) note(std::to_string(raw) + " bytes arrived on the socket after the failed handshake (dropped)");
    return result;
  }

  void close_socket()
  {
    if (!tcp_open) return;
    beast::error_code ignored;
    auto& socket = beast::get_lowest_layer(*stream);
    socket.socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket.close();
    tcp_open = false;
  }
};

tls_client::tls_client(unsigned short port, tls_client_options o) : impl_(std::make_unique<impl>(port, std::move(o)))
{
  if (impl_->configure() && impl_->connect()) impl_->handshake();
}
tls_client::~tls_client() = default;
tls_client::tls_client(tls_client&&) noexcept = default;
tls_client& tls_client::operator=(tls_client&&) noexcept = default;

tls_handshake_info const& tls_client::handshake() const { return impl_->info; }

std::shared_ptr<tls_session const> tls_client::session() const { return impl_->saved; }

response tls_client::send(request req)
{
  auto& d = *impl_;
  response out;
  if (!d.usable()) {
    if (!d.info.completed) out.error = "no TLS connection: " + (d.info.error.empty() ? "no handshake" : d.info.error);
    else out.error = "the connection is closed";
    d.note("not sent: " + out.error);
    return out;
  }
  std::string const bytes =
      serialize(req, d.options.sni ? *d.options.sni : "127.0.0.1:" + std::to_string(d.port));
  transcript::record(d.id, transcript::direction::sent, bytes);
  auto& socket = beast::get_lowest_layer(*d.stream);

  socket.expires_after(d.options.timeout);
  beast::error_code result;
  net::async_write(*d.stream, net::buffer(bytes), [&](beast::error_code ec, std::size_t) { result = ec; });
  d.run();
  if (result) {
    out.error = "send failed: " + d.fail(result).text;
    d.note(out.error);
    return out;
  }

  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  parser.skip(iequals(req.method, "HEAD"));
  socket.expires_after(d.options.timeout);
  http::async_read(*d.stream, d.buffer, parser, [&](beast::error_code ec, std::size_t) { result = ec; });
  d.run();
  if (result) {
    out.error = d.fail(result).text;
    d.note(out.error);
    return out;
  }
  socket.expires_never();
  auto const& msg = parser.get();
  out.status = static_cast<int>(msg.result_int());
  out.reason = std::string(msg.reason());
  for (auto const& field : msg) out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  out.body = msg.body();
  std::ostringstream head;
  head << msg.base();
  transcript::record(d.id, transcript::direction::received, head.str() + out.body);
  // TLS 1.3 tickets arrive after the handshake; by now they have been read.
  d.save_session();
  return out;
}

bool tls_client::shutdown()
{
  auto& d = *impl_;
  if (!d.info.completed || !d.tcp_open || d.tls_broken) {
    d.note("no shutdown: there is no TLS connection to end");
    d.close_socket();
    return false;
  }
  beast::get_lowest_layer(*d.stream).expires_after(d.options.timeout);
  beast::error_code result;
  d.stream->async_shutdown([&](beast::error_code ec) { result = ec; });
  d.run();
  // The peer's close_notify is what counts; after it the write of ours can
  // still fail if the server has closed the socket meanwhile.
  bool const answered = d.received_close_notify();
  if (result == beast::error::timeout) d.tcp_open = false;
  d.note(answered ? "TLS shutdown: close_notify sent and answered"
                  : "TLS shutdown: close_notify sent, the server's did not come (" +
                        explain(result, d.ssl(), d.options.timeout).text + ")");
  d.close_socket();
  return answered;
}

bool tls_client::peer_sent_close_notify(std::chrono::milliseconds within)
{
  auto& d = *impl_;
  if (d.stream && d.received_close_notify()) return true;
  if (!d.tcp_open || d.peer_closed || d.tls_broken) {
    // The close_notify cannot come now; wait for the end all the same, so a
    // caller that times it learns when the server closed.
    closed_by_peer(within);
    return false;
  }
  beast::error_code result;
  if (!d.await_end(within, result)) return false;
  bool const notified = d.received_close_notify();
  d.note(notified ? "the server sent close_notify" : "the server closed the connection without close_notify (" +
                                                         explain(result, d.ssl(), within).text + ")");
  if (!notified) d.close_socket();
  return notified;
}

bool tls_client::closed_by_peer(std::chrono::milliseconds within)
{
  auto& d = *impl_;
  if (!d.tcp_open) return d.peer_closed;
  if (d.peer_closed) {
    d.close_socket();
    return true;
  }
  beast::error_code result;
  if (!d.await_end(within, result)) return false;
  d.note("connection closed by the server" +
         std::string(d.received_close_notify() ? ", with close_notify" : ", without close_notify"));
  d.close_socket();
  return true;
}

void tls_client::close()
{
  auto& d = *impl_;
  if (!d.tcp_open) return;
  d.close_socket();
  d.note("closed by the client (no close_notify)");
}

namespace tls {

std::string fingerprint(std::string_view certificate_pem)
{
  bio_ptr bio(BIO_new_mem_buf(certificate_pem.data(), static_cast<int>(certificate_pem.size())));
  x509_ptr certificate(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!certificate) {
    ERR_clear_error();
    throw std::invalid_argument("tls::fingerprint: no PEM certificate in the text given");
  }
  return sha256_hex(certificate.get());
}

} // namespace tls

} // namespace workbook
