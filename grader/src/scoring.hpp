// Recording a graded run of the student's code: the verdict into the
// progress file, and the rubric's score, the self-grade (asked at a
// terminal, or read from NOTES.md) capped by the evidence.
#pragma once

#include "catalog.hpp"
#include "paths.hpp"
#include "rubric.hpp"
#include "verdict.hpp"

#include <nlohmann/json.hpp>

#include <optional>

namespace grader {

struct rubric_outcome {
  score_decision decision;
  std::optional<int> self_grade;
};

// may_ask: a passing run may ask for the self-grade (a person at a terminal).
rubric_outcome record_run(workbook_paths const& paths, task const& t, verdict const& v, bool may_ask);

// A self-grade given after a pass (the web workbook's form; the terminal asks
// in record_run): capped by the evidence and recorded. nullopt, recording
// nothing, when the task's latest run did not pass.
std::optional<rubric_outcome> record_self_grade(workbook_paths const& paths, task const& t, int self_grade);

nlohmann::json to_json(rubric_outcome const& r);

// "Rubric: you said 3; recorded 1, because ..." after a passing run.
void print_rubric(task const& t, rubric_outcome const& r);

} // namespace grader
