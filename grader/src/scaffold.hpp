// `grader new`: a new task's two directories, complete enough to build, be
// listed and be graded at once, for an instructor to fill in.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace grader {

struct scaffold_request {
  std::string id;          // "task-21" or "stretch-4" (already normalised)
  std::string title;       // "Rate limiter"
  std::string difficulty;  // Junior, Mid, Senior or Staff
  std::string topic;       // the contract's file name and the stub's: "rate_limiter"; derived from the title when empty
};

struct scaffold_result {
  std::vector<std::filesystem::path> written;  // relative to the workbook root, in the order written
  std::string error;                           // why nothing was written; empty on success
};

// "Rate limiter & friends" -> "rate_limiter_friends"
std::string topic_from_title(std::string const& title);

// Writes exercises/<id>/ and solutions/<id>/. Refuses (error set, nothing
// written) an id that is not a task id, an existing directory, an empty
// title, an unknown difficulty or a topic that is not a C++ identifier.
scaffold_result scaffold_task(std::filesystem::path const& root, scaffold_request request);

} // namespace grader
