// workbook/test_ca.hpp and workbook/tls_test_server.hpp: task 20 asserts on
// what the server records (each handshake's SNI and client certificate) and
// on how a client fails to trust a server, so both rest on these: the
// certificates the CA makes verify against it and only against it, with the
// names they were issued for, and the server records what the client sent.
// workbook/tls_exchange.hpp is the one HTTP exchange task 20's transports
// make over their TLS connections.
#include <workbook/eventually.hpp>
#include <workbook/test_ca.hpp>
#include <workbook/tls_exchange.hpp>
#include <workbook/tls_test_server.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/strand.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <catch2/catch.hpp>

#include <future>
#include <optional>
#include <string>

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace {

// A blocking TLS client for these tests: trusts `ca`, presents `identity`
// when there is one, sends `sni` when not empty and checks the server's
// certificate for `verify_name` when not empty.
struct client {
  net::io_context ioc;
  ssl::context context{ssl::context::tls_client};
  std::optional<ssl::stream<tcp::socket>> stream;

  client(std::string const& ca, workbook::issued_certificate const* identity)
  {
    context.add_certificate_authority(net::buffer(ca));
    context.set_verify_mode(ssl::verify_peer);
    if (identity) {
      context.use_certificate_chain(net::buffer(identity->certificate));
      context.use_private_key(net::buffer(identity->private_key), ssl::context::pem);
    }
  }

  beast::error_code handshake(unsigned short port, std::string const& sni, std::string const& verify_name)
  {
    stream.emplace(ioc, context);
    if (!sni.empty()) SSL_set_tlsext_host_name(stream->native_handle(), sni.c_str());
    if (!verify_name.empty()) stream->set_verify_callback(ssl::host_name_verification(verify_name));
    beast::error_code ec;
    stream->next_layer().connect({net::ip::make_address("127.0.0.1"), port}, ec);
    if (!ec) stream->handshake(ssl::stream_base::client, ec);
    return ec;
  }

  // GET target; the response's body, or what went wrong.
  std::string get(std::string const& target)
  {
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "a.test");
    beast::error_code ec;
    http::write(*stream, req, ec);
    if (ec) return "write: " + ec.message();
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(*stream, buffer, res, ec);
    if (ec) return "read: " + ec.message();
    return res.body();
  }
};

workbook::tls_test_server echo_server(workbook::test_ca const& ca, std::vector<std::string> names)
{
  return workbook::tls_test_server::serving(
      {ca.issue_server(names), ca.certificate()},
      [](workbook::request const& r, workbook::tls_connection const& c) {
        return workbook::response{200, "", {}, r.target + " from " + c.client_subject + " via " + c.server_name, ""};
      });
}

bool verify_failed(beast::error_code ec)
{
  return ec.category() == net::error::get_ssl_category() &&
         ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED;
}

} // namespace

TEST_CASE("tls_test_server records each connection's SNI and client certificate", "[tls]")
{
  workbook::test_ca ca;
  auto server = echo_server(ca, {"a.test", "b.test"});
  auto const alice = ca.issue_client("alice");
  auto const bob = ca.issue_client("bob");

  client a(ca.certificate(), &alice);
  REQUIRE_FALSE(a.handshake(server.port(), "a.test", "a.test"));
  CHECK(a.get("/one") == "/one from CN=alice via a.test");
  CHECK(a.get("/two") == "/two from CN=alice via a.test");

  client b(ca.certificate(), &bob);
  REQUIRE_FALSE(b.handshake(server.port(), "", "b.test"));  // no SNI: the certificate still names b.test
  CHECK(b.get("/three") == "/three from CN=bob via ");

  auto const log = server.handshake_log();
  REQUIRE(log.size() == 2);
  CHECK(log[0].connection == 1);
  CHECK(log[0].server_name == "a.test");
  CHECK(log[0].client_subject == "CN=alice");
  CHECK(log[0].completed);
  CHECK(log[1].connection == 2);
  CHECK(log[1].server_name == "");
  CHECK(log[1].client_subject == "CN=bob");
  auto const served = server.served();
  REQUIRE(served.size() == 3);
  CHECK(served[1].connection == 1);
  CHECK(served[1].target == "/two");
  CHECK(served[2].client_subject == "CN=bob");
  CHECK(server.accepted() == 2);
  CHECK(server.handshakes() == 2);
  CHECK(server.requests() == 3);

  a.stream->next_layer().close();
  CHECK(workbook::eventually([&] { return server.open() == 1; }));
}

TEST_CASE("tls_test_server refuses a client without a certificate, or with another CA's", "[tls]")
{
  workbook::test_ca ca;
  workbook::test_ca stranger("another CA");
  auto server = echo_server(ca, {"a.test"});

  client none(ca.certificate(), nullptr);
  // Under TLS 1.3 the client's side of the handshake may complete before
  // the server has refused it: the refusal then ends the first read.
  if (!none.handshake(server.port(), "a.test", "a.test")) CHECK(none.get("/").rfind("read: ", 0) == 0);
  auto const forged = stranger.issue_client("mallory");
  client other(ca.certificate(), &forged);
  if (!other.handshake(server.port(), "a.test", "a.test")) CHECK(other.get("/").rfind("read: ", 0) == 0);

  REQUIRE(workbook::eventually([&] { return server.failed_handshakes() == 2; }));
  CHECK(server.handshakes() == 0);
  CHECK(server.requests() == 0);
  auto const log = server.handshake_log();
  REQUIRE(log.size() == 2);
  CHECK_FALSE(log[0].completed);
  CHECK(log[0].server_name == "a.test");
  CHECK_FALSE(log[0].error.empty());
}

