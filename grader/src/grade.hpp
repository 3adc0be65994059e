// Grading one variant of one task: build it, run its tests, assess them.
#pragma once

#include "build.hpp"
#include "catalog.hpp"
#include "report.hpp"
#include "run.hpp"

#include <string>

namespace grader {

struct workbook_paths {
  std::filesystem::path root;
  std::filesystem::path build_dir;
  std::string preset = "dev";

  build_settings build() const { return {root, build_dir, preset, build_dir / "grader-logs"}; }
  std::filesystem::path executable(std::string const& task, std::string const& variant) const
  {
    return build_dir / "tasks" / task / (task + "-" + variant);
  }
};

// variant: "stub" or "reference". `build_first` false when the caller built.
// `only_tag` ("[AC3]"): run only that criterion's cases (the others are left
// out of the verdict); selftest uses it to prove a mutant fails its criterion.
verdict grade(workbook_paths const& paths, task const& t, std::string const& variant, bool build_first = true,
              std::string const& only_tag = {});

} // namespace grader
