// The verdict for a student on a terminal: per criterion ✓ or ✗, for a ✗ the
// failing check, the exchange as the test saw it, and a hint.
#pragma once

#include "catalog.hpp"
#include "verdict.hpp"

#include <string>

namespace grader {

struct report_options {
  bool hints = true;
  bool transcripts = true;
  std::size_t max_failures_per_criterion = 2;
};

void print_verdict(task const& t, verdict const& v, report_options const& options);

// "12 test cases, 3 not passing" style one-liner.
std::string summarize(verdict const& v);

} // namespace grader
