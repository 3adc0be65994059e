// Reading the workbook's files: one helper, used everywhere.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace grader {

// The whole file; nullopt when it cannot be opened.
std::optional<std::string> read_file(std::filesystem::path const& p);

// The whole file, or "" when it cannot be opened.
std::string read_file_or_empty(std::filesystem::path const& p);

} // namespace grader
