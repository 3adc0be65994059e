// Task 08 · what the broken handlers share with the reference: building a
// response, trimming, and telling an integer from anything else. Each
// .cpp file beside this one is a whole handler with ONE mistake in it,
// marked "BROKEN:"; the grader builds your tests against each and expects
// them to fail (README, AC6).
#pragma once

#include "proxy_time.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace task08::broken {

inline response answer(request const& req, http::status status, std::string body)
{
  response res{status, req.version()};
  res.set(http::field::content_type, "text/plain");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

inline std::string_view trimmed(std::string_view s)
{
  constexpr std::string_view space = " \t\r\n";
  auto const first = s.find_first_not_of(space);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(space) - first + 1);
}

inline bool is_integer(std::string_view s)
{
  std::int64_t value = 0;
  auto const last = s.data() + s.size();
  auto const [end, ec] = std::from_chars(s.data(), last, value);
  return ec == std::errc{} && end == last;
}

inline bool is_success(int status)
{
  return http::to_status_class(static_cast<unsigned>(status)) == http::status_class::successful;
}

} // namespace task08::broken
