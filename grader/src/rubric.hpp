// The rubric: what each score takes, the evidence the grader can check, and
// the tally bands. rubric.md at the workbook's root is the single source of
// the words; this module reads its two tables and applies the rules.
#pragma once

#include "notes.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace grader {

struct rubric_level {
  int score = 0;
  std::string takes;       // "Your code compiles and passes every acceptance test ..."
  std::string checks;      // "Every criterion ✓ in `grader task-NN` ..."
};

struct tally_band {
  int low = 0, high = 0;   // inclusive, on the 60-point scale
  std::string standing;
  std::string next;
};

struct rubric {
  std::vector<rubric_level> levels;   // 0..3
  std::vector<tally_band> bands;
};

// Reads rubric.md; throws std::runtime_error naming the file and the fix.
rubric load_rubric(std::filesystem::path const& file);
rubric parse_rubric(std::string const& markdown);

struct score_decision {
  int cap = 0;                      // the highest score the evidence supports
  std::string cap_reason;           // why not higher ("" when 3)
  std::optional<int> self_grade;
  std::optional<int> score;         // min(self_grade, cap); none without a self-grade
};

// forced_reveal: the reference was revealed with --force before a pass.
score_decision decide_score(bool tests_pass, bool forced_reveal, notes_evidence const& notes,
                            std::optional<int> self_grade);

// The band a total falls in (on the 60-point scale), or nullptr.
tally_band const* band_for(rubric const& r, int total);

} // namespace grader
