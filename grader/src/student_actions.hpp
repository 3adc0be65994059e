// The rules of the student's actions that change the progress file: hints
// one at a time, the reference only after a pass. The terminal verbs
// (student_verbs.cpp) and the web workbook (web_routes.cpp) both call these,
// so the two never disagree; each is one locked update (update_record).
#pragma once

#include "catalog.hpp"
#include "paths.hpp"
#include "progress.hpp"

#include <optional>
#include <vector>

namespace grader {

// The first hint not shown yet, recorded as shown; nullopt when every hint
// has been (or the task has none).
std::optional<int> take_next_hint(workbook_paths const& paths, task const& t);

// Records every hint as shown (`grader hint --all`).
void take_all_hints(workbook_paths const& paths, task const& t);

// May the reference be shown? After a pass always; before one only with
// `force`, which caps the task's score at 0. Records the reveal when it may.
struct reveal_decision {
  bool allowed = false;
  bool before_pass = false;   // allowed by force: the score is now 0
  task_record record;         // as it stands after the decision
};
reveal_decision record_reveal(workbook_paths const& paths, task const& t, bool force);

// The reference's sources (solutions/<id>/*.cpp, *.hpp), sorted: what a
// reveal shows after WHY.md.
std::vector<std::filesystem::path> reference_sources(task const& t);

} // namespace grader
