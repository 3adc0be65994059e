// The student's verbs: list, grade, hint, reveal, reset, tally. (watch and
// selftest have files of their own.)
#include "edition.hpp"
#include "files.hpp"
#include "grade.hpp"
#include "pristine.hpp"
#include "progress.hpp"
#include "prompts.hpp"
#include "report_json.hpp"
#include "report_terminal.hpp"
#include "rubric.hpp"
#include "scoring.hpp"
#include "standing.hpp"
#include "student_actions.hpp"
#include "terminal.hpp"
#include "text.hpp"
#include "verbs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>

namespace grader {

namespace fs = std::filesystem;

namespace {

progress_store open_progress(context const& ctx) { return grader::open_progress(ctx.paths.state_dir()); }

int report_unsound(task const& t)
{
  std::fprintf(stderr, "grader: %s is incomplete:\n", t.id.c_str());
  for (auto const& p : t.problems)
    std::fprintf(stderr, "  %s: %s\n    fix: %s\n", p.file.c_str(), p.what.c_str(), p.fix.c_str());
  return exit_usage;
}

void show_verdict(task const& t, verdict const& v, verb_options const& options)
{
  report_options ro;
  if (options.verbose) ro.max_failures_per_criterion = 100;
  print_verdict(t, v, ro);
  if (options.full_log && !v.log.empty()) {
    std::printf("\n%s\n", term::dim("--- full log: " + v.log).c_str());
    std::fputs(read_file_or_empty(v.log).c_str(), stdout);
  }
}

} // namespace

// ---------------------------------------------------------------- list

int cmd_list(context const& ctx, task const*, verb_options const&)
{
  auto const progress = open_progress(ctx);
  std::printf("%s\n\n", term::bold("Beast HTTP workbook").c_str());
  std::printf("    %s %s %s %s %s\n", pad("task", 10).c_str(), pad("level", 7).c_str(), pad("tests", 6).c_str(),
              pad("score", 5).c_str(), "title");
  std::string const next = next_task(ctx.cat, progress);
  for (auto const& t : ctx.cat.tasks()) {
    auto const record = progress.get(t.id);
    bool const passed = record && record->verdict == "passed";
    std::string mark = term::dim(std::string(term::dot()));
    if (passed) mark = term::green(std::string(term::tick()));
    else if (record) mark = term::red(std::string(term::cross()));
    std::string const tests = record ? fmt::format("{}/{}", record->criteria_passed, record->criteria_total) : "";
    std::string const score = record && record->score ? std::to_string(*record->score) : "·";
    std::string title = t.title;
    if (!t.sound()) title += term::yellow("  (incomplete: grader check says why)");
    std::printf("  %s %s %s %s %s %s\n", mark.c_str(), pad(t.id, 10).c_str(), pad(t.difficulty, 7).c_str(),
                pad(tests, 6).c_str(), pad(score, 5).c_str(), title.c_str());
  }
  if (ctx.cat.tasks().empty()) std::printf("  (no tasks found under %s)\n", (ctx.paths.root / "exercises").c_str());
  if (!next.empty()) std::printf("\nNext: grader %s   (read exercises/%s/README.md first)\n", next.c_str(), next.c_str());
  else if (!ctx.cat.tasks().empty()) std::printf("\nEvery task passes. `grader tally` adds up your scores.\n");
  return exit_pass;
}

// ---------------------------------------------------------------- grade

int cmd_grade(context const& ctx, task const* task, verb_options const& options)
{
  auto const& t = *task;
  if (!t.sound()) return report_unsound(t);
  if (options.reference && refused_without_reference(ctx.paths.root, &t, "grade --reference")) return exit_fail;
  if (!options.reference) keep_pristine_copy(ctx.paths, t);
  auto const v = grade(ctx.paths, t, options.reference ? "reference" : "stub");
  if (!options.json) show_verdict(t, v, options);

  // The rubric counts the student's own runs only, never the reference's, and
  // not a run the workbook itself broke.
  std::optional<rubric_outcome> rubric;
  if (!options.reference && v.result != verdict::outcome::workbook_broken)
    rubric = record_run(ctx.paths, t, v, options.ask_self_grade && !options.json && interactive_session());

  if (options.json) {
    auto json = to_json(v);
    if (rubric) json["rubric"] = to_json(*rubric);
    std::cout << json.dump(2) << "\n";
  } else if (rubric && score_of(v).passed) {
    print_rubric(t, *rubric);
  }
  if (v.result == verdict::outcome::workbook_broken) return exit_usage;
  return score_of(v).passed ? exit_pass : exit_fail;
}

// ---------------------------------------------------------------- hint

int cmd_hint(context const& ctx, task const* task, verb_options const& options)
{
  auto const& t = *task;
  if (t.hints.empty()) {
    std::printf("%s has no hints.\n", t.id.c_str());
    return exit_pass;
  }
  auto print = [&](int i) {
    auto const& h = t.hints[static_cast<std::size_t>(i)];
    std::printf("%s %s\n  %s\n", term::bold(fmt::format("Hint {} of {}", i + 1, t.hints.size())).c_str(),
                term::dim("(" + h.criterion + ")").c_str(), h.text.c_str());
  };
  int const n = static_cast<int>(t.hints.size());
  if (options.all) {
    take_all_hints(ctx.paths, t);
    for (int i = 0; i < n; ++i) print(i);
    return exit_pass;
  }
  auto const next = take_next_hint(ctx.paths, t);
  if (!next) {
    std::printf("All %d hints of %s have been shown: `grader hint %s --all` lists them again.\n", n, t.id.c_str(),
                t.id.c_str());
    return exit_pass;
  }
  print(*next);
  auto const r = open_progress(ctx).get(t.id).value_or(task_record{});
  int const left = n - static_cast<int>(r.hints_shown.size());
  if (left > 0) std::printf("\n%s\n", term::dim(fmt::format("{} more: run `grader hint {}` again.", left, t.id)).c_str());
  return exit_pass;
}

// ---------------------------------------------------------------- reveal

int cmd_reveal(context const& ctx, task const* task, verb_options const& options)
{
  auto const& t = *task;
  if (refused_without_reference(ctx.paths.root, &t, "reveal")) return exit_fail;
  auto const d = record_reveal(ctx.paths, t, options.force);
  auto const& r = d.record;
  if (!d.allowed) {
    std::printf("%s does not pass yet%s. The reference and its reasoning are shown once your code passes:\n"
                "working it out is the exercise. `grader hint %s` helps one step at a time.\n"
                "`grader reveal %s --force` shows it now and caps this task's score at 0.\n",
                t.id.c_str(), r.verdict.empty() ? " (not graded yet)" : fmt::format(" (last run: {}/{} criteria)", r.criteria_passed, r.criteria_total).c_str(),
                t.id.c_str(), t.id.c_str());
    return exit_fail;
  }

  std::printf("%s\n\n", term::bold(t.id + " · " + t.title + " · the reference").c_str());
  std::fputs(read_file_or_empty(t.solution_dir / "WHY.md").c_str(), stdout);
  for (auto const& s : reference_sources(t)) {
    std::printf("\n%s\n\n", term::bold("── " + fs::relative(s, ctx.paths.root).string() + " ──").c_str());
    std::fputs(read_file_or_empty(s).c_str(), stdout);
  }
  if (d.before_pass) std::printf("\n%s\n", term::yellow("Recorded: revealed before a pass; this task scores 0.").c_str());
  return exit_pass;
}

// ---------------------------------------------------------------- reset

int cmd_reset(context const& ctx, task const* task, verb_options const& options)
{
  auto const& t = *task;
  bool const yes = options.yes;
  std::vector<std::pair<fs::path, std::string>> changes;
  for (auto const& file : stub_files(t)) {
    auto original = original_of(ctx.paths, t, file);
    if (!original) {
      std::fprintf(stderr, "grader: no original of %s: it is not in git and the grader kept no copy.\n",
                   fs::relative(file, ctx.paths.root).c_str());
      return exit_fail;
    }
    if (*original != read_file_or_empty(file)) changes.emplace_back(file, std::move(*original));
  }
  if (changes.empty()) {
    std::printf("%s is as it was shipped; nothing to reset.\n", t.id.c_str());
    return exit_pass;
  }
  std::string list;
  for (auto const& [file, _] : changes) list += "  " + fs::relative(file, ctx.paths.root).string() + "\n";
  fs::path const backup = ctx.paths.state_dir() / "backup" / (t.id + "-" + now_iso8601());
  std::printf("These files will be restored to the original stub (NOTES.md is not touched):\n%s"
              "Your versions are kept in %s.\n",
              list.c_str(), fs::relative(backup, ctx.paths.root).c_str());
  if (!yes) {
    if (!interactive_session()) {
      std::fprintf(stderr, "grader: not on a terminal; run `grader reset %s --yes` to confirm.\n", t.id.c_str());
      return exit_usage;
    }
    if (!ask_yes_no("Reset " + t.id + "?")) {
      std::printf("Nothing changed.\n");
      return exit_fail;
    }
  }
  fs::create_directories(backup);
  for (auto const& [file, original] : changes) {
    fs::copy_file(file, backup / file.filename(), fs::copy_options::overwrite_existing);
    fs::path tmp = file;
    tmp += ".grader-reset";
    std::ofstream(tmp, std::ios::binary) << original;
    fs::rename(tmp, file);
  }
  std::printf("Reset %s. `grader %s` to start again.\n", t.id.c_str(), t.id.c_str());
  return exit_pass;
}

// ---------------------------------------------------------------- tally

namespace {

// One line of the tally per task: its recorded score, or why there is none.
void print_tally_row(task const& t, std::optional<task_record> const& r, std::size_t title_width)
{
  std::string score = "·";
  std::string note;
  if (r && r->score) {
    score = std::to_string(*r->score);
    if (!r->cap_reason.empty()) note = "capped: " + r->cap_reason;
  } else if (r && r->verdict == "passed") {
    note = "passes; no self-grade yet ('Self-grade: N' in NOTES.md)";
  } else if (r) {
    note = fmt::format("{}/{} criteria pass", r->criteria_passed, r->criteria_total);
  }
  std::printf("  %s %s  %s %s\n", pad(t.id, 10).c_str(), pad(score, 3).c_str(), pad(t.title, title_width).c_str(),
              term::dim(note).c_str());
}

} // namespace

// The tasks add up to the rubric's total and its bands; the stretch
// challenges, beyond the curriculum, are tallied on a line of their own.
int cmd_tally(context const& ctx, task const*, verb_options const&)
{
  rubric rub;
  try {
    rub = load_rubric(ctx.paths.root / "rubric.md");
  } catch (std::exception const& e) {
    std::fprintf(stderr, "grader: %s\n", e.what());
    return exit_usage;
  }
  auto const progress = open_progress(ctx);
  std::printf("%s\n\n", term::bold("Tally").c_str());
  std::size_t title_width = 0;   // the notes line up after the longest title
  for (auto const& t : ctx.cat.tasks()) title_width = std::max(title_width, t.title.size());
  auto const sum = tally_of(ctx.cat, progress);
  int const total = sum.total, tasks = sum.tasks;
  for (auto const& t : ctx.cat.tasks())
    if (!is_stretch_id(t.id)) print_tally_row(t, progress.get(t.id), title_width);
  std::printf("\nTotal: %s of %d", term::bold(std::to_string(total)).c_str(), 3 * tasks);
  if (tasks != 20) std::printf(" (this edition has %d of the curriculum's 20 tasks; the bands below are for 60)", tasks);
  std::printf("\n\n");
  for (auto const& b : rub.bands) {
    bool const here = total >= b.low && total <= b.high;
    std::string const line = fmt::format("{} {:>2}–{:<2}  {}", here ? "→" : " ", b.low, b.high, b.standing);
    std::printf("  %s\n", here ? term::bold(line).c_str() : term::dim(line).c_str());
    if (here) std::printf("            %s\n", b.next.c_str());
  }
  std::printf("\nAim for more than 50.\n");
  if (sum.stretches > 0) std::printf("\n%s\n\n", term::bold("Stretch challenges (not part of the total)").c_str());
  for (auto const& t : ctx.cat.tasks())
    if (is_stretch_id(t.id)) print_tally_row(t, progress.get(t.id), title_width);
  if (sum.stretches > 0) std::printf("\nStretch: %d of %d\n", sum.stretch_total, sum.stretch_max());
  return exit_pass;
}

} // namespace grader
