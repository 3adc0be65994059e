// `grader check`: a task proved publishable, as a list of small named
// checks, each failure naming its fix. `grader selftest` runs them for every
// task and adds the grader's own tests.
#pragma once

#include "catalog.hpp"
#include "paths.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace grader {

struct check_record {
  std::string task;    // "" for the workbook's own checks
  std::string id;      // stable, for machines: "readme", "reference", "mutants", ...
  bool passed = false;
  std::string what;    // the line a person reads, figures included
  std::string detail;  // why it failed and the fix; empty when passed
};

// Prints each check as it is decided and keeps it for the report.
class check_log {
public:
  void begin_task(std::string id) { task_ = std::move(id); }
  void check(std::string id, bool ok, std::string const& what, std::string const& detail = {});
  int passed() const;
  int failed() const;
  // {"version":1,"passed":N,"failed":M,"checks":[{task,id,passed,what,detail}...]}
  nlohmann::json to_json() const;

private:
  std::string task_;
  std::vector<check_record> records_;
};

struct task_check_options {
  int repeat = 1;              // reference runs: the first in declaration order, the rest in random orders
  bool record_limits = false;  // write test/limits.json from the reference's times instead of checking them
  bool verbose = false;
};

void check_task(check_log& log, workbook_paths const& paths, task const& t, task_check_options const& options);

// Files under the task's directories that do not belong to a task: editor
// backups, patch leftovers, objects and binaries, anything over 1 MiB.
std::vector<std::filesystem::path> stray_files(task const& t);

} // namespace grader
