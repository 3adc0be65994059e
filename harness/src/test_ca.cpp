// workbook::test_ca with the OpenSSL 3 API: a key per certificate
// (EVP_EC_gen), an X509 filled in by hand, its extensions written in
// OpenSSL's configuration syntax ("critical,CA:TRUE") so that they read as
// they would in an openssl.cnf, and PEM out through memory BIOs.
#include <workbook/test_ca.hpp>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <atomic>
#include <cstdint>
#include <stdexcept>

namespace workbook {

namespace {

// OpenSSL objects owned the C++ way.
struct key_free { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
struct x509_free { void operator()(X509* p) const { X509_free(p); } };
struct bio_free { void operator()(BIO* p) const { BIO_free(p); } };
struct ext_free { void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); } };
using key_ptr = std::unique_ptr<EVP_PKEY, key_free>;
using x509_ptr = std::unique_ptr<X509, x509_free>;
using bio_ptr = std::unique_ptr<BIO, bio_free>;
using ext_ptr = std::unique_ptr<X509_EXTENSION, ext_free>;

[[noreturn]] void fail(std::string const& what)
{
  char reason[256] = "no OpenSSL error queued";
  if (unsigned long const e = ERR_get_error()) ERR_error_string_n(e, reason, sizeof reason);
  ERR_clear_error();
  throw std::runtime_error("test_ca: " + what + ": " + reason);
}

key_ptr new_key()
{
  key_ptr key(EVP_EC_gen("P-256"));
  if (!key) fail("EVP_EC_gen(P-256)");
  return key;
}

std::string pem_of(X509* cert)
{
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) fail("PEM_write_bio_X509");
  char* data = nullptr;
  long const size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::string pem_of(EVP_PKEY* key)
{
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    fail("PEM_write_bio_PrivateKey");
  char* data = nullptr;
  long const size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

void add_extension(X509* cert, X509* issuer, int nid, std::string const& value)
{
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ext_ptr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) fail(std::string("extension ") + OBJ_nid2sn(nid) + " = " + value);
}

// A certificate for `key`, subject CN=common_name, with its validity and
// serial filled in; the issuer's name and the signature are the caller's.
x509_ptr new_certificate(EVP_PKEY* key, std::string_view common_name, std::uint64_t serial)
{
  x509_ptr cert(X509_new());
  if (!cert) fail("X509_new");
  std::string const cn(common_name);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), serial) != 1 ||
      !X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60 * 60) ||
      !X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 60 * 60) ||
      X509_set_pubkey(cert.get(), key) != 1 ||
      X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, reinterpret_cast<unsigned char const*>(cn.c_str()), -1,
                                 -1, 0) != 1)
    fail("filling in the certificate for " + cn);
  return cert;
}

bool is_ip_address(std::string const& name)
{
  unsigned char buf[16];
  return ::inet_pton(AF_INET, name.c_str(), buf) == 1 || ::inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

} // namespace

struct test_ca::impl {
  key_ptr key;
  x509_ptr cert;
  std::string pem;
  mutable std::atomic<std::uint64_t> next_serial{2};

  // A leaf certificate signed by this CA.
  issued_certificate issue(std::string_view common_name, std::string const& extended_usage,
                           std::string const& alt_names) const
  {
    key_ptr leaf_key = new_key();
    x509_ptr leaf = new_certificate(leaf_key.get(), common_name, next_serial++);
    if (X509_set_issuer_name(leaf.get(), X509_get_subject_name(cert.get())) != 1) fail("X509_set_issuer_name");
    add_extension(leaf.get(), cert.get(), NID_basic_constraints, "critical,CA:FALSE");
    add_extension(leaf.get(), cert.get(), NID_key_usage, "critical,digitalSignature");
    add_extension(leaf.get(), cert.get(), NID_ext_key_usage, extended_usage);
    add_extension(leaf.get(), cert.get(), NID_subject_key_identifier, "hash");
    add_extension(leaf.get(), cert.get(), NID_authority_key_identifier, "keyid:always");
    if (!alt_names.empty()) add_extension(leaf.get(), cert.get(), NID_subject_alt_name, alt_names);
    if (X509_sign(leaf.get(), key.get(), EVP_sha256()) == 0) fail("X509_sign");
    return {pem_of(leaf.get()), pem_of(leaf_key.get())};
  }
};

test_ca::test_ca(std::string_view common_name) : impl_(std::make_unique<impl>())
{
  impl_->key = new_key();
  impl_->cert = new_certificate(impl_->key.get(), common_name, 1);
  X509* ca = impl_->cert.get();
  if (X509_set_issuer_name(ca, X509_get_subject_name(ca)) != 1) fail("X509_set_issuer_name");
  add_extension(ca, ca, NID_basic_constraints, "critical,CA:TRUE");
  add_extension(ca, ca, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(ca, ca, NID_subject_key_identifier, "hash");
  if (X509_sign(ca, impl_->key.get(), EVP_sha256()) == 0) fail("X509_sign");
  impl_->pem = pem_of(ca);
}

test_ca::~test_ca() = default;
test_ca::test_ca(test_ca&&) noexcept = default;
test_ca& test_ca::operator=(test_ca&&) noexcept = default;

std::string const& test_ca::certificate() const { return impl_->pem; }

issued_certificate test_ca::issue_server(std::vector<std::string> const& names) const
{
  if (names.empty()) throw std::invalid_argument("test_ca::issue_server: no names");
  std::string alt;
  for (auto const& n : names) alt += (alt.empty() ? "" : ",") + std::string(is_ip_address(n) ? "IP:" : "DNS:") + n;
  return impl_->issue(names.front(), "serverAuth", alt);
}

issued_certificate test_ca::issue_client(std::string_view common_name) const
{
  return impl_->issue(common_name, "clientAuth", "");
}

} // namespace workbook
