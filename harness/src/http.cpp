#include <workbook/http.hpp>

#include <algorithm>
#include <cctype>

namespace workbook {

bool iequals(std::string_view a, std::string_view b)
{
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

std::optional<std::string> response::header(std::string_view name) const
{
  for (auto const& [k, v] : headers)
    if (iequals(k, name)) return v;
  return std::nullopt;
}

} // namespace workbook
