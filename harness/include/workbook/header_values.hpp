// Every value of one field in a plain message's header list, in order: what
// a test needs to see a field sent twice (two Set-Cookie, two
// X-Forwarded-For), where response::header gives only the first.
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

} // namespace workbook
