// Task 08 · reference handler.
//
// Everything the handler knows about the world arrives through its
// constructor: where the upstream is and how to talk to it. That is the
// whole trick that makes it testable: a test builds one pointed at a
// test_server on 127.0.0.1 and an unused port, and nothing else in the
// program has to know.
//
// The order of the checks is the order in which the upstream's answer can
// go wrong: no answer at all, an answer that is not a success, a success
// whose body is not what a time service sends. Each is a 502 of its own
// (the body says which), because each is the upstream's failure, not the
// client's: 502 Bad Gateway is "I am a gateway and what is behind me
// answered badly, or not at all".
#include "proxy_time.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

#include <charconv>
#include <cstdint>
#include <string_view>

namespace task08 {

namespace {

response answer(request const& req, http::status status, std::string body)
{
  response res{status, req.version()};
  res.set(http::field::content_type, "text/plain");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

// The upstream writes "1700000000\n"; a line ending is not part of the time.
std::string_view trimmed(std::string_view s)
{
  constexpr std::string_view space = " \t\r\n";
  auto const first = s.find_first_not_of(space);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(space) - first + 1);
}

// A decimal integer and nothing else. from_chars stops at the first
// character that is not a digit and reports success for what it read, so
// "42 s" parses as 42: only `end == last` says the whole text was a number.
// (It also refuses "", "+42" and "0x10", and reports a value that does not
// fit in 64 bits as an error.)
bool is_integer(std::string_view s)
{
  std::int64_t value = 0;
  auto const last = s.data() + s.size();
  auto const [end, ec] = std::from_chars(s.data(), last, value);
  return ec == std::errc{} && end == last;
}

} // namespace

response proxy_time::operator()(request const& req) const
{
  // The configured base URL, as given, plus the one path this service has.
  auto const reply = client_.get(upstream_ + "/now");

  if (reply.error)
    return answer(req, http::status::bad_gateway,
                  "time upstream unreachable: " + reply.error.message() + "\n");

  // Any status but 2xx is a failure, whatever the body says: a 500 page may
  // well contain digits, and a 404 from the wrong path certainly can.
  if (http::to_status_class(static_cast<unsigned>(reply.status)) != http::status_class::successful)
    return answer(req, http::status::bad_gateway,
                  "time upstream answered " + std::to_string(reply.status) + "\n");

  auto const value = trimmed(reply.body);
  if (!is_integer(value))
    return answer(req, http::status::bad_gateway, "time upstream sent no integer\n");

  return answer(req, http::status::ok, "now: " + std::string(value));
}

} // namespace task08
