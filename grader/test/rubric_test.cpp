#include "rubric.hpp"

#include <catch2/catch.hpp>

using namespace grader;

namespace {

std::string const notes_template = R"(# Task 01 · notes

## Trace

<!-- Walk through the trace of one request, in your words. -->

## Variation

<!-- Change one thing and report what happened. -->

## Cross-cutting concern

<!-- One of: timeouts, observability, security, lifecycle. -->

Self-grade:
)";

std::string words(int n, std::string const& word = "word")
{
  std::string s;
  for (int i = 0; i < n; ++i) s += word + std::to_string(i) + " ";
  return s;
}

std::string filled(int trace, int variation, int concern, std::string const& concern_text, std::string const& self)
{
  return "# Task 01 · notes\n\n## Trace\n\n<!-- prompt -->\n" + words(trace) + "\n\n## Variation\n\n" +
         words(variation) + "\n\n## Cross-cutting concern\n\n" + concern_text + " " + words(concern) + "\n\n" + self + "\n";
}

} // namespace

TEST_CASE("the rubric's levels and bands come from rubric.md", "[rubric]")
{
  auto const r = load_rubric(WORKBOOK_SOURCE_DIR "/rubric.md");
  REQUIRE(r.levels.size() == 4);
  CHECK(r.levels[0].score == 0);
  CHECK(r.levels[3].score == 3);
  CHECK(r.levels[1].takes.find("acceptance test") != std::string::npos);
  REQUIRE(r.bands.size() == 4);
  CHECK(r.bands.front().low == 0);
  CHECK(r.bands.back().high == 60);
  CHECK(band_for(r, 45)->low == 41);
  CHECK(band_for(r, 61) == nullptr);
}

TEST_CASE("a rubric.md without its tables is refused with the file named", "[rubric]")
{
  CHECK(parse_rubric("# nothing here\n").levels.empty());
  CHECK_THROWS_WITH(load_rubric("/nonexistent/rubric.md"), Catch::Contains("/nonexistent/rubric.md"));
}

TEST_CASE("the template's prompts are not the student's words", "[rubric]")
{
  auto const e = read_notes(notes_template, notes_template);
  CHECK(e.trace_words == 0);
  CHECK(e.variation_words == 0);
  CHECK(e.concern_words == 0);
  CHECK(e.concern.empty());
  CHECK_FALSE(e.self_grade.has_value());
}

TEST_CASE("NOTES.md sections are counted and the concern named", "[rubric]")
{
  auto const e = read_notes(filled(30, 26, 16, "Timeouts: a silent client holds a session.", "Self-grade: 3"), notes_template);
  CHECK(e.trace_words == 30);
  CHECK(e.variation_words == 26);
  CHECK(e.concern_words >= 16);
  CHECK(e.concern == "timeouts");
  CHECK(e.self_grade == 3);

  // Copying the template's own sentence into a section earns nothing.
  std::string const copied = "## Trace\nWalk through the trace of one request, in your words.\n";
  CHECK(read_notes(copied, notes_template).trace_words == 0);
}

TEST_CASE("the self-grade is capped by the evidence, and the reason given", "[rubric]")
{
  auto const empty = read_notes(notes_template, notes_template);
  auto const two = read_notes(filled(30, 30, 0, "", ""), notes_template);
  auto const three = read_notes(filled(30, 30, 20, "The lifecycle of a session", ""), notes_template);
  auto const no_concern = read_notes(filled(30, 30, 20, "", ""), notes_template);

  auto d = decide_score(true, false, empty, 2);
  CHECK(d.cap == 1);
  CHECK(d.score == 1);
  CHECK(d.cap_reason.find("Trace") != std::string::npos);

  d = decide_score(true, false, two, 3);
  CHECK(d.cap == 2);
  CHECK(d.score == 2);
  CHECK(d.cap_reason.find("Cross-cutting") != std::string::npos);

  d = decide_score(true, false, no_concern, 3);
  CHECK(d.score == 2);
  CHECK(d.cap_reason.find("names none") != std::string::npos);

  d = decide_score(true, false, three, 3);
  CHECK(d.cap == 3);
  CHECK(d.score == 3);
  CHECK(d.cap_reason.empty());

  CHECK(decide_score(true, false, three, 1).score == 1);      // modesty is kept
  CHECK(decide_score(false, false, three, 3).score == 0);     // tests must pass
  CHECK(decide_score(true, true, three, 3).score == 0);       // revealed with --force
  CHECK_FALSE(decide_score(true, false, three, std::nullopt).score.has_value());
}
