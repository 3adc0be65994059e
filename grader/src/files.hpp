// Reading the workbook's files: one helper, used everywhere.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace grader {

// The whole file; nullopt when it cannot be opened.
std::optional<std::string> read_file(std::filesystem::path const& p);

// Writes `text` to a sibling file and renames it over `p`, so a reader sees
// the old file or the new one, never half of one; false when it could not.
// (progress.cpp keeps its own, which also fsyncs and throws.)
bool write_file_atomically(std::filesystem::path const& p, std::string const& text);

// The whole file, or "" when it cannot be opened.
std::string read_file_or_empty(std::filesystem::path const& p);

// The file's SHA-256, 64 hex digits ("" when it cannot be read): what a
// student edition's manifest.json records of each file.
std::string sha256_of_file(std::filesystem::path const& p);

// An exclusive flock on `lock_file` (created, with its directory, if need
// be) for as long as it lives; released when it goes or the process dies,
// however it dies. `on_wait` runs once if another holder makes it wait.
// Without a lock file it can create (a read-only directory), or where the
// file system refuses locks, it goes on unlocked: what it guards then fails
// or succeeds with its own words.
class file_lock {
public:
  explicit file_lock(std::filesystem::path const& lock_file, std::function<void()> const& on_wait = {});
  ~file_lock();
  file_lock(file_lock const&) = delete;
  file_lock& operator=(file_lock const&) = delete;

private:
  int fd_ = -1;
};

} // namespace grader
