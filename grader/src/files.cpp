#include "files.hpp"

#include <fstream>
#include <iterator>

namespace grader {

std::optional<std::string> read_file(std::filesystem::path const& p)
{
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

bool write_file_atomically(std::filesystem::path const& p, std::string const& text)
{
  auto const partial = std::filesystem::path(p.string() + ".partial");
  std::error_code ec;
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  {
    std::ofstream out(partial, std::ios::binary);
    out << text;
    if (!out) return false;
  }
  std::filesystem::rename(partial, p, ec);
  return !ec;
}

std::string read_file_or_empty(std::filesystem::path const& p) { return read_file(p).value_or(""); }

} // namespace grader
