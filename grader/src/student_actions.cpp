#include "student_actions.hpp"

#include <algorithm>

namespace grader {

namespace {

bool was_shown(task_record const& r, int i)
{
  return std::find(r.hints_shown.begin(), r.hints_shown.end(), i) != r.hints_shown.end();
}

// A record touched only by hints still needs a verdict to be a record.
void ensure_verdict(task_record& r)
{
  if (r.verdict.empty()) r.verdict = "failed";
}

} // namespace

std::optional<int> take_next_hint(workbook_paths const& paths, task const& t)
{
  if (t.hints.empty()) return std::nullopt;
  std::optional<int> next;
  update_record(paths.state_dir(), t.id, [&](task_record& r) {
    ensure_verdict(r);
    for (int i = 0; i < static_cast<int>(t.hints.size()) && !next; ++i)
      if (!was_shown(r, i)) next = i;
    if (next) r.hints_shown.push_back(*next);
    return next.has_value();
  });
  return next;
}

void take_all_hints(workbook_paths const& paths, task const& t)
{
  update_record(paths.state_dir(), t.id, [&](task_record& r) {
    ensure_verdict(r);
    for (int i = 0; i < static_cast<int>(t.hints.size()); ++i)
      if (!was_shown(r, i)) r.hints_shown.push_back(i);
    return true;
  });
}

reveal_decision record_reveal(workbook_paths const& paths, task const& t, bool force)
{
  reveal_decision d;
  d.record = update_record(paths.state_dir(), t.id, [&](task_record& r) {
    bool const passed = r.verdict == "passed";
    if (!passed && !force) return false;
    d.allowed = true;
    if (!passed) {
      d.before_pass = true;
      r.forced_reveal = true;
      r.score = 0;
      r.cap_reason = "the reference was revealed with --force before your code passed";
      ensure_verdict(r);
    }
    r.revealed = true;
    return true;
  });
  return d;
}

std::vector<std::filesystem::path> reference_sources(task const& t)
{
  std::error_code ec;
  std::vector<std::filesystem::path> sources;
  for (auto const& e : std::filesystem::directory_iterator(t.solution_dir, ec))
    if (e.path().extension() == ".cpp" || e.path().extension() == ".hpp") sources.push_back(e.path());
  std::sort(sources.begin(), sources.end());
  return sources;
}

} // namespace grader
