#include "text.hpp"

#include <algorithm>
#include <cctype>
#include <numeric>

namespace grader {

std::string trim(std::string_view s)
{
  auto const first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  auto const last = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(first, last - first + 1));
}

std::vector<std::string> split_lines(std::string_view s)
{
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < s.size()) {
    auto nl = s.find('\n', pos);
    if (nl == std::string_view::npos) nl = s.size();
    std::string_view line = s.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.emplace_back(line);
    pos = nl + 1;
  }
  return lines;
}

std::string indent(std::string_view text, std::string_view prefix)
{
  std::string out;
  for (auto const& line : split_lines(text)) {
    out += prefix;
    out += line;
    out += '\n';
  }
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b)
{
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), 0);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t const up = row[j];
      std::size_t const cost = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                                       std::tolower(static_cast<unsigned char>(b[j - 1]))
                                   ? 0
                                   : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string nearest(std::string_view word, std::vector<std::string> const& candidates)
{
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(3, word.size() / 2) + 1;
  for (auto const& c : candidates) {
    auto const d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

std::string pad(std::string_view s, std::size_t width)
{
  std::size_t columns = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++columns;
  std::string out(s);
  if (columns < width) out.append(width - columns, ' ');
  return out;
}

std::string last_lines(std::string_view text, std::size_t n)
{
  auto lines = split_lines(text);
  std::size_t const start = lines.size() > n ? lines.size() - n : 0;
  std::string out;
  for (std::size_t i = start; i < lines.size(); ++i) out += lines[i] + "\n";
  return out;
}

bool same_tag(std::string_view a, std::string_view b)
{
  auto strip = [](std::string_view t) {
    if (t.size() >= 2 && t.front() == '[' && t.back() == ']') t = t.substr(1, t.size() - 2);
    return t;
  };
  a = strip(a);
  b = strip(b);
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

std::string markup_escaped(std::string_view s)
{
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&#39;"; break;
    default:
      if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') out += '?';
      else out += c;
    }
  }
  return out;
}

} // namespace grader
