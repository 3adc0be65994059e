// A certificate authority for tests, made afresh in memory each time one is
// constructed: nothing secret is committed, nothing is written to disk.
// Keys are EC P-256 (fast to make and to sign with); certificates are X.509
// v3, valid from an hour ago for a day, signed with SHA-256. Everything comes
// back as PEM text, which asio::ssl::context takes from a buffer
// (use_certificate_chain, use_private_key, add_certificate_authority).
//
//   workbook::test_ca ca;
//   auto server = ca.issue_server({"a.tenants.test", "127.0.0.1"});
//   auto client = ca.issue_client("tenant-a");
//   ... ca.certificate() is what both sides trust.
//
// Two test_ca objects are two unrelated authorities: a certificate one
// issued does not verify against the other (what a "wrong CA" test needs).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace workbook {

// A certificate and its private key, both PEM.
struct issued_certificate {
  std::string certificate;   // "-----BEGIN CERTIFICATE-----..."
  std::string private_key;   // "-----BEGIN PRIVATE KEY-----..." (PKCS#8)
};

class test_ca {
public:
  // Makes the CA's key and self-signed certificate (basicConstraints CA:TRUE),
  // subject "CN=<common_name>". Throws std::runtime_error if OpenSSL fails.
  explicit test_ca(std::string_view common_name = "workbook test CA");
  ~test_ca();
  test_ca(test_ca&&) noexcept;
  test_ca& operator=(test_ca&&) noexcept;

  // The CA's certificate, PEM: what a peer adds to its trusted authorities.
  std::string const& certificate() const;

  // A server certificate (extendedKeyUsage serverAuth) whose subjectAltName
  // holds each of `names`: an IPv4 or IPv6 address as an IP entry, anything
  // else as a DNS name. The subject is "CN=<first name>".
  issued_certificate issue_server(std::vector<std::string> const& names) const;

  // A client certificate (extendedKeyUsage clientAuth), subject
  // "CN=<common_name>": what a server that asks for one sees as the peer.
  issued_certificate issue_client(std::string_view common_name) const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace workbook
