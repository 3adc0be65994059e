// Which implementation a test binary holds: the student's stub or the
// reference. One test TU is linked twice; the build generates variant() for each.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace workbook {

struct variant_info {
  std::string task;                          // "task-01"
  std::string name;                          // "stub" or "reference"
  std::filesystem::path exercise_dir;        // exercises/task-01
  std::vector<std::filesystem::path> sources; // the implementation's .cpp files
  std::map<std::string, std::filesystem::path> tools; // declared in task.cmake
};

variant_info const& variant();

// Path of a per-variant tool declared with workbook_task_tool(); throws if the
// task declares no such tool.
std::filesystem::path tool(std::string const& name);

// The text of the implementation's source files, concatenated in build order.
std::string implementation_source();

} // namespace workbook
