// The catalog: every task the workbook has, read from its directories. The
// task's README.md is the single source of truth for its title, difficulty,
// acceptance criteria and hints; nothing central lists tasks.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace grader {

struct criterion {
  std::string id;     // "AC1"
  std::string text;
  // "- **AC7** (bonus) · ...": graded and reported like any other, but the
  // task passes without it (an extension for those who want more).
  bool bonus = false;
};

struct hint {
  std::string criterion;  // "AC1"
  std::string text;
};

// Something wrong with a task directory: which file, what, and how to fix it.
struct problem {
  std::filesystem::path file;
  std::string what;
  std::string fix;
};

// A plausible student mistake the task's tests must catch:
// solutions/<id>/mutants/<name>/mutant.patch, a diff against the reference
// headed by "Criterion: ACn", "Mistake: ..." and optionally "Caught by: tsan".
struct mutant {
  std::string name;               // "serialised-get"
  std::string criterion;          // "AC1": the criterion it must fail
  std::string mistake;            // one line, what the student got wrong
  std::string caught_by;          // "" (the tests) or "tsan" (only the sanitizer sees it)
  std::filesystem::path patch;
};

struct task {
  std::string id;                 // "task-01"
  std::string title;              // "Hello server and its call chain"
  std::string difficulty;         // "Junior"
  std::vector<criterion> criteria;
  std::vector<hint> hints;
  std::vector<mutant> mutants;    // sorted by name
  // Per test case, the time limit derived from the reference's own time
  // (exercises/<id>/test/limits.json, written by `grader check --record-limits`).
  std::map<std::string, std::chrono::milliseconds> case_limits;
  std::filesystem::path exercise_dir;
  std::filesystem::path solution_dir;
  // The earlier tasks whose student files this one links
  // (`workbook_task_uses(task-18 task-19)` in its task.cmake).
  std::vector<std::string> uses;
  // Headers beside the stub that are the student's own, not the contract
  // (`workbook_task_student_headers(balancer_impl.hpp)` in its task.cmake).
  std::vector<std::string> student_headers;
  std::vector<problem> problems;  // empty when the task is sound

  std::vector<hint> hints_for(std::string const& criterion_id) const;
  bool sound() const { return problems.empty(); }
};

// What a README says, before it is checked against the task's rules.
struct readme_content {
  std::string title;
  std::vector<std::string> sections;   // level-2 headings, in order
  std::string difficulty;
  std::vector<criterion> criteria;
  std::vector<hint> hints;
  std::vector<std::string> unlabelled; // criteria/hints bullets without an **ACn** label
};

readme_content parse_readme(std::string const& markdown);

// The header lines of a mutant.patch (everything before the diff itself).
struct mutant_header {
  std::string criterion, mistake, caught_by;
};
mutant_header parse_mutant_header(std::string const& patch_text);

// Reads one task; problems are recorded in the task, never thrown.
task load_task(std::filesystem::path const& root, std::string const& id);

class catalog {
public:
  explicit catalog(std::filesystem::path root);

  std::filesystem::path const& root() const { return root_; }
  std::vector<task> const& tasks() const { return tasks_; }
  task const* find(std::string const& id) const;
  std::vector<std::string> ids() const;

private:
  std::filesystem::path root_;
  std::vector<task> tasks_;
};

// The per-case time limits file of a task, and how limits are derived from
// what the reference needs: generous, since a student's machine may be
// slower and busier than the one that recorded them.
std::filesystem::path limits_file(task const& t);
inline constexpr std::chrono::milliseconds limit_floor{2000};
inline constexpr int limit_factor = 8;
std::chrono::milliseconds limit_from_reference(double reference_seconds);

// Is this a task directory name? "task-01" .. "task-99", "stretch-1" ..
bool is_task_id(std::string const& name);

// A stretch challenge ("stretch-1"): listed after the tasks, tallied apart.
inline bool is_stretch_id(std::string_view id) { return id.starts_with("stretch-"); }

// "1", "01", "task-1", "task01", "TASK-01" -> "task-01"; anything else unchanged.
std::string normalize_task_id(std::string_view word);

} // namespace grader
