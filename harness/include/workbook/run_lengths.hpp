// A long series of outcomes, told briefly for a failure message: equal
// neighbours folded into one ("38 x 200 | 0 (timed out) | 1 x 200"), so a
// test of forty requests says where the odd one was without forty lines.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace workbook {

// `describe` turns one item into the text that is compared and printed.
template <class T, class Describe>
std::string run_lengths(std::vector<T> const& items, Describe describe, std::string const& none = "(none)")
{
  std::string out;
  for (std::size_t i = 0; i < items.size();) {
    auto const text = describe(items[i]);
    std::size_t run = 1;
    while (i + run < items.size() && describe(items[i + run]) == text) ++run;
    if (!out.empty()) out += " | ";
    if (run > 1) out += std::to_string(run) + " x ";
    out += text;
    i += run;
  }
  return out.empty() ? none : out;
}

} // namespace workbook
