#include "rubric.hpp"
#include "files.hpp"
#include "markdown.hpp"
#include "text.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace grader {

namespace {

// Collects every table of a Markdown document as rows of cell texts.
struct table_walker {
  std::vector<std::vector<std::vector<std::string>>> tables;
  bool in_cell = false;

  static int enter_block(MD_BLOCKTYPE type, void*, void* self)
  {
    auto& w = *static_cast<table_walker*>(self);
    if (type == MD_BLOCK_TABLE) w.tables.emplace_back();
    else if (type == MD_BLOCK_TR && !w.tables.empty()) w.tables.back().emplace_back();
    else if ((type == MD_BLOCK_TH || type == MD_BLOCK_TD) && !w.tables.empty() && !w.tables.back().empty()) {
      w.tables.back().back().emplace_back();
      w.in_cell = true;
    }
    return 0;
  }
  static int leave_block(MD_BLOCKTYPE type, void*, void* self)
  {
    auto& w = *static_cast<table_walker*>(self);
    if (type == MD_BLOCK_TH || type == MD_BLOCK_TD) w.in_cell = false;
    return 0;
  }
  static int enter_span(MD_SPANTYPE type, void*, void* self)
  {
    if (type == MD_SPAN_CODE) static_cast<table_walker*>(self)->add("`");
    return 0;
  }
  static int leave_span(MD_SPANTYPE type, void*, void* self)
  {
    if (type == MD_SPAN_CODE) static_cast<table_walker*>(self)->add("`");
    return 0;
  }
  static int on_text(MD_TEXTTYPE, MD_CHAR const* text, MD_SIZE size, void* self)
  {
    static_cast<table_walker*>(self)->add(std::string_view(text, size));
    return 0;
  }
  void add(std::string_view t)
  {
    if (in_cell && !tables.empty() && !tables.back().empty() && !tables.back().back().empty())
      tables.back().back().back().append(t);
  }
};


} // namespace

rubric parse_rubric(std::string const& markdown)
{
  table_walker w;
  walk_markdown(markdown, w);

  rubric r;
  static std::regex const number(R"(^\s*(\d+)\s*$)");
  static std::regex const range(R"(^\s*(\d+)\s*(?:–|-)\s*(\d+)\s*$)");
  for (auto const& table : w.tables) {
    for (auto const& row : table) {
      if (row.size() < 3) continue;
      std::smatch m;
      if (std::regex_match(row[0], m, number))
        r.levels.push_back({std::stoi(m[1]), trim(row[1]), trim(row[2])});
      else if (std::regex_match(row[0], m, range))
        r.bands.push_back({std::stoi(m[1]), std::stoi(m[2]), trim(row[1]), trim(row[2])});
    }
  }
  return r;
}

rubric load_rubric(std::filesystem::path const& file)
{
  auto const text = read_file(file);
  if (!text)
    throw std::runtime_error(file.string() + " is missing: it holds the rubric's levels and tally bands");
  auto r = parse_rubric(*text);
  if (r.levels.size() != 4 || r.bands.empty())
    throw std::runtime_error(file.string() +
                             ": expected a table of levels 0-3 (first cell the score) and a table of "
                             "tally bands (first cell 'low–high')");
  return r;
}


score_decision decide_score(bool tests_pass, bool forced_reveal, notes_evidence const& n,
                            std::optional<int> self_grade)
{
  score_decision d;
  d.self_grade = self_grade;
  auto words = [](int have, int need) {
    return std::to_string(have) + " word" + (have == 1 ? "" : "s") + " of your own; " + std::to_string(need) + " needed";
  };
  if (forced_reveal) {
    d.cap = 0;
    d.cap_reason = "the reference was revealed with --force before your code passed";
  } else if (!tests_pass) {
    d.cap = 0;
    d.cap_reason = "not every acceptance criterion passes yet";
  } else if (n.trace_words < min_words_trace) {
    d.cap = 1;
    d.cap_reason = "NOTES.md's Trace section is not filled in (" + words(n.trace_words, min_words_trace) + ")";
  } else if (n.variation_words < min_words_variation) {
    d.cap = 1;
    d.cap_reason = "NOTES.md's Variation section is not filled in (" + words(n.variation_words, min_words_variation) + ")";
  } else if (n.concern_words < min_words_concern) {
    d.cap = 2;
    d.cap_reason = "NOTES.md's Cross-cutting concern section is not filled in (" + words(n.concern_words, min_words_concern) + ")";
  } else if (n.concern.empty()) {
    d.cap = 2;
    d.cap_reason = "NOTES.md's Cross-cutting concern names none of timeouts, observability, security, lifecycle";
  } else {
    d.cap = 3;
  }
  if (self_grade) d.score = std::min(*self_grade, d.cap);
  return d;
}

tally_band const* band_for(rubric const& r, int total)
{
  for (auto const& b : r.bands)
    if (total >= b.low && total <= b.high) return &b;
  return nullptr;
}

} // namespace grader
