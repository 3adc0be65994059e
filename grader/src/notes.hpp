// NOTES.md, the student's evidence for rubric levels 2 and 3: how many words
// of their own each section holds, which cross-cutting concern it names, and
// the self-grade line.
#pragma once

#include <optional>
#include <string>

namespace grader {

// What NOTES.md shows, section by section.
struct notes_evidence {
  int trace_words = 0;
  int variation_words = 0;
  int concern_words = 0;
  std::string concern;                 // which of the four it names, "" if none
  std::optional<int> self_grade;       // from a "Self-grade: N" line
};

// Words a section needs before it counts as filled in.
inline constexpr int min_words_trace = 25;
inline constexpr int min_words_variation = 25;
inline constexpr int min_words_concern = 15;

// Reads the student's own words: HTML comments (the template's prompts) and
// the template's own text do not count.
notes_evidence read_notes(std::string const& notes, std::string const& template_text = {});

} // namespace grader
