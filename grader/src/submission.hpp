// A submission marked against pristine tests. The workspace is a copy of the
// trusted workbook (tests, contracts, harness, CMake: everything but build
// output) into which only the files a student is meant to edit are taken
// from the submission (editable_files: each marked task's stub sources and
// NOTES.md, not its contract header). A
// submission that rewrote its tests or its contract is marked as if it had
// not; the changes it made there are listed as ignored.
#pragma once

#include "catalog.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace grader {

// Copies `from` over `to` (making its directory) unless they already hold
// the same bytes, which keeps `to`'s time stamp; on failure says why in
// `error` and returns false.
bool sync_file(std::filesystem::path const& from, std::filesystem::path const& to, std::string& error);

// The files a student edits in a task, relative to the workbook root: the
// stub's sources, NOTES.md, and any other file of the exercise but its
// README, task.cmake, tests and contract headers (task 08's own tests).
std::vector<std::filesystem::path> editable_files(task const& t);

struct workspace {
  std::filesystem::path root;                     // the trusted tree with the submission's files in it
  std::vector<std::string> taken;                 // relative paths taken from the submission
  std::vector<std::string> ignored;               // submitted files that differ from the trusted ones and are not the student's to edit
  std::vector<std::string> missing;               // editable files the submission lacks (the trusted stub stands in)
  std::vector<std::string> tampered;              // files a student edition's manifest.json records (the trusted tree's, else the submission's), changed or deleted
  std::string error;                              // why no workspace could be made
};

// Makes (or brings up to date) the workspace at `where`. Files whose content
// did not change keep their time stamps, so marking again builds only what
// changed.
workspace prepare_workspace(std::filesystem::path const& trusted, catalog const& cat,
                            std::filesystem::path const& submission, std::vector<std::string> const& task_ids,
                            std::filesystem::path const& where);

// What the submission's compiled code read of the references: one line per
// solutions/ file a header dependency of an object built from the student's
// files of task `t` or of the tasks it uses ("exercises/task-05/pool.cpp
// includes solutions/task-05/pool.cpp"), from Ninja's record of the
// compiler's own dependency lists. Empty when it read none.
std::vector<std::string> references_read(std::filesystem::path const& root, std::filesystem::path const& build_dir,
                                         task const& t);

// Every file of a workbook tree, relative: git's view (tracked, and
// untracked but not ignored) in a git checkout, else a walk that skips
// build output, .git and .grader.
std::vector<std::string> workbook_files(std::filesystem::path const& root);

} // namespace grader
