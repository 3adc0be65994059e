// Where the student stands, from the progress file: the tally against the
// rubric's total and the task to do next. `grader list`, `grader tally` and
// the web workbook's map all take it from here.
#pragma once

#include "catalog.hpp"
#include "progress.hpp"

#include <string>

namespace grader {

struct tally_sum {
  int total = 0;           // recorded scores of the curriculum's tasks
  int tasks = 0;
  int stretch_total = 0;   // the stretch challenges, tallied apart
  int stretches = 0;
  int max() const { return 3 * tasks; }
  int stretch_max() const { return 3 * stretches; }
};

tally_sum tally_of(catalog const& cat, progress_store const& progress);

// The first task (in the catalog's order) that does not pass yet; "" when
// every one does.
std::string next_task(catalog const& cat, progress_store const& progress);

} // namespace grader
