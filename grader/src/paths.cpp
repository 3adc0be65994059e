#include "paths.hpp"

#include <cstdlib>

namespace grader {

namespace fs = std::filesystem;

fs::path find_root()
{
  if (char const* env = std::getenv("WORKBOOK_ROOT"); env && *env) return fs::path(env);
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  for (p = p.parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path())
    if (fs::exists(p / "CMakePresets.json") && fs::is_directory(p / "exercises")) return p;
  return fs::current_path();
}

workbook_paths paths_for(fs::path const& root)
{
  workbook_paths paths;
  paths.root = root;
  if (char const* preset = std::getenv("WORKBOOK_PRESET"); preset && *preset) paths.preset = preset;
  if (char const* dir = std::getenv("WORKBOOK_BUILD_DIR"); dir && *dir) paths.build_dir = dir;
  else paths.build_dir = root / "build" / paths.preset;
  return paths;
}

} // namespace grader
