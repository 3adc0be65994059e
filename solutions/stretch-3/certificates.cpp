// Stretch 3 · reference: certificates. Which names a certificate covers
// (name_matches), a directory read into a set all at once or not at all
// (D1, D2), and putting a new set in service, by reload() or by the watcher
// (D3).
#include "ingress_impl.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <system_error>

namespace stretch3 {

namespace fs = std::filesystem;

std::string to_lower(std::string_view s)
{
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// ---------------------------------------------------------------- names

namespace {

bool is_ip_literal(std::string_view s)
{
  if (s.find(':') != std::string_view::npos) return true;  // IPv6, or a port: not a DNS name either way
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

// A DNS name to compare: non-empty labels, no trailing dot, not an address.
bool well_formed(std::string_view name)
{
  if (name.empty() || name.back() == '.' || name.front() == '.' || is_ip_literal(name)) return false;
  return name.find("..") == std::string_view::npos;
}

} // namespace

bool name_matches(std::string_view pattern, std::string_view server_name)
{
  if (!well_formed(pattern) || !well_formed(server_name) || server_name.find('*') != std::string_view::npos)
    return false;
  auto const p = to_lower(pattern);
  auto const n = to_lower(server_name);
  if (p.find('*') == std::string::npos) return p == n;

  // Only "*." + rest, the star the whole left-most label, rest of two labels or more.
  if (p.size() < 2 || p[0] != '*' || p[1] != '.') return false;
  std::string_view const rest = std::string_view(p).substr(2);
  if (rest.find('*') != std::string_view::npos || rest.find('.') == std::string_view::npos) return false;
  auto const dot = n.find('.');
  if (dot == 0 || dot == std::string::npos) return false;
  return std::string_view(n).substr(dot + 1) == rest;
}

ssl::context* certificate_set::find(std::string_view server_name) const
{
  auto const name = to_lower(server_name);
  if (auto it = exact.find(name); it != exact.end()) return it->second.get();
  auto const dot = name.find('.');
  if (dot == std::string::npos) return nullptr;
  if (auto it = wildcards.find(std::string_view(name).substr(dot + 1));
      it != wildcards.end() && name_matches("*." + it->first, name))
    return it->second.get();
  return nullptr;
}

// ---------------------------------------------------------------- one pair

namespace {

template <class T, void (*Free)(T*)>
struct openssl_deleter {
  void operator()(T* p) const { Free(p); }
};
using x509_ptr = std::unique_ptr<X509, openssl_deleter<X509, X509_free>>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_deleter<EVP_PKEY, EVP_PKEY_free>>;
using bio_ptr = std::unique_ptr<BIO, openssl_deleter<BIO, BIO_free_all>>;

std::string read_file(fs::path const& path)
{
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot be read");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bio_ptr memory_bio(std::string const& text)
{
  return bio_ptr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// The leaf's subjectAltName dNSNames, lower case; the CN is not a name (D1).
std::vector<std::string> dns_names(X509* leaf)
{
  std::vector<std::string> names;
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr));
  if (!sans) return names;
  for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
    auto const* entry = sk_GENERAL_NAME_value(sans, i);
    if (entry->type != GEN_DNS) continue;
    auto const* text = entry->d.dNSName;
    names.push_back(to_lower({reinterpret_cast<char const*>(ASN1_STRING_get0_data(text)),
                              static_cast<std::size_t>(ASN1_STRING_length(text))}));
  }
  GENERAL_NAMES_free(sans);
  return names;
}

struct certificate {
  std::string stem;
  std::vector<std::string> names;
  std::shared_ptr<ssl::context> context;
};

// One <stem>.crt + <stem>.key, checked; throws std::runtime_error with the reason.
certificate load_pair(fs::path const& dir, std::string const& stem)
{
  auto const chain = read_file(dir / (stem + ".crt"));
  auto const key_text = read_file(dir / (stem + ".key"));

  auto chain_bio = memory_bio(chain);
  x509_ptr leaf(PEM_read_bio_X509(chain_bio.get(), nullptr, nullptr, nullptr));
  if (!leaf) throw std::runtime_error("the .crt holds no PEM certificate");
  auto key_bio = memory_bio(key_text);
  pkey_ptr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!key) throw std::runtime_error("the .key holds no PEM private key");
  // Checked here, before OpenSSL sees them: loaded key first, a mismatched
  // certificate would silently drop the key and every handshake fail.
  if (X509_check_private_key(leaf.get(), key.get()) != 1)
    throw std::runtime_error("the key in the .key is not the certificate's");
  auto names = dns_names(leaf.get());
  if (names.empty()) throw std::runtime_error("the certificate has no DNS name in its subjectAltName");

  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  context->use_certificate_chain(net::buffer(chain), ec);
  if (!ec) context->use_private_key(net::buffer(key_text), ssl::context::pem, ec);
  if (ec) throw std::runtime_error("OpenSSL refused the pair: " + ec.message());
  return {stem, std::move(names), std::move(context)};
}

// The stems of `dir`'s pairs, and an error for each half of a pair (D1).
std::set<std::string> stems(fs::path const& dir, std::vector<std::string>& errors)
{
  std::set<std::string> crt, key;
  for (auto const& entry : fs::directory_iterator(dir)) {
    auto const name = entry.path().filename().string();
    if (name.starts_with(".") || !entry.is_regular_file()) continue;
    auto const ext = entry.path().extension().string();
    if (ext == ".crt") crt.insert(entry.path().stem().string());
    if (ext == ".key") key.insert(entry.path().stem().string());
  }
  std::set<std::string> both;
  for (auto const& s : crt)
    if (key.count(s)) both.insert(s);
    else errors.push_back(s + ": " + s + ".crt has no " + s + ".key");
  for (auto const& s : key)
    if (!crt.count(s)) errors.push_back(s + ": " + s + ".key has no " + s + ".crt");
  return both;
}

} // namespace

// ---------------------------------------------------------------- a set

loaded load_certificates(fs::path const& dir, std::uint64_t generation)
{
  loaded result;
  std::set<std::string> pairs;
  try {
    pairs = stems(dir, result.errors);
  } catch (fs::filesystem_error const& e) {
    return {nullptr, {dir.string() + ": " + e.code().message()}};
  }
  auto set = std::make_shared<certificate_set>();
  set->generation = generation;
  std::map<std::string, std::string> owner;  // name -> stem, for "a name in two certificates"
  for (auto const& stem : pairs) {
    certificate c;
    try {
      c = load_pair(dir, stem);
    } catch (std::exception const& e) {
      result.errors.push_back(stem + ": " + e.what());
      continue;
    }
    for (auto const& name : c.names) {
      auto [it, fresh] = owner.emplace(name, stem);
      if (!fresh) {
        result.errors.push_back(stem + ": " + name + " is also in " + it->second + ".crt");
        continue;
      }
      if (name.starts_with("*.")) set->wildcards.emplace(name.substr(2), c.context);
      else set->exact.emplace(name, c.context);
      set->names.push_back(name);
    }
    ++set->certificates;
  }
  if (pairs.empty() && result.errors.empty()) result.errors.push_back(dir.string() + ": no certificate (<stem>.crt + <stem>.key)");
  if (!result.errors.empty()) return result;
  std::sort(set->names.begin(), set->names.end());
  result.set = std::move(set);
  return result;
}

std::string directory_listing(fs::path const& dir)
{
  std::vector<std::string> lines;
  std::error_code ec;
  for (auto const& entry : fs::directory_iterator(dir, ec)) {
    auto const name = entry.path().filename().string();
    auto const ext = entry.path().extension().string();
    if (name.starts_with(".") || (ext != ".crt" && ext != ".key")) continue;
    // A file renamed over another keeps neither's inode: the replacement is
    // seen even when its size and time are the same.
    struct ::stat st{};
    if (::stat(entry.path().c_str(), &st) != 0) continue;
    std::ostringstream line;
    line << name << ' ' << st.st_size << ' ' << st.st_mtim.tv_sec << '.' << st.st_mtim.tv_nsec << ' ' << st.st_ino;
    lines.push_back(line.str());
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (auto const& l : lines) out += l + "\n";
  return out;
}

// ---------------------------------------------------------------- reload

std::shared_ptr<certificate_set const> ingress::impl::current_set() const
{
  std::lock_guard lock(set_mutex);
  return set;
}

void ingress::impl::emit(ingress_event const& e) const
{
  if (options.on_event) options.on_event(e);
}

reload_result ingress::impl::reload()
{
  reload_result r;
  {
    std::lock_guard serial(reload_mutex);
    // The listing before the files are read: a change made while they are
    // read shows at the next poll.
    last_listing = directory_listing(options.cert_dir);
    auto const in_service = current_set();
    auto fresh = load_certificates(options.cert_dir, in_service->generation + 1);
    r.errors = std::move(fresh.errors);
    if (fresh.set) {
      std::lock_guard lock(set_mutex);
      set = fresh.set;  // the one step: the next handshake takes this set
      r.applied = true;
    }
    auto const now = r.applied ? fresh.set : in_service;
    r.generation = now->generation;
    r.certificates = now->certificates;
    r.names = now->names;
  }
  emit(r.applied ? ingress_event{ingress_event::kind::reloaded, r.generation, {}, false}
                 : ingress_event{ingress_event::kind::reload_failed, r.generation, r.errors, false});
  return r;
}

// On `control`: one poll per interval, each one `watched`.
net::awaitable<void> ingress::impl::watch()
{
  for (;;) {
    watch_timer.expires_after(options.watch_interval);
    auto [ec] = co_await watch_timer.async_wait(awaitable_tuple);
    if (ec) co_return;  // cancelled: the ingress is stopping
    bool changed = false;
    std::uint64_t generation = 0;
    {
      std::lock_guard serial(reload_mutex);
      changed = directory_listing(options.cert_dir) != last_listing;
      generation = current_set()->generation;
    }
    emit({ingress_event::kind::watched, generation, {}, changed});
    if (changed) reload();
  }
}

} // namespace stretch3
