#include "source_view.hpp"
#include "files.hpp"
#include "text.hpp"
#include "web_html.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <regex>

namespace grader::web {

namespace fs = std::filesystem;

std::optional<fs::path> resolve_header(fs::path const& include_dir, std::string_view relative)
{
  if (relative.empty() || relative.front() == '/' || relative.find('\0') != std::string_view::npos) return std::nullopt;
  std::error_code ec;
  fs::path const tree = fs::canonical(include_dir / "boost", ec);
  if (ec) return std::nullopt;
  fs::path const file = fs::canonical(include_dir / fs::path(relative), ec);   // every link and .. resolved
  if (ec || !fs::is_regular_file(file, ec)) return std::nullopt;
  auto const [t, f] = std::mismatch(tree.begin(), tree.end(), file.begin(), file.end());
  if (t != tree.end()) return std::nullopt;   // outside the tree
  auto const ext = file.extension();
  if (ext != ".hpp" && ext != ".ipp" && ext != ".h") return std::nullopt;
  return file;
}

std::string source_page(std::string_view relative, std::string const& text)
{
  std::string body = fmt::format("<header class=\"bar\"><a href=\"/\">workbook</a> · <code>{}</code> "
                                 "<span class=\"dim\">(Boost 1.81, installed; read-only)</span></header>\n"
                                 "<pre class=\"source\">",
                                 markup_escaped(relative));
  int n = 0;
  for (auto const& line : split_lines(text)) {
    ++n;
    body += fmt::format("<span class=\"line\" id=\"L{0}\"><a class=\"ln\" href=\"#L{0}\">{0}</a>{1}\n</span>", n,
                        markup_escaped(line));
  }
  body += "</pre>";
  return page(std::string(relative), body);
}

namespace {

// The first line of code that `pattern` matches, looking past comments
// (Beast's /** ... */ blocks have no leading '*'), preprocessor lines and
// string literals; 0 when none does.
int first_code_line(std::string const& text, std::regex const& pattern)
{
  static std::regex const literal(R"("([^"\\]|\\.)*")");
  bool in_comment = false;
  int n = 0;
  for (auto const& line : split_lines(text)) {
    ++n;
    std::string code = line;
    if (in_comment) {
      std::size_t const end = code.find("*/");
      if (end == std::string::npos) continue;
      code.erase(0, end + 2);
      in_comment = false;
    }
    code = std::regex_replace(code, literal, "\"\"");
    std::size_t const line_comment = code.find("//"), open = code.find("/*");
    if (open < line_comment) in_comment = code.find("*/", open + 2) == std::string::npos;
    if (std::size_t const cut = std::min(open, line_comment); cut != std::string::npos) code.resize(cut);
    if (trim(code).starts_with("#")) continue;
    if (std::regex_search(code, pattern)) return n;
  }
  return 0;
}

} // namespace

int line_of(std::string const& text, std::string_view symbol)
{
  // "basic_parser::put", "async_accept(executor, handler)", "transfer_op"
  static std::regex const name(R"(^([A-Za-z_]\w*)(::([A-Za-z_]\w*))?)");
  std::string const s(trim(symbol));
  std::smatch m;
  if (!std::regex_search(s, m, name)) return 0;
  if (m[3].matched) {
    // A member: its definition, in Beast's style the name opening a line
    // ("put(net::const_buffer ..."), or written qualified ("basic_parser<...>::put(").
    std::regex const definition("^\\s*" + m.str(3) + "\\s*\\(|\\b" + m.str(1) + "(<[^>]*>)?::\\s*" + m.str(3) + "\\s*\\(");
    if (int const line = first_code_line(text, definition)) return line;
  }
  return first_code_line(text, std::regex("\\b" + m.str(1) + "\\b"));
}

std::string link_source_trail(std::string const& markdown, fs::path const& include_dir)
{
  std::size_t const start = markdown.find("\n## Source trail");
  if (start == std::string::npos) return markdown;
  std::size_t const end = markdown.find("\n## ", start + 1);
  std::string trail = markdown.substr(start, end == std::string::npos ? std::string::npos : end - start);
  // `boost/x/y.hpp` · `symbol ...`: the file, then (optionally) what to look for.
  static std::regex const entry(R"(`(boost/[A-Za-z0-9_./]+)`(\s*·\s*`([^`]+)`)?)");
  std::string out;
  auto last = trail.cbegin();
  for (std::sregex_iterator it(trail.begin(), trail.end(), entry), done; it != done; ++it) {
    auto const& m = *it;
    out.append(last, m[0].first);
    last = m[0].second;
    auto const file = resolve_header(include_dir, m[1].str());
    if (!file) {
      out += m.str();
      continue;
    }
    int const line = m[3].matched ? line_of(read_file_or_empty(*file), m[3].str()) : 0;
    std::string const anchor = line > 0 ? fmt::format("#L{}", line) : "";
    out += fmt::format("[`{}`](/source/{}{}){}", m[1].str(), m[1].str(), anchor, m[2].str());
  }
  out.append(last, trail.cend());
  return markdown.substr(0, start) + out + (end == std::string::npos ? "" : markdown.substr(end));
}

} // namespace grader::web
