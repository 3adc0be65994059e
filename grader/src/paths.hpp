// Where the workbook and its build live.
#pragma once

#include "build.hpp"

#include <filesystem>
#include <string>

namespace grader {

struct workbook_paths {
  std::filesystem::path root;
  std::filesystem::path build_dir;
  std::string preset = "dev";

  build_settings build() const { return {root, build_dir, preset, build_dir / "grader-logs", {}}; }
  std::filesystem::path executable(std::string const& task, std::string const& variant) const
  {
    return build_dir / "tasks" / task / (task + "-" + variant);
  }
  std::filesystem::path state_dir() const { return root / ".grader"; }
};

// The workbook is the directory holding CMakePresets.json and exercises/:
// WORKBOOK_ROOT (set by bin/grader), else the nearest one above the binary.
std::filesystem::path find_root();

// The build directory: WORKBOOK_BUILD_DIR, else build/<WORKBOOK_PRESET or dev>.
workbook_paths paths_for(std::filesystem::path const& root);

} // namespace grader
