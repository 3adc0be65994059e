// The web workbook's pages, as HTML strings: the map of every task and the
// tally, a task's page (its README, the verdict, hints, self-grade, reveal),
// the reference after a pass. Pure functions of the grader's own data
// (catalog, progress records, rubric, verdict), so the pages say what the
// terminal says; every piece of text goes through web::escape.
#pragma once

#include "catalog.hpp"
#include "progress.hpp"
#include "rubric.hpp"
#include "verdict.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace grader::web {

// What this server knows of a task's grading beyond the progress file.
struct live_verdict {
  std::optional<verdict> latest;   // graded while this server ran
  bool building = false;           // being built and run now
};

std::string map_page(catalog const& cat, progress_store const& progress, rubric const& rub);

struct task_view {
  task const& t;
  std::optional<task_record> record;
  live_verdict const& live;
  std::string readme_html;         // render_markdown of the linked README
  bool reference_available = true; // false in a student edition without it
};
std::string task_page(task_view const& view);

// The verdict's section of a task page; also what the live event carries.
std::string verdict_section(task const& t, live_verdict const& live, std::optional<task_record> const& record);

struct reference_view {
  task const& t;
  std::string why_html;
  std::vector<std::pair<std::string, std::string>> sources;   // relative path, text
};
std::string reference_page(reference_view const& view);

// A short page for a refusal or an error.
std::string message_page(std::string_view title, std::string_view text);

// Markdown to HTML with md4c's renderer (GitHub's dialect; raw HTML is shown
// as text, not passed through).
std::string render_markdown(std::string const& markdown);

// One line of Markdown (a criterion, a hint) as inline HTML, without the
// paragraph around it.
std::string render_inline_markdown(std::string const& markdown);

// A failure's exchange ("[client 1] > GET / HTTP/1.1" ...) as rows of who
// said what, for the sent / received table.
struct exchange_row {
  std::string side;   // "client 1"
  enum class kind { sent, received, note } what;
  std::string text;   // consecutive lines of the same side and direction, joined
};
std::vector<exchange_row> exchange_rows(std::string const& transcript);
std::string exchange_table(std::string const& transcript);

} // namespace grader::web
