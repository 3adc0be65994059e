// workbook/tls_client.hpp: stretch 3's tests read an ingress's behaviour
// off what this client reports (the certificate by fingerprint, the alert
// that refused a name, whether a session resumed, close_notify), so each of
// those must be right against servers whose behaviour is known:
// tls_test_server, and for what it does not do (refuse a name with an
// alert, send or answer close_notify) a one-connection server below.
#include <workbook/elapsed.hpp>
#include <workbook/ports.hpp>
#include <workbook/test_ca.hpp>
#include <workbook/tls_client.hpp>
#include <workbook/tls_test_server.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <catch2/catch.hpp>

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace {

// A tls_test_server presenting `identity` that answers "<target> via <SNI>";
// it asks for a client certificate only when given a `client_ca`.
workbook::tls_test_server serve(workbook::issued_certificate const& identity, std::string client_ca = "")
{
  return workbook::tls_test_server::serving(
      {identity, std::move(client_ca)}, [](workbook::request const& r, workbook::tls_connection const& c) {
        return workbook::response{200, "", {}, r.target + " via " + c.server_name, ""};
      });
}

workbook::tls_client_options trusting(workbook::test_ca const& ca, std::string name, int max_version = 0)
{
  workbook::tls_client_options o;
  o.sni = name;
  o.trusted_ca = ca.certificate();
  o.verify_name = std::move(name);
  o.max_version = max_version;
  return o;
}

// One TLS connection served in plain blocking OpenSSL on a thread of its
// own; `after_handshake` says what the server does next and returns what it
// saw. Every wait is bounded (5 s), so a client that never comes or never
// answers costs time, not a hung run.
class one_connection_server {
public:
  using script = std::function<std::string(SSL*)>;

  one_connection_server(workbook::issued_certificate const& identity, script after_handshake,
                        std::function<void(SSL_CTX*)> const& configure = {})
  {
    context_.use_certificate_chain(net::buffer(identity.certificate));
    context_.use_private_key(net::buffer(identity.private_key), ssl::context::pem);
    if (configure) configure(context_.native_handle());
    thread_ = std::thread([this, s = std::move(after_handshake)] { serve(s); });
  }
  ~one_connection_server()
  {
    // Wakes the accept if no client came (Linux ends a listener's poll on shutdown).
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
  }

  unsigned short port() const { return acceptor_.local_endpoint().port(); }

  // What the server saw, once it is done with its connection.
  std::string const& outcome()
  {
    if (thread_.joinable()) thread_.join();
    return outcome_;
  }

private:
  void serve(script const& after_handshake)
  {
    // A write to a client that has gone raises SIGPIPE, which would end the
    // whole run; blocked on this thread, the write fails with EPIPE instead.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);

    pollfd p{acceptor_.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) {
      outcome_ = "no client came";
      return;
    }
    workbook::unique_fd connection(::accept(acceptor_.native_handle(), nullptr, nullptr));
    if (connection.get() < 0) {
      outcome_ = "no client came";
      return;
    }
    timeval const limit{5, 0};
    ::setsockopt(connection.get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    ::setsockopt(connection.get(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    std::unique_ptr<SSL, decltype(&SSL_free)> tls(SSL_new(context_.native_handle()), SSL_free);
    SSL_set_fd(tls.get(), connection.get());
    outcome_ = SSL_accept(tls.get()) == 1 ? after_handshake(tls.get()) : "handshake failed";
    ERR_clear_error();
  }

  ssl::context context_{ssl::context::tls_server};
  net::io_context ioc_;
  tcp::acceptor acceptor_{ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)};
  std::string outcome_;
  std::thread thread_;
};

// Scripts for one_connection_server.
std::string answer_close_notify(SSL* tls)
{
  char bytes[256];
  int n;
  while ((n = SSL_read(tls, bytes, sizeof bytes)) > 0) {}
  if (SSL_get_error(tls, n) != SSL_ERROR_ZERO_RETURN) return "the client closed without close_notify";
  return SSL_shutdown(tls) == 1 ? "close_notify received and answered" : "close_notify received, not answered";
}

std::string send_close_notify(SSL* tls) { return SSL_shutdown(tls) >= 0 ? "close_notify sent" : "shutdown failed"; }

// Refuses every ClientHello as the ingress refuses an unknown name: a fatal
// unrecognized_name alert before any certificate is sent.
int refuse_name(SSL*, int* alert, void*)
{
  *alert = SSL_AD_UNRECOGNIZED_NAME;
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

void refuse_every_name(SSL_CTX* context) { SSL_CTX_set_tlsext_servername_callback(context, refuse_name); }

bool contains(std::string const& text, std::string_view part) { return text.find(part) != std::string::npos; }

} // namespace

TEST_CASE("tls_client: a verified TLS 1.3 handshake reports the server's certificate, then carries requests",
          "[tls_client]")
{
  workbook::test_ca ca;
  auto const identity = ca.issue_server({"a.test", "b.test", "127.0.0.1"});
  auto server = serve(identity);

  workbook::tls_client c(server.port(), trusting(ca, "a.test"));
  auto const& h = c.handshake();
  INFO(h.error);
  REQUIRE(h.completed);
  CHECK(h.error.empty());
  CHECK(h.reason == 0);
  CHECK(h.alert == -1);
  CHECK(h.version == "TLSv1.3");
  CHECK_FALSE(h.resumed);
  CHECK(h.peer_fingerprint == workbook::tls::fingerprint(identity.certificate));
  CHECK(h.peer_subject == "CN=a.test");
  CHECK(h.peer_dns_names == std::vector<std::string>{"a.test", "b.test"});  // the IP entry is no DNS name

  auto const one = c.send({"GET", "/one", {}, ""});
  INFO(one.error);
  CHECK(one.status == 200);
  CHECK(one.body == "/one via a.test");
  CHECK(c.send({"GET", "/two", {}, ""}).body == "/two via a.test");
  CHECK(server.accepted() == 1);  // kept alive
  CHECK(server.requests() == 2);
}

TEST_CASE("tls_client: max_version TLS 1.2 negotiates TLS 1.2", "[tls_client]")
{
  workbook::test_ca ca;
  auto const identity = ca.issue_server({"a.test"});
  auto server = serve(identity);

  workbook::tls_client c(server.port(), trusting(ca, "a.test", TLS1_2_VERSION));
  INFO(c.handshake().error);
  REQUIRE(c.handshake().completed);
  CHECK(c.handshake().version == "TLSv1.2");
  CHECK(c.handshake().peer_fingerprint == workbook::tls::fingerprint(identity.certificate));
  CHECK(c.send({}).body == "/ via a.test");
}

TEST_CASE("tls_client: a certificate from another CA, or for another name, fails verification", "[tls_client]")
{
  workbook::test_ca ca;
  workbook::test_ca stranger("another CA");
  auto const identity = ca.issue_server({"a.test"});
  auto server = serve(identity);

  auto options = trusting(ca, "a.test");
  std::string detail;
  SECTION("another CA")
  {
    options.trusted_ca = stranger.certificate();
    detail = "unable to get local issuer certificate";
  }
  SECTION("another name")
  {
    options.verify_name = "b.test";
    detail = "hostname mismatch";
  }
  workbook::tls_client c(server.port(), options);
  auto const& h = c.handshake();
  INFO(h.error);
  CHECK_FALSE(h.completed);
  CHECK(h.reason == SSL_R_CERTIFICATE_VERIFY_FAILED);
  CHECK(contains(h.error, detail));
  CHECK(h.alert == -1);  // the client sent the alert; none came from the server
  CHECK(h.peer_fingerprint == workbook::tls::fingerprint(identity.certificate));  // recorded all the same
  auto const r = c.send({});
  CHECK(r.status == 0);
  CHECK(contains(r.error, "certificate verify failed"));
}

TEST_CASE("tls_client: with no trusted CA any certificate is accepted, and still recorded", "[tls_client]")
{
  workbook::test_ca stranger("another CA");
  auto const identity = stranger.issue_server({"a.test"});
  auto server = serve(identity);

  workbook::tls_client_options o;
  o.sni = "a.test";
  workbook::tls_client c(server.port(), o);
  INFO(c.handshake().error);
  REQUIRE(c.handshake().completed);
  CHECK(c.handshake().peer_fingerprint == workbook::tls::fingerprint(identity.certificate));
  CHECK(c.send({}).status == 200);
}

TEST_CASE("tls_client: without sni the ClientHello has no server_name", "[tls_client]")
{
  workbook::test_ca ca;
  auto server = serve(ca.issue_server({"a.test"}));

  auto o = trusting(ca, "a.test");
  o.sni.reset();
  workbook::tls_client c(server.port(), o);
  INFO(c.handshake().error);
  REQUIRE(c.handshake().completed);  // the certificate still names a.test
  auto const r = c.send({"GET", "/", {{"Host", "a.test"}}, ""});
  CHECK(r.body == "/ via ");
  auto const log = server.handshake_log();
  REQUIRE(log.size() == 1);
  CHECK(log[0].server_name == "");
}

TEST_CASE("tls_client: a TLS 1.3 session saved after a response resumes, on any number of later clients",
          "[tls_client]")
{
  workbook::test_ca ca;
  auto const identity = ca.issue_server({"a.test"});
  auto server = serve(identity);

  std::shared_ptr<workbook::tls_session const> saved;
  {
    workbook::tls_client first(server.port(), trusting(ca, "a.test"));
    INFO(first.handshake().error);
    REQUIRE(first.handshake().completed);
    CHECK(first.session() == nullptr);  // the tickets follow the handshake: nothing to resume yet (M8)
    REQUIRE(first.send({}).status == 200);
    saved = first.session();
    REQUIRE(saved != nullptr);
  }  // closed without close_notify, which makes OpenSSL mark the connection's session not resumable: saved is a copy

  for (int i = 0; i < 2; ++i) {
    auto o = trusting(ca, "a.test");
    o.resume = saved;
    workbook::tls_client again(server.port(), o);
    INFO("client " << i + 2 << ": " << again.handshake().error);
    REQUIRE(again.handshake().completed);
    CHECK(again.handshake().version == "TLSv1.3");
    CHECK(again.handshake().resumed);
    CHECK(again.handshake().peer_fingerprint == workbook::tls::fingerprint(identity.certificate));
    CHECK(again.send({}).status == 200);
  }
  workbook::tls_client fresh(server.port(), trusting(ca, "a.test"));
  CHECK_FALSE(fresh.handshake().resumed);
}

TEST_CASE("tls_client: a TLS 1.2 session resumes by ticket, and by session id with tickets off", "[tls_client]")
{
  workbook::test_ca ca;
  auto const identity = ca.issue_server({"a.test"});
  auto server = serve(identity);

  auto o = trusting(ca, "a.test", TLS1_2_VERSION);
  bool keep_first_open = false;
  SECTION("ticket") {}
  SECTION("session id")
  {
    // tls_test_server never sends close_notify, and OpenSSL drops a session
    // id from the server's cache when its connection ends without one (M6):
    // the first connection must still be open when the second offers it.
    o.tickets = false;
    keep_first_open = true;
  }

  std::optional<workbook::tls_client> first(std::in_place, server.port(), o);
  INFO(first->handshake().error);
  REQUIRE(first->handshake().completed);
  CHECK(first->session() != nullptr);  // TLS 1.2: complete with the handshake
  REQUIRE(first->send({}).status == 200);
  o.resume = first->session();
  REQUIRE(o.resume != nullptr);
  if (!keep_first_open) first.reset();

  workbook::tls_client again(server.port(), o);
  INFO(again.handshake().error);
  REQUIRE(again.handshake().completed);
  CHECK(again.handshake().version == "TLSv1.2");
  CHECK(again.handshake().resumed);
  CHECK(again.handshake().peer_fingerprint == workbook::tls::fingerprint(identity.certificate));
  CHECK(again.send({}).status == 200);
}

TEST_CASE("tls_client: a fatal alert from the server is reported, with whether a certificate came before it",
          "[tls_client]")
{
  workbook::test_ca ca;
  auto const identity = ca.issue_server({"a.test"});

  SECTION("unrecognized_name, before any certificate")
  {
    int const version = GENERATE(TLS1_3_VERSION, TLS1_2_VERSION);
    one_connection_server server(identity, send_close_notify, refuse_every_name);
    workbook::tls_client c(server.port(), trusting(ca, "zz.test", version));
    auto const& h = c.handshake();
    INFO(h.error);
    CHECK_FALSE(h.completed);
    CHECK(h.reason == SSL_R_TLSV1_UNRECOGNIZED_NAME);
    CHECK(h.alert == 112);
    CHECK(contains(h.error, "alert 112"));
    CHECK(h.peer_fingerprint.empty());
    CHECK(h.peer_dns_names.empty());
    CHECK(c.closed_by_peer(2s));
    CHECK(server.outcome() == "handshake failed");
  }
  SECTION("handshake_failure over TLS 1.2, after the certificate: the server wants a client certificate")
  {
    auto server = serve(identity, ca.certificate());
    workbook::tls_client c(server.port(), trusting(ca, "a.test", TLS1_2_VERSION));
    auto const& h = c.handshake();
    INFO(h.error);
    CHECK_FALSE(h.completed);
    CHECK(h.alert == SSL_AD_HANDSHAKE_FAILURE);  // 40
    CHECK(h.peer_fingerprint == workbook::tls::fingerprint(identity.certificate));
  }
  SECTION("certificate_required over TLS 1.3: it comes after the client's handshake, at the first read")
  {
    auto server = serve(identity, ca.certificate());
    workbook::tls_client c(server.port(), trusting(ca, "a.test"));
    INFO(c.handshake().error);
    CHECK(c.handshake().completed);
    auto const r = c.send({});
    CHECK(r.status == 0);
    CHECK(contains(r.error, "(alert 116 from the server)"));
  }
}

TEST_CASE("tls_client: shutdown() exchanges close_notify with a server that answers it", "[tls_client]")
{
  workbook::test_ca ca;
  auto const identity = ca.issue_server({"a.test"});

  SECTION("a server that answers")
  {
    int const version = GENERATE(TLS1_3_VERSION, TLS1_2_VERSION);
    one_connection_server server(identity, answer_close_notify);
    workbook::tls_client c(server.port(), trusting(ca, "a.test", version));
    INFO(c.handshake().error);
    REQUIRE(c.handshake().completed);
    CHECK(c.shutdown());
    CHECK(server.outcome() == "close_notify received and answered");
  }
  SECTION("tls_test_server closes the connection instead")
  {
    auto server = serve(identity);
    workbook::tls_client c(server.port(), trusting(ca, "a.test"));
    REQUIRE(c.send({}).status == 200);
    auto const start = workbook::clock_type::now();
    CHECK_FALSE(c.shutdown());
    CHECK(workbook::since(start) < 1s);  // the close ends the wait, not the timeout
  }
}

TEST_CASE("tls_client: peer_sent_close_notify tells a close_notify from a bare close", "[tls_client]")
{
  workbook::test_ca ca;
  auto const identity = ca.issue_server({"a.test"});

  SECTION("close_notify")
  {
    one_connection_server server(identity, send_close_notify);
    workbook::tls_client c(server.port(), trusting(ca, "a.test"));
    REQUIRE(c.handshake().completed);
    CHECK(c.peer_sent_close_notify(2s));
    CHECK(c.closed_by_peer(0ms));
    CHECK(server.outcome() == "close_notify sent");
  }
  SECTION("a bare close, after Connection: close")
  {
    auto server = serve(identity);
    workbook::tls_client c(server.port(), trusting(ca, "a.test"));
    REQUIRE(c.send({"GET", "/", {{"Connection", "close"}}, ""}).status == 200);
    CHECK_FALSE(c.peer_sent_close_notify(2s));
    CHECK(c.closed_by_peer(0ms));
  }
  SECTION("no close at all within the time given")
  {
    auto server = serve(identity);
    workbook::tls_client c(server.port(), trusting(ca, "a.test"));
    REQUIRE(c.send({}).status == 200);
    auto const start = workbook::clock_type::now();
    CHECK_FALSE(c.peer_sent_close_notify(100ms));
    CHECK(workbook::since(start) >= 100ms);
    CHECK_FALSE(c.closed_by_peer(0ms));  // closed here
  }
}

TEST_CASE("tls_client: a closed port fails at once, a silent server at the timeout", "[tls_client]")
{
  SECTION("refused")
  {
    workbook::refusing_port refusing;
    auto const start = workbook::clock_type::now();
    workbook::tls_client c(refusing.port(), {});
    CHECK(workbook::since(start) < 1s);
    auto const& h = c.handshake();
    CHECK_FALSE(h.completed);
    CHECK(contains(h.error, "refused"));
    CHECK(c.send({}).status == 0);
    CHECK_FALSE(c.shutdown());
  }
  SECTION("accepted, never answered")
  {
    net::io_context ioc;
    tcp::acceptor silent(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));  // listens, never accepts
    workbook::tls_client_options o;
    o.timeout = 300ms;
    auto const start = workbook::clock_type::now();
    workbook::tls_client c(silent.local_endpoint().port(), o);
    auto const took = workbook::since(start);
    CHECK(took >= 250ms);
    CHECK(took < 2s);
    CHECK_FALSE(c.handshake().completed);
    CHECK(c.handshake().error == "no answer within 300 ms");
  }
}

TEST_CASE("tls::fingerprint is the SHA-256 of the leaf, distinct per issuance", "[tls_client]")
{
  workbook::test_ca ca;
  auto const one = ca.issue_server({"a.test"});
  auto const two = ca.issue_server({"a.test"});
  auto const fp = workbook::tls::fingerprint(one.certificate);
  CHECK(fp.size() == 64);
  CHECK(fp.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(fp == workbook::tls::fingerprint(one.certificate + ca.certificate()));  // the first certificate counts
  CHECK(fp != workbook::tls::fingerprint(two.certificate));
  CHECK_THROWS_AS(workbook::tls::fingerprint("not a certificate"), std::invalid_argument);
}
