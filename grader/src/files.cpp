#include "files.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <fstream>
#include <iterator>

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

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

file_lock::file_lock(std::filesystem::path const& lock_file, std::function<void()> const& on_wait)
{
  std::error_code ec;
  std::filesystem::create_directories(lock_file.parent_path(), ec);
  fd_ = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0 || ::flock(fd_, LOCK_EX | LOCK_NB) == 0) return;
  if (on_wait) on_wait();
  while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {}
}

file_lock::~file_lock()
{
  if (fd_ >= 0) ::close(fd_);
}

} // namespace grader
