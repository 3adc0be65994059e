// What keeps `grader serve` the student's alone: it listens on loopback
// only; every request carries the random token printed with the URL (as
// ?token= on the first visit, then as an HttpOnly, SameSite=Strict cookie);
// the Host header must name 127.0.0.1 or localhost at our port, so a page
// from elsewhere that rebinds its DNS name to 127.0.0.1 is refused; a form
// posted from another origin is refused. Plain functions over strings, so
// the unit tests can try every way in without a socket.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace grader::web {

// 32 random bytes from OpenSSL's RAND_bytes, as 64 hex digits.
std::string new_token();

// Only 127.0.0.1 (or "localhost", which means it) may be bound.
bool is_loopback_address(std::string_view address);

struct security_config {
  std::string token;
  unsigned short port = 0;
};

// The name of the cookie that carries the token; per port, since cookies
// are per host, not per port, and two servers may run at once.
std::string token_cookie_name(unsigned short port);

// What a request offers for the checks.
struct request_credentials {
  std::string host;        // the Host header
  std::string origin;      // the Origin header ("" when absent)
  std::string cookie;      // the Cookie header
  std::string query_token; // ?token=...
  bool unsafe = false;     // a method that changes state (POST)
};

struct refusal {
  unsigned status;         // 421 a Host that is not ours; 403 no or a wrong token, a foreign origin
  std::string why;
};

// nullopt when the request may be served.
std::optional<refusal> check_request(security_config const& config, request_credentials const& r);

// Constant-time comparison: how long it takes says nothing about the token.
bool same_secret(std::string_view a, std::string_view b);

// A request target as Boost.URL reads it (origin-form: "/path?query"): the
// path percent-decoded, the query's parameters decoded ('+' as a space). The
// first of a repeated name wins. nullopt for a target that is not a valid
// origin-form, or whose path decodes to a NUL.
struct request_target {
  std::string path;
  std::map<std::string, std::string> query;
};
std::optional<request_target> parse_target(std::string_view target);

// An application/x-www-form-urlencoded body, decoded the same way; empty
// when it is not a valid query string.
std::map<std::string, std::string> parse_form(std::string_view body);

// The value of one cookie in a Cookie header, or "".
std::string cookie_value(std::string_view header, std::string_view name);

} // namespace grader::web
