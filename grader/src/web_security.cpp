#include "web_security.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/parse_query.hpp>
#include <boost/url/params_view.hpp>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace grader::web {

std::string new_token()
{
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no random bytes from OpenSSL for the token");
  std::string hex;
  for (unsigned char b : bytes) hex += fmt::format("{:02x}", b);
  return hex;
}

bool is_loopback_address(std::string_view address) { return address == "127.0.0.1" || address == "localhost"; }

std::string token_cookie_name(unsigned short port) { return fmt::format("grader_token_{}", port); }

bool same_secret(std::string_view a, std::string_view b)
{
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

namespace {

std::string lower(std::string_view s)
{
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The Host header as a browser sends it for http://127.0.0.1:PORT/ or
// http://localhost:PORT/: nothing else, not even the same port under
// another name that happens to resolve to 127.0.0.1.
bool our_host(std::string_view host, unsigned short port)
{
  std::string const h = lower(host);
  std::string const p = ":" + std::to_string(port);
  return h == "127.0.0.1" + p || h == "localhost" + p;
}

} // namespace

std::optional<refusal> check_request(security_config const& config, request_credentials const& r)
{
  if (!our_host(r.host, config.port))
    return refusal{421, "this server answers only to Host 127.0.0.1:" + std::to_string(config.port)};
  bool const by_cookie = same_secret(cookie_value(r.cookie, token_cookie_name(config.port)), config.token);
  bool const by_query = same_secret(r.query_token, config.token);
  if (!by_cookie && !by_query)
    return refusal{403, "open the URL `grader serve` printed: it carries the token this server asks for"};
  // A form posted from a page of another origin (the cookie is SameSite=Strict,
  // so a browser would not send it; this is the second lock).
  if (r.unsafe && !r.origin.empty() && !our_host(r.origin.starts_with("http://") ? r.origin.substr(7) : "", config.port))
    return refusal{403, "a form from another origin"};
  return std::nullopt;
}

namespace {

std::map<std::string, std::string> parameters(boost::urls::params_view const& params)
{
  std::map<std::string, std::string> out;
  for (auto const& p : params)
    if (!p.key.empty()) out.emplace(p.key, p.value);   // emplace keeps the first
  return out;
}

boost::urls::encoding_opts const form_encoding{true};   // '+' is a space, as browsers send forms

} // namespace

std::optional<request_target> parse_target(std::string_view target)
{
  auto const url = boost::urls::parse_origin_form(target);
  if (!url) return std::nullopt;
  std::string path = url->path();
  if (path.find('\0') != std::string::npos) return std::nullopt;
  return request_target{std::move(path), parameters(url->params(form_encoding))};
}

std::map<std::string, std::string> parse_form(std::string_view body)
{
  auto const query = boost::urls::parse_query(body);
  if (!query) return {};
  return parameters(boost::urls::params_view(*query, form_encoding));
}

std::string cookie_value(std::string_view header, std::string_view name)
{
  while (!header.empty()) {
    std::size_t const semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name && pair[name.size()] == '=')
      return std::string(pair.substr(name.size() + 1));
  }
  return "";
}

} // namespace grader::web
