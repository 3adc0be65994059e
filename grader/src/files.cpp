#include "files.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

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

std::string sha256_of_file(std::filesystem::path const& p)
{
  auto const data = read_file(p);
  if (!data) return {};
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data->data(), data->size(), digest, &size, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

} // namespace grader