TEST_CASE("test_ca certificates verify against their CA only, for their names only", "[tls]")
{
  workbook::test_ca ca;
  workbook::test_ca stranger("another CA");
  auto server = echo_server(ca, {"a.test", "127.0.0.1"});
  auto const alice = ca.issue_client("alice");

  client trusting(ca.certificate(), &alice);
  CHECK_FALSE(trusting.handshake(server.port(), "a.test", "127.0.0.1"));  // an IP entry in the SAN

  client wrong_ca(stranger.certificate(), &alice);
  auto const ec = wrong_ca.handshake(server.port(), "a.test", "a.test");
  INFO(ec.message());
  CHECK(verify_failed(ec));

  client wrong_name(ca.certificate(), &alice);
  auto const ec2 = wrong_name.handshake(server.port(), "b.test", "b.test");
  INFO(ec2.message());
  CHECK(verify_failed(ec2));
}

namespace {

// A connected, handshaken tls::stream to `port`, trusting `ca`, presenting `identity`.
struct exchange_client {
  net::io_context ioc;
  ssl::context context{ssl::context::tls_client};
  std::optional<workbook::tls::stream> tls;  // made once the context is complete: an SSL takes its certificate from the context then
  beast::flat_buffer buffer;

  exchange_client(workbook::test_ca const& ca, workbook::issued_certificate const& identity, unsigned short port)
  {
    context.add_certificate_authority(net::buffer(ca.certificate()));
    context.set_verify_mode(ssl::verify_peer);
    context.use_certificate_chain(net::buffer(identity.certificate));
    context.use_private_key(net::buffer(identity.private_key), ssl::context::pem);
    tls.emplace(ioc, context);
    SSL_set_tlsext_host_name(tls->native_handle(), "a.test");
    beast::get_lowest_layer(*tls).connect({net::ip::make_address("127.0.0.1"), port});
    tls->handshake(ssl::stream_base::client);
  }

  static workbook::tls::request_message get(std::string target)
  {
    workbook::tls::request_message m{http::verb::get, target, 11};
    m.set(http::field::host, "a.test");
    return m;
  }
};

} // namespace

TEST_CASE("tls::async_exchange writes the request and reads the response, on the handler's executor", "[tls]")
{
  workbook::test_ca ca;
  auto server = echo_server(ca, {"a.test"});
  exchange_client c(ca, ca.issue_client("alice"), server.port());
  auto strand = net::make_strand(c.ioc);

  for (std::string target : {"/one", "/two"}) {
    auto message = exchange_client::get(target);
    std::optional<std::pair<beast::error_code, workbook::client_response>> result;
    bool on_strand = false;
    workbook::tls::async_exchange(*c.tls, c.buffer, message,
                                  net::bind_executor(strand, [&](beast::error_code ec, workbook::client_response r) {
                                    on_strand = strand.running_in_this_thread();
                                    result.emplace(ec, std::move(r));
                                  }));
    c.ioc.restart();
    c.ioc.run();
    REQUIRE(result);
    INFO(result->first.message());
    CHECK_FALSE(result->first);
    CHECK(result->second.result_int() == 200);
    CHECK(result->second.body() == target + " from CN=alice via a.test");
    CHECK(on_strand);
  }
  CHECK(server.accepted() == 1);  // the buffer and the stream carried over: one connection, kept alive
  CHECK(server.requests() == 2);
}

TEST_CASE("tls::async_exchange is cancelled through the handler's cancellation slot", "[tls]")
{
  workbook::test_ca ca;
  std::promise<void> answer;
  auto answered = answer.get_future().share();
  auto server = workbook::tls_test_server::serving(
      {ca.issue_server({"a.test"}), ca.certificate()}, [answered](workbook::request const&, workbook::tls_connection const&) {
        answered.wait();  // holds the response back until the test has cancelled
        return workbook::response{200, "", {}, "late", ""};
      });
  exchange_client c(ca, ca.issue_client("alice"), server.port());

  net::cancellation_signal cancel;
  auto message = exchange_client::get("/slow");
  std::optional<beast::error_code> result;
  workbook::tls::async_exchange(*c.tls, c.buffer, message,
                                net::bind_cancellation_slot(cancel.slot(), [&](beast::error_code ec, workbook::client_response) {
                                  result = ec;
                                }));
  // Run until the server has the request, so that the read is what is pending.
  while (server.requests() == 0 && c.ioc.run_one_for(1s) > 0) {}
  REQUIRE(server.requests() == 1);
  cancel.emit(net::cancellation_type::terminal);
  c.ioc.run_for(5s);  // returns as soon as the exchange has completed; a slot not wired in waits for the answer
  answer.set_value();
  REQUIRE(result);
  CHECK(*result == net::error::operation_aborted);
}
