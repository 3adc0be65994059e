// The student's progress: one JSON file under the workbook
// (.grader/progress.json, git-ignored), written atomically (temporary file,
// then rename). A damaged file never costs the other tasks' records: it is
// kept aside and every readable task entry is recovered. Every change is a
// read-modify-write under an exclusive lock (update_record), so a CLI run, a
// watch and any number of browser tabs of `grader serve` lose nothing of one
// another's.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace grader {

struct task_record {
  std::string verdict;        // "passed" | "failed" (of the student's code, never the reference)
  int criteria_passed = 0;
  int criteria_total = 0;
  std::string when;           // ISO 8601, UTC
  std::optional<int> self_grade;   // what the student claimed
  std::optional<int> score;        // the claim capped by the evidence
  std::string cap_reason;          // why the evidence capped it, "" if it did not
  bool revealed = false;           // the reference was shown
  bool forced_reveal = false;      // ... with --force, before a pass: score capped at 0
  std::vector<int> hints_shown;    // indices into the README's hints
  nlohmann::json extra = nlohmann::json::object();   // fields a newer grader wrote
};

class progress_store {
public:
  explicit progress_store(std::filesystem::path file);

  // Reads the file. Returns a message for the student when it had to recover
  // from damage (the damaged file is kept beside it), otherwise nullopt.
  std::optional<std::string> load();

  std::optional<task_record> get(std::string const& task) const;
  void set(std::string const& task, task_record record);

  // Atomic: a crash mid-save leaves the previous file intact.
  void save() const;

  std::filesystem::path const& file() const { return file_; }

private:
  std::filesystem::path file_;
  std::map<std::string, task_record> records_;
};

std::string now_iso8601();

// The store under <state_dir>/progress.json, loaded; a recovery message (if
// the file was damaged) goes to stderr. Saving reports a failure on stderr
// and never throws: a grade is not lost for want of a progress file.
progress_store open_progress(std::filesystem::path const& state_dir);
void save_progress(progress_store const& store);

// Loads the store, applies `change` to one task's record (a fresh one if it
// has none) and saves unless `change` returned false, holding an flock on
// <state_dir>/progress.lock throughout: the one way to change the file.
// Returns the record as it now stands.
task_record update_record(std::filesystem::path const& state_dir, std::string const& task,
                          std::function<bool(task_record&)> const& change);

} // namespace grader
