// Questions the grader asks a student at a terminal, and only there.
#pragma once

#include "rubric.hpp"

#include <optional>
#include <string>

namespace grader {

// A person is at the keyboard: stdin and stdout are terminals.
bool interactive_session();

bool ask_yes_no(std::string const& question);

// The rubric's levels, those above the evidence dimmed, then 0–3 or Enter
// (which keeps `suggestion`); nullopt if the student skips.
std::optional<int> ask_self_grade(rubric const& r, score_decision const& d, std::optional<int> suggestion);

} // namespace grader
