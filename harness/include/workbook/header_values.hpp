// Reading a plain message's header list as a test of a proxy does: every
// value of one field, in order (two Set-Cookie, two X-Forwarded-For, where
// response::header gives only the first); whether a list-valued field holds
// a token; and the whole list, one field a line, for a failure message.
#pragma once

#include <workbook/http.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace workbook {

// Names compare without regard to case.
inline std::vector<std::string> values_of(header_list const& headers, std::string_view name)
{
  std::vector<std::string> out;
  for (auto const& [k, v] : headers)
    if (iequals(k, name)) out.push_back(v);
  return out;
}

// True when a comma-separated field value (Connection: "keep-alive, Foo")
// has `token` among its tokens, compared without regard to case.
inline bool has_token(std::string_view value, std::string_view token)
{
  while (!value.empty()) {
    auto const comma = value.find(',');
    auto t = value.substr(0, comma);
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    if (iequals(t, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

// "  Name: value\n" for each field.
inline std::string show(header_list const& headers)
{
  std::string out;
  for (auto const& [k, v] : headers) out += "  " + k + ": " + v + "\n";
  return out;
}

} // namespace workbook
