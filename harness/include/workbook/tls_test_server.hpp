// An HTTPS server on 127.0.0.1, port 0, on its own thread: test_server's
// keep-alive HTTP/1.1 behind TLS, for tests of TLS clients. It presents the
// certificate it is given, asks every client for a certificate and verifies
// it against `client_ca`, and records each handshake: the name the client
// asked for (SNI), the subject of the certificate it presented, and whether
// the handshake completed. A TLS connection has one handshake, so the log
// says which client identity each TCP connection carried.
//
//   workbook::test_ca ca;
//   auto server = workbook::tls_test_server::serving(
//       {ca.issue_server({"a.tenants.test"}), ca.certificate()},
//       [](workbook::request const& r, workbook::tls_connection const& c) {
//         return workbook::response{200, "", {}, "hello " + c.client_subject, ""};
//       });
//   ... server.handshake_log()[0].server_name == "a.tenants.test"
//
// The handler runs on the server's one thread: one that blocks (a test's
// gate) holds up every other connection until it returns.
#pragma once

#include <workbook/http.hpp>
#include <workbook/test_ca.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace workbook {

// One TLS connection as the server saw its handshake.
struct tls_connection {
  int connection = 0;           // 1, 2, ... in the order the server accepted them
  std::string server_name;      // the SNI the client sent ("" when it sent none)
  std::string client_subject;   // the client certificate's subject, RFC 2253 ("CN=tenant-a"); "" when none
};

struct tls_handshake : tls_connection {
  bool completed = false;       // the handshake succeeded
  std::string error;            // why it did not (OpenSSL's words), when it did not
};

// One request the server read, and the connection it came on.
struct tls_served : tls_connection {
  std::string method;
  std::string target;
};

class tls_test_server {
public:
  struct options {
    issued_certificate identity;   // the server's certificate and key, PEM
    std::string client_ca;         // PEM: every client must present a certificate that chains to it
  };
  using handler = std::function<response(request const&, tls_connection const&)>;

  // Serves HTTP/1.1 with keep-alive over TLS, calling h for each request.
  // An exception escaping h becomes a 500, as in test_server.
  static tls_test_server serving(options o, handler h);

  ~tls_test_server();
  tls_test_server(tls_test_server&&) noexcept;
  tls_test_server& operator=(tls_test_server&&) noexcept;

  unsigned short port() const;     // still answers after stop()

  int accepted() const;            // TCP connections accepted so far
  int open() const;                // connections not yet closed (by either side)
  int handshakes() const;          // handshakes completed so far
  int failed_handshakes() const;   // handshakes that failed (or timed out: 5 s)
  int requests() const;            // requests read so far

  // Every handshake so far, completed or not, in the order they ended.
  std::vector<tls_handshake> handshake_log() const;
  // Every request read so far, in order, with its connection's identity.
  std::vector<tls_served> served() const;

  // Stops accepting and closes every connection; idempotent.
  void stop();

private:
  struct impl;
  explicit tls_test_server(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace workbook
