// Building what a verb needs, incrementally, through CMake and Ninja, with a
// progress line and the compiler's first error picked out of the log.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace grader {

struct build_settings {
  std::filesystem::path root;        // the workbook
  std::filesystem::path build_dir;   // e.g. <root>/build/dev
  std::string preset = "dev";
  std::filesystem::path log_dir;     // where full logs go
  // Added to the build's environment: what confines the student's
  // compiles when marking (student_compile_env, cmake/student-compile).
  std::vector<std::pair<std::string, std::string>> env;
};

struct build_result {
  bool ok = false;
  std::vector<std::string> failed_objects;  // "FAILED:" lines' object paths
  std::string first_error;           // trimmed block around the first "error:"
  std::filesystem::path log;         // the full output
};

// Configures the build directory if it has never been configured.
build_result configure(build_settings const& s);

// Builds `targets`; `label` names them in the progress line.
build_result build(build_settings const& s, std::vector<std::string> const& targets,
                   std::string const& label);

// The first compiler error in a build log, trimmed to what a student needs:
// the error line, its context lines and notes, at most `max_lines`.
std::string first_error(std::string const& log, std::size_t max_lines = 16);

// Object paths of the "FAILED: " lines of a Ninja log.
std::vector<std::string> failed_objects(std::string const& log);

} // namespace grader
