// Which implementation a test binary holds: the student's stub, the
// reference, or a mutant of the reference. The task's test TUs are linked
// with each; the build writes what implementation() returns beside every
// binary (<binary>.variant).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace workbook {

struct implementation_info {
  std::string task;                          // "task-01"
  std::string name;                          // "stub", "reference" or "mutant-<name>"
  std::filesystem::path exercise_dir;        // exercises/task-01
  std::vector<std::filesystem::path> sources; // the implementation's .cpp files
  std::map<std::string, std::filesystem::path> tools; // declared in task.cmake
};

implementation_info const& implementation();

// Path of a per-variant tool declared with workbook_task_tool(); throws if the
// task declares no such tool.
std::filesystem::path tool(std::string const& name);

// The text of the implementation's source files, concatenated in build order.
std::string implementation_source();

} // namespace workbook
