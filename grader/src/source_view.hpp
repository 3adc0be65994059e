// The Boost headers a task's Source trail names, read-only in the browser.
// Only files under the system's Boost (/usr/include/boost, Boost 1.81 from
// Debian) can be read this way: the requested path is resolved with every
// symbolic link followed and must still lie inside that tree.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace grader::web {

// Where the system's headers are; the tree that may be read is its boost/.
inline std::filesystem::path const system_include_dir{"/usr/include"};

// `relative` is the decoded path after /source/ ("boost/asio/write.hpp").
// The canonical file when it is a regular header file inside
// <include_dir>/boost; nullopt for anything else (absolute, .., a symbolic
// link leading out, not there, not a header).
std::optional<std::filesystem::path> resolve_header(std::filesystem::path const& include_dir, std::string_view relative);

// The header's text, a numbered line each with an anchor (#L120).
std::string source_page(std::string_view relative, std::string const& text);

// The line a Source trail entry points at: for `class::member`, the
// member's definition if the file holds one; otherwise the first line of
// code (not a comment, not an #include) naming the symbol's first name; 0
// when there is none.
int line_of(std::string const& text, std::string_view symbol);

// The task README's Source trail with every `boost/...` file it names
// turned into a link to its view, at the line of the symbol after " · ".
std::string link_source_trail(std::string const& markdown, std::filesystem::path const& include_dir);

} // namespace grader::web
