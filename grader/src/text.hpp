// Small text utilities the grader's modules share.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace grader {

std::string trim(std::string_view s);
std::vector<std::string> split_lines(std::string_view s);
std::string indent(std::string_view text, std::string_view prefix);
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` (by edit distance), or "" when none is close.
std::string nearest(std::string_view word, std::vector<std::string> const& candidates);

// `s` padded with spaces to `width` columns, counting UTF-8 characters, not bytes.
std::string pad(std::string_view s, std::size_t width);

// Catch2 tags as Catch2 compares them: "[AC1]", "AC1" and "ac1" are the same tag.
bool same_tag(std::string_view a, std::string_view b);

// Text made safe inside HTML or XML, between tags or in a quoted attribute:
// & < > " ' escaped, and the control characters XML 1.0 admits nowhere (even
// escaped) replaced by '?'.
std::string markup_escaped(std::string_view s);

// The last `n` lines of text.
std::string last_lines(std::string_view text, std::size_t n);

} // namespace grader
