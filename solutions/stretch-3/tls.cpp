// Stretch 3 · reference: the listener's TLS context. One context accepts
// every connection and is never replaced, so its ticket keys and session
// cache outlive every reload (S2). It holds no certificate: its ClientHello
// callback reads the SNI, finds the certificate in the set in service, and
// moves the handshake to that certificate's context, or refuses it (S1).
#include "ingress_impl.hpp"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/tls1.h>

#include <array>
#include <optional>

namespace stretch3 {

namespace {

int notes_index()
{
  static int const index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// The host_name of the server_name extension (RFC 6066, section 3), if the
// ClientHello has one. The callback runs before OpenSSL parses extensions,
// so it reads the bytes itself.
std::optional<std::string> sni_of(SSL* ssl)
{
  unsigned char const* data = nullptr;
  std::size_t length = 0;
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &data, &length) != 1 || length < 2)
    return std::nullopt;
  std::size_t const list = (std::size_t{data[0]} << 8) | data[1];
  if (list + 2 != length) return std::nullopt;
  std::size_t at = 2;
  while (at + 3 <= length) {
    auto const type = data[at];
    std::size_t const size = (std::size_t{data[at + 1]} << 8) | data[at + 2];
    at += 3;
    if (at + size > length) return std::nullopt;
    if (type == TLSEXT_NAMETYPE_host_name) return std::string(reinterpret_cast<char const*>(data + at), size);
    at += size;
  }
  return std::nullopt;
}

// A session is bound to its name, not to a certificate or a set: two names
// never share a session id context (RFC 6066, section 3), and a name's
// sessions survive a reload that replaced its certificate.
std::array<unsigned char, 32> session_context_of(std::string const& name)
{
  std::array<unsigned char, 32> digest{};
  unsigned int size = 0;
  EVP_Digest(name.data(), name.size(), digest.data(), &size, EVP_sha256(), nullptr);
  return digest;
}

int on_client_hello(SSL* ssl, int* alert, void* arg)
{
  auto& self = *static_cast<ingress::impl*>(arg);
  auto* notes = static_cast<handshake_notes*>(SSL_get_ex_data(ssl, notes_index()));
  auto name = sni_of(ssl);
  if (!name) name = self.options.no_sni_name;
  // One set for the whole handshake (D3): taken once, here.
  auto const set = self.current_set();
  ssl::context* chosen = name ? set->find(*name) : nullptr;
  if (!chosen) {
    if (notes) notes->refused_name = true;
    *alert = SSL_AD_UNRECOGNIZED_NAME;
    return SSL_CLIENT_HELLO_ERROR;
  }
  auto const lower = to_lower(*name);
  // The connection holds a reference to the context from here on, so a
  // reload may drop the set while the connection lives.
  SSL_set_SSL_CTX(ssl, chosen->native_handle());
  auto const id = session_context_of(lower);
  SSL_set_session_id_context(ssl, id.data(), static_cast<unsigned int>(id.size()));
  if (notes) notes->server_name = lower;
  return SSL_CLIENT_HELLO_SUCCESS;
}

} // namespace

void attach_notes(SSL* ssl, handshake_notes* notes) { SSL_set_ex_data(ssl, notes_index(), notes); }

std::unique_ptr<ssl::context> make_listener_context(ingress::impl& self)
{
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  auto* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  // A renegotiation's ClientHello would meet the switched context, which
  // has no callback: keep it off (OpenSSL 3.0's default, said out loud).
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_SERVER);
  SSL_CTX_set_client_hello_cb(native, on_client_hello, &self);
  return context;
}

} // namespace stretch3
