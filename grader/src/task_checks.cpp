#include "task_checks.hpp"
#include "build.hpp"
#include "files.hpp"
#include "grade.hpp"
#include "report_terminal.hpp"
#include "terminal.hpp"
#include "text.hpp"

#include <workbook/process.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

namespace fs = std::filesystem;

namespace grader {

void check_log::check(std::string id, bool ok, std::string const& what, std::string const& detail)
{
  records_.push_back({task_, std::move(id), ok, what, ok ? "" : detail});
  std::printf("  %s %s\n", ok ? term::green(std::string(term::tick())).c_str() : term::red(std::string(term::cross())).c_str(),
              what.c_str());
  if (!ok && !detail.empty()) std::fputs(indent(detail, "      ").c_str(), stdout);
  std::fflush(stdout);
}

int check_log::passed() const
{
  return static_cast<int>(std::count_if(records_.begin(), records_.end(), [](auto const& r) { return r.passed; }));
}

int check_log::failed() const { return static_cast<int>(records_.size()) - passed(); }

nlohmann::json check_log::to_json() const
{
  nlohmann::json checks = nlohmann::json::array();
  for (auto const& r : records_)
    checks.push_back({{"task", r.task}, {"id", r.id}, {"passed", r.passed}, {"what", r.what}, {"detail", r.detail}});
  return {{"version", 1}, {"passed", passed()}, {"failed", failed()}, {"checks", checks}};
}

namespace {

std::string failing_cases(verdict const& v)
{
  std::string out;
  for (auto const& cv : v.criteria)
    for (auto const& c : cv.cases) {
      if (c.status == case_status::passed || c.status == case_status::unavailable) continue;
      out += cv.what.id + ": \"" + c.name + "\"";
      if (!c.failures.empty())
        out += " at " + fs::path(c.failures.front().file).filename().string() + ":" +
               std::to_string(c.failures.front().line) + " " + c.failures.front().expr;
      out += "\n";
    }
  return out;
}

bool every_criterion_holds(verdict const& v)
{
  auto const s = score_of(v);
  return s.passed && s.bonus_passed == s.bonus_total;
}

// Every criterion has a test; every test carries exactly one criterion.
void check_tags(check_log& log, verdict const& ref)
{
  std::string untested;
  std::map<std::string, int> criteria_per_case;
  for (auto const& cv : ref.criteria) {
    if (cv.cases.empty()) untested += cv.what.id + " has no test tagged [" + cv.what.id + "]: add one\n";
    for (auto const& c : cv.cases) ++criteria_per_case[c.name];
  }
  for (auto const& c : ref.untagged) untested += "test \"" + c.name + "\" carries no criterion of the README: tag it [ACn]\n";
  for (auto const& [name, n] : criteria_per_case)
    if (n > 1) untested += fmt::format("test \"{}\" carries {} criteria: give it exactly one tag, split it if it checks two things\n", name, n);
  log.check("tags", untested.empty(), "every criterion has a test, and every test exactly one criterion", untested);
}

// Cases whose outcome differs between runs, with the orders they failed in.
std::string flaky_cases(std::vector<verdict> const& runs, std::vector<std::string> const& orders)
{
  std::map<std::string, std::vector<std::size_t>> failed_in;
  std::set<std::string> passed_somewhere;
  for (std::size_t i = 0; i < runs.size(); ++i)
    for (auto const& cv : runs[i].criteria)
      for (auto const& c : cv.cases) {
        if (c.status == case_status::passed || c.status == case_status::unavailable) passed_somewhere.insert(c.name);
        else failed_in[c.name].push_back(i);
      }
  std::string out;
  for (auto const& [name, where] : failed_in) {
    if (!passed_somewhere.contains(name)) continue;
    std::string seeds;
    for (auto i : where) seeds += (seeds.empty() ? "" : ", ") + orders[i];
    out += fmt::format("flaky: \"{}\" failed in {} of {} runs ({})\n", name, where.size(), runs.size(), seeds);
  }
  return out;
}

// The reference, `repeat` times: in declaration order, then in random orders
// whose seeds are printed, so a failure can be replayed with
// `build/dev/tasks/<id>/<id>-reference --order rand --rng-seed N`.
verdict check_reference(check_log& log, workbook_paths const& paths, task const& t, task_check_options const& options)
{
  std::vector<verdict> runs;
  std::vector<std::string> orders;
  std::random_device seeds;
  for (int i = 0; i < std::max(1, options.repeat); ++i) {
    grade_options g{.build_first = false};
    if (i > 0) g.random_seed = seeds() % 1000000;
    orders.push_back(g.random_seed ? fmt::format("--rng-seed {}", *g.random_seed) : "declaration order");
    term::progress(fmt::format("running {} against the reference ({} of {}, {})…", t.id, i + 1, options.repeat, orders.back()));
    runs.push_back(grade(paths, t, "reference", g));
  }
  term::progress_done();
  std::string trouble = flaky_cases(runs, orders);
  for (std::size_t i = 0; i < runs.size(); ++i)
    if (!every_criterion_holds(runs[i]))
      trouble += fmt::format("in {}:\n", orders[i]) +
                 indent(runs[i].result == verdict::outcome::graded ? failing_cases(runs[i]) : runs[i].detail, "  ");
  auto const s = score_of(runs.front());
  log.check("reference", trouble.empty(),
            fmt::format("the reference passes every criterion ({}/{}){}", s.criteria_passed + s.bonus_passed,
                        s.criteria_total + s.bonus_total,
                        runs.size() > 1 ? fmt::format(", {} runs in a row in different orders", runs.size()) : ""),
            trouble);
  return runs.front();
}

void check_stub(check_log& log, workbook_paths const& paths, task const& t)
{
  term::progress("running " + t.id + " against the stub…");
  auto const stub = grade(paths, t, "stub", {.build_first = false});
  term::progress_done();
  std::string passes;
  for (auto const& cv : stub.criteria)
    if (cv.passed) passes += cv.what.id + " passes against the untouched stub: its tests cannot fail; make one test demand the work\n";
  if (stub.result != verdict::outcome::graded) passes += "the stub did not build or run: " + stub.detail + "\n";
  auto const s = score_of(stub);
  int const criteria = s.criteria_total + s.bonus_total;
  log.check("stub", passes.empty() && s.criteria_total > 0,
            fmt::format("the stub fails every criterion ({}/{} failing, in {:.1f} s)",
                        criteria - s.criteria_passed - s.bonus_passed, criteria, stub.run_seconds),
            passes);
}

// Why a mutant is not caught by the criterion it names; empty when it is.
std::string mutant_escapes(workbook_paths const& paths, task const& t, mutant const& m, bool built)
{
  verdict const v = grade(paths, t, "mutant-" + m.name, {.build_first = !built, .only_tag = "[" + m.criterion + "]"});
  std::string const who = "mutant " + m.name + " (" + m.criterion + ": " + m.mistake + ")";
  if (v.result == verdict::outcome::did_not_compile || v.result == verdict::outcome::workbook_broken)
    return who + " does not build:\n" + indent(v.detail, "  ") + "fix: " + fs::relative(m.patch, paths.root).string() + "\n";
  if (v.result != verdict::outcome::graded) return who + " did not run: " + v.detail + "\n";
  for (auto const& cv : v.criteria)
    if (cv.what.id == m.criterion)
      return cv.passed ? who + " survives: every test of " + m.criterion + " passes. Strengthen " + m.criterion +
                             "'s tests until one fails; never weaken the mutant.\n"
                       : std::string();
  return who + " names " + m.criterion + ", which has no tests\n";
}

// Each mutant's verdict, in the mutants' order. Once all are built they run
// side by side, one test binary per core (each binds its own port 0), which
// halves the check's longest part on a two-core machine.
std::vector<std::string> run_mutants(workbook_paths const& paths, task const& t,
                                     std::vector<mutant const*> const& mutants, bool built)
{
  std::vector<std::string> escaped(mutants.size());
  std::atomic<std::size_t> next{0};
  std::size_t finished = 0;
  std::mutex progress_mutex;
  auto worker = [&] {
    for (std::size_t i; (i = next++) < mutants.size();) {
      try {
        escaped[i] = mutant_escapes(paths, t, *mutants[i], built);
      } catch (std::exception const& e) {
        escaped[i] = "mutant " + mutants[i]->name + " could not be run: " + e.what() + "\n";
      }
      std::lock_guard const lock(progress_mutex);
      term::progress(fmt::format("{} mutants: {}/{} run ({})…", t.id, ++finished, mutants.size(), mutants[i]->name));
    }
  };
  // Unbuilt mutants are built one by one as they run: one build at a time.
  unsigned const workers = built ? std::clamp(std::thread::hardware_concurrency(), 1u, 4u) : 1u;
  {
    std::vector<std::jthread> helpers;
    for (unsigned k = 1; k < workers; ++k) helpers.emplace_back(worker);
    worker();
  }
  return escaped;
}

void check_mutants(check_log& log, workbook_paths const& paths, task const& t)
{
  std::vector<mutant const*> by_tests;
  std::size_t tsan_only = 0;
  for (auto const& m : t.mutants) {
    if (m.caught_by == "tsan") ++tsan_only;
    else by_tests.push_back(&m);
  }
  term::progress("building " + std::to_string(t.mutants.size()) + " mutants of " + t.id + "…");
  // One build for all of them; when it fails, each is built (and named) alone.
  bool const built = build(paths.build(), {t.id + "-mutants"}, t.id + " mutants").ok;
  std::string escaped;
  for (auto const& e : run_mutants(paths, t, by_tests, built)) escaped += e;
  term::progress_done();
  std::string what = fmt::format("{} mutant{}, each caught by the criterion it names", by_tests.size(), by_tests.size() == 1 ? "" : "s");
  if (tsan_only) what += fmt::format(" (+{} caught by ThreadSanitizer: ctest --preset tsan -L tsan-mutant)", tsan_only);
  if (by_tests.size() < 6)
    escaped += fmt::format("{} has {} mutants caught by its tests; ship at least 6 plausible student mistakes under "
                           "solutions/{}/mutants/ (docs/authoring.md, 'Mutants')\n", t.id, by_tests.size(), t.id);
  log.check("mutants", escaped.empty(), what, escaped);
}

void record_limits(check_log& log, task const& t, std::map<std::string, double> const& seconds)
{
  nlohmann::json cases = nlohmann::json::object();
  for (auto const& [name, s] : seconds) cases[name] = limit_from_reference(s).count();
  nlohmann::json const j{{"version", 1},
                         {"note", fmt::format("per test case, in ms: {}x what the reference took, at least {} ms "
                                              "(grader check {} --record-limits)",
                                              limit_factor, limit_floor.count(), t.id)},
                         {"cases", cases}};
  std::ofstream out(limits_file(t));
  out << j.dump(2) << "\n";
  out.close();
  auto const shown = limits_file(t).lexically_relative(t.exercise_dir.parent_path().parent_path());
  log.check("limits", out.good(), "recorded the reference's time limits in " + shown.string(),
            "could not write " + limits_file(t).string() + "\n");
}

// The reference's time per case against the limits the stub will run under.
void check_limits(check_log& log, task const& t, verdict const& ref, bool record)
{
  std::map<std::string, double> seconds;
  for (auto const& cv : ref.criteria)
    for (auto const& c : cv.cases) seconds[c.name] = c.seconds;
  if (record) return record_limits(log, t, seconds);
  std::string tight;
  for (auto const& [name, s] : seconds) {
    auto const it = t.case_limits.find(name);
    if (it == t.case_limits.end()) continue;
    double const limit = std::chrono::duration<double>(it->second).count();
    if (s > limit / 2)
      tight += fmt::format("\"{}\" took {:.2f} s of its {:.1f} s limit: record the limits again "
                           "(grader check {} --record-limits)\n", name, s, limit, t.id);
  }
  std::size_t const missing = std::count_if(seconds.begin(), seconds.end(),
                                            [&](auto const& e) { return !t.case_limits.contains(e.first); });
  log.check("limits", tight.empty(),
            missing == 0 ? "every case of the reference runs in under half its time limit"
                         : fmt::format("the reference runs within its limits ({} case{} without one: the {} s default)",
                                       missing, missing == 1 ? "" : "s",
                                       std::chrono::duration_cast<std::chrono::seconds>(run_settings{}.case_timeout).count()),
            tight);
}

// The task's own translation units (stub, reference, tests, tools), compiled
// again with the build's own command lines. Through ccache an unchanged unit
// costs milliseconds and still prints its warnings, which an incremental
// build that skips it would not.
std::string compiler_warnings(workbook_paths const& paths, task const& t)
{
  auto const db = nlohmann::json::parse(read_file_or_empty(paths.build_dir / "compile_commands.json"), nullptr, false);
  if (!db.is_array()) return "no compile_commands.json in " + paths.build_dir.string() + ": configure with a preset first\n";
  auto const scratch = paths.build_dir / "grader-logs" / "warnings.o";
  // The build's compiler launcher (ccache, with its settings), as CMake wrote it.
  std::string launcher;
  for (auto const& argument : split_lines(read_file_or_empty(paths.build_dir / "compiler-launcher.txt")))
    if (!argument.empty()) launcher += "'" + argument + "' ";
  std::string warnings;
  std::set<std::string> seen;
  for (auto const& entry : db) {
    std::string const file = entry.value("file", ""), command = entry.value("command", "");
    bool const own = file.starts_with(t.exercise_dir.string() + "/") || file.starts_with(t.solution_dir.string() + "/");
    // A file compiled twice with the same flags (once per variant) is looked at once.
    if (!own || command.empty() || !seen.insert(file + command.substr(0, command.find(" -o "))).second) continue;
    std::string const line = fmt::format("cd '{}' && {}{} -o '{}' -c '{}'", entry.value("directory", "."), launcher,
                                         command.substr(0, command.find(" -o ")), scratch.string(), file);
    auto const r = workbook::run_process({"/bin/sh", "-c", line}, std::chrono::minutes(2));
    for (auto const& l : split_lines(r.output))
      if (l.find("warning:") != std::string::npos || l.find("error:") != std::string::npos) warnings += l + "\n";
  }
  std::error_code ec;
  fs::remove(scratch, ec);
  return warnings;
}

void check_warnings(check_log& log, workbook_paths const& paths, task const& t)
{
  term::progress("compiling " + t.id + "'s sources again for their warnings…");
  auto const warnings = compiler_warnings(paths, t);
  term::progress_done();
  log.check("warnings", warnings.empty(), "the task compiles without a warning (-Wall -Wextra -Wpedantic)",
            warnings + (warnings.empty() ? "" : "fix each: CI builds with -Werror\n"));
}

void check_files(check_log& log, task const& t)
{
  std::string stray;
  for (auto const& f : stray_files(t)) stray += f.string() + "\n";
  log.check("files", stray.empty(), "no stray files (backups, patch leftovers, binaries, files over 1 MiB)",
            stray + (stray.empty() ? "" : "delete them, or move data a test needs into test/ under 1 MiB\n"));
}

bool stray_name(fs::path const& p)
{
  std::string const name = p.filename().string();
  static std::set<std::string> const junk_ext{".orig", ".rej", ".swp", ".swo", ".o", ".a", ".so", ".pch", ".gch", ".tmp", ".bak"};
  return name.ends_with("~") || name.starts_with(".#") || name == "a.out" || name == ".DS_Store" || name == "core" ||
         name.starts_with("core.") || junk_ext.contains(p.extension().string());
}

bool is_elf(fs::path const& p)
{
  std::ifstream in(p, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return in.gcount() == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F';
}

} // namespace

std::vector<fs::path> stray_files(task const& t)
{
  std::vector<fs::path> out;
  for (auto const& dir : {t.exercise_dir, t.solution_dir}) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      if (stray_name(it->path()) || it->file_size() > (1u << 20) || is_elf(it->path()))
        out.push_back(it->path().lexically_relative(dir.parent_path().parent_path()));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

void check_task(check_log& log, workbook_paths const& paths, task const& t, task_check_options const& options)
{
  log.begin_task(t.id);
  std::printf("\n%s\n", term::bold(t.id + " · " + t.title).c_str());
  std::string problems;
  for (auto const& p : t.problems) problems += p.file.string() + ": " + p.what + " (fix: " + p.fix + ")\n";
  log.check("readme", t.sound(), "the task directory is complete and its README well formed", problems);
  check_files(log, t);
  if (!t.sound()) return;
  auto const ref = check_reference(log, paths, t, options);
  check_tags(log, ref);
  if (every_criterion_holds(ref)) check_limits(log, t, ref, options.record_limits);
  check_stub(log, paths, t);
  check_mutants(log, paths, t);
  check_warnings(log, paths, t);
  if (options.verbose) std::fputs(indent(summarize(ref) + " (reference)\n", "      ").c_str(), stdout);
}

} // namespace grader
