#include "scoring.hpp"
#include "files.hpp"
#include "notes.hpp"
#include "pristine.hpp"
#include "progress.hpp"
#include "prompts.hpp"

#include <cstdio>

namespace grader {

rubric_outcome record_run(workbook_paths const& paths, task const& t, verdict const& v, bool may_ask)
{
  auto progress = open_progress(paths.state_dir());
  task_record r = progress.get(t.id).value_or(task_record{});
  auto const sc = score_of(v);
  r.verdict = sc.passed ? "passed" : "failed";
  r.criteria_passed = sc.criteria_passed;
  r.criteria_total = sc.criteria_total;
  r.when = now_iso8601();

  auto const notes = read_notes(read_file_or_empty(t.exercise_dir / "NOTES.md"), notes_template(paths, t));
  rubric_outcome out;
  out.self_grade = notes.self_grade ? notes.self_grade : r.self_grade;
  out.decision = decide_score(sc.passed, r.forced_reveal, notes, out.self_grade);
  if (sc.passed && may_ask) {
    try {
      if (auto answer = ask_self_grade(load_rubric(paths.root / "rubric.md"), out.decision, out.self_grade))
        out.self_grade = answer;
      out.decision = decide_score(true, r.forced_reveal, notes, out.self_grade);
    } catch (std::exception const& e) {
      std::fprintf(stderr, "grader: %s\n", e.what());
    }
  }
  r.self_grade = out.self_grade;
  r.score = out.decision.score;
  r.cap_reason = out.decision.score && *out.decision.score < *out.self_grade ? out.decision.cap_reason : "";
  progress.set(t.id, r);
  save_progress(progress);
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
