// One marking, several renderings. Every format takes its numbers from
// score_of (verdict.hpp): a point per required criterion, extra credit for
// bonus ones, so the totals agree whichever format a course reads.
//
//   exercism    Exercism's test-runner results.json, version 3
//   gradescope  Gradescope's results.json: a test per criterion
//   junit       JUnit XML as GitLab and GitHub read it: a testsuite per task,
//               a testcase per test case
//   json        the grader's own: every verdict whole (docs/verdict.schema.json)
#pragma once

#include "mark.hpp"

#include <array>
#include <string>
#include <string_view>

namespace grader {

inline constexpr std::array<std::string_view, 4> mark_formats{"exercism", "gradescope", "junit", "json"};

std::string render_marking(marking const& m, std::string_view format);

// The text of a test's output as a format may carry it: at most `limit`
// bytes, head and tail kept around a "[N bytes elided]" line, so that the
// failure (usually at the end) is never the part lost.
std::string bounded_output(std::string const& text, std::size_t limit);

} // namespace grader
