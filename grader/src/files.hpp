// Reading the workbook's files: one helper, used everywhere.
#pragma once

#include <filesystem>
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

} // namespace grader
