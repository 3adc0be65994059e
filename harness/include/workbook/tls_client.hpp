// A blocking TLS client for tests: one connection to 127.0.0.1:port, the
// handshake made in the constructor and described afterwards (the version,
// whether a session was resumed, the certificate the server sent, or the
// fatal alert it refused the handshake with), then HTTP/1.1 keep-alive
// requests over it. Every wait is bounded by options.timeout, and every
// exchange is recorded in the transcript, as test_client's are.
//
//   workbook::tls_client c(port, {.sni = "acme.example.test",
//                                 .trusted_ca = edge.certificate(),
//                                 .verify_name = "acme.example.test"});
//   REQUIRE(c.handshake().completed);
//   CHECK(c.handshake().peer_fingerprint == workbook::tls::fingerprint(acme.certificate));
//   CHECK(c.send({}).status == 200);
//   auto saved = c.session();          // after a response: TLS 1.3 tickets follow the handshake
//   c.shutdown();
//   workbook::tls_client again(port, {.sni = "acme.example.test", .resume = saved});
//   CHECK(again.handshake().resumed);
//
// Unlike test_client it never reconnects: a connection is one handshake, and
// the handshake is what a TLS test asserts on.
#pragma once

#include <workbook/http.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace workbook {

// A session to offer to a later handshake: OpenSSL's SSL_SESSION (a copy of
// the connection's, ticket or session id included) and the SNI it was made
// under. Opaque; only tls_client makes and reads one.
struct tls_session;

struct tls_client_options {
  std::optional<std::string> sni;            // nullopt: no server_name extension at all
  std::string trusted_ca;                    // PEM; "": accept any certificate (it is still recorded)
  std::string verify_name;                   // the name the certificate must hold (checked only with trusted_ca)
  int max_version = 0;                       // 0 (OpenSSL's highest), TLS1_2_VERSION or TLS1_3_VERSION
  bool tickets = true;                       // false: SSL_OP_NO_TICKET, so TLS 1.2 resumes by session id
  std::shared_ptr<tls_session const> resume; // offered in the ClientHello when set
  std::chrono::milliseconds timeout{2000};   // bounds every wait: connect, handshake, each read and write
};

struct tls_handshake_info {
  bool completed = false;
  std::string error;                         // why not: OpenSSL's reason, the verify result, a timeout
  int reason = 0;                            // ERR_GET_REASON of the first error: SSL_R_TLSV1_UNRECOGNIZED_NAME...
  int alert = -1;                            // the fatal alert the server sent (reason - SSL_AD_REASON_OFFSET): 112
  std::string version;                       // SSL_get_version: "TLSv1.3", "TLSv1.2"
  bool resumed = false;                      // SSL_session_reused
  std::string peer_fingerprint;              // SHA-256 hex of the leaf's DER; "" if the server sent no certificate
  std::string peer_subject;                  // RFC 2253: "CN=acme.example.test"
  std::vector<std::string> peer_dns_names;   // the leaf's subjectAltName dNSName entries, in order
};

class tls_client {
public:
  // Connects to 127.0.0.1:port and handshakes; never throws for what the
  // server does: handshake() says how it went.
  tls_client(unsigned short port, tls_client_options o);
  ~tls_client();                             // closes abruptly, as close() does
  tls_client(tls_client&&) noexcept;
  tls_client& operator=(tls_client&&) noexcept;

  tls_handshake_info const& handshake() const;

  // One request on this connection (Host defaults to the SNI, else
  // 127.0.0.1:port). Status 0 and an error when there is no handshake, or
  // no response within the timeout; an alert the server sends instead is
  // named in the error ("... (alert 116)").
  response send(request r);

  // The session as of the last response read, or of the handshake for TLS
  // 1.2; nullptr when there is none to resume: a TLS 1.3 session exists only
  // once the tickets sent after the handshake have been read, which a
  // response read does (M8).
  std::shared_ptr<tls_session const> session() const;

  // Sends close_notify and waits for the server's: true when it came within
  // the timeout. The connection is closed afterwards either way.
  bool shutdown();

  // Reads until the server ends the connection (data before that is
  // recorded and dropped). True if it sent close_notify (now or before) within
  // `within`; false if it closed without one, or had not closed by then (the
  // connection is then closed here).
  bool peer_sent_close_notify(std::chrono::milliseconds within);

  // True when the server closes the connection within `within`, with or
  // without close_notify, or had closed it already; false when it is still
  // open then (it is then closed here), or when this side closed it.
  // After a failed handshake it watches the TCP connection itself.
  bool closed_by_peer(std::chrono::milliseconds within);

  // Closes the TCP connection without close_notify.
  void close();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

namespace tls {

// SHA-256 of the DER of the first certificate in `certificate_pem`, as 64
// lower-case hex digits: what tls_handshake_info::peer_fingerprint holds.
// Throws std::invalid_argument if there is no certificate to read.
std::string fingerprint(std::string_view certificate_pem);

} // namespace tls

} // namespace workbook
