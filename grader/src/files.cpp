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

std::string read_file_or_empty(std::filesystem::path const& p) { return read_file(p).value_or(""); }

} // namespace grader
