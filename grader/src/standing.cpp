#include "standing.hpp"

namespace grader {

tally_sum tally_of(catalog const& cat, progress_store const& progress)
{
  tally_sum sum;
  for (auto const& t : cat.tasks()) {
    auto const r = progress.get(t.id);
    int const score = r && r->score ? *r->score : 0;
    if (is_stretch_id(t.id)) {
      sum.stretch_total += score;
      ++sum.stretches;
    } else {
      sum.total += score;
      ++sum.tasks;
    }
  }
  return sum;
}

std::string next_task(catalog const& cat, progress_store const& progress)
{
  for (auto const& t : cat.tasks()) {
    auto const r = progress.get(t.id);
    if (!r || r->verdict != "passed") return t.id;
  }
  return "";
}

} // namespace grader
