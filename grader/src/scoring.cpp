#include "scoring.hpp"
#include "files.hpp"
#include "notes.hpp"
#include "pristine.hpp"
#include "progress.hpp"
#include "prompts.hpp"

#include <cstdio>

namespace grader {

namespace {

notes_evidence notes_of(workbook_paths const& paths, task const& t)
{
  return read_notes(read_file_or_empty(t.exercise_dir / "NOTES.md"), notes_template(paths, t));
}

// The claim, capped, into the record: what every way of self-grading stores.
void store_decision(task_record& r, rubric_outcome const& out)
{
  r.self_grade = out.self_grade;
  r.score = out.decision.score;
  r.cap_reason = out.decision.score && *out.decision.score < *out.self_grade ? out.decision.cap_reason : "";
}

} // namespace

rubric_outcome record_run(workbook_paths const& paths, task const& t, verdict const& v, bool may_ask)
{
  auto const sc = score_of(v);
  auto const notes = notes_of(paths, t);
  // The question is asked before the progress file is locked: a student may
  // take a while to answer, and a watch or a browser tab must not wait.
  auto const before = open_progress(paths.state_dir()).get(t.id).value_or(task_record{});
  std::optional<int> answer;
  if (sc.passed && may_ask) {
    try {
      std::optional<int> const claim = notes.self_grade ? notes.self_grade : before.self_grade;
      auto const d = decide_score(true, before.forced_reveal, notes, claim);
      answer = ask_self_grade(load_rubric(paths.root / "rubric.md"), d, claim);
    } catch (std::exception const& e) {
      std::fprintf(stderr, "grader: %s\n", e.what());
    }
  }
  rubric_outcome out;
  update_record(paths.state_dir(), t.id, [&](task_record& r) {
    r.verdict = sc.passed ? "passed" : "failed";
    r.criteria_passed = sc.criteria_passed;
    r.criteria_total = sc.criteria_total;
    r.when = now_iso8601();
    out.self_grade = answer ? answer : notes.self_grade ? notes.self_grade : r.self_grade;
    out.decision = decide_score(sc.passed, r.forced_reveal, notes, out.self_grade);
    store_decision(r, out);
    return true;
  });
  return out;
}

std::optional<rubric_outcome> record_self_grade(workbook_paths const& paths, task const& t, int self_grade)
{
  auto const notes = notes_of(paths, t);
  std::optional<rubric_outcome> out;
  update_record(paths.state_dir(), t.id, [&](task_record& r) {
    if (r.verdict != "passed") return false;   // asked after a pass, as at the terminal
    out.emplace();
    out->self_grade = self_grade;
    out->decision = decide_score(true, r.forced_reveal, notes, self_grade);
    store_decision(r, *out);
    return true;
  });
  return out;
}

nlohmann::json to_json(rubric_outcome const& r)
{
  auto maybe = [](std::optional<int> v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
  return {{"cap", r.decision.cap}, {"cap_reason", r.decision.cap_reason},
          {"self_grade", maybe(r.self_grade)}, {"score", maybe(r.decision.score)}};
}

void print_rubric(task const& t, rubric_outcome const& r)
{
  auto const& d = r.decision;
  if (!r.self_grade)
    std::printf("Rubric: no self-grade yet. Add a line 'Self-grade: N' to exercises/%s/NOTES.md "
                "(the evidence supports up to %d%s).\n",
                t.id.c_str(), d.cap, d.cap < 3 ? ("; " + d.cap_reason).c_str() : "");
  else if (*d.score < *r.self_grade)
    std::printf("Rubric: you said %d; recorded %d, because %s.\n", *r.self_grade, *d.score, d.cap_reason.c_str());
  else
    std::printf("Rubric: recorded %d.\n", *d.score);
}

} // namespace grader
