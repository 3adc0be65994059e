#include "grade.hpp"

namespace grader {

verdict grade(workbook_paths const& paths, task const& t, std::string const& variant, bool build_first,
              std::string const& only_tag)
{
  std::string const target = t.id + "-" + variant;
  if (build_first) {
    auto const b = build(paths.build(), {target + "-all"}, target);
    if (!b.ok) {
      verdict v = assess(t, {}, variant);
      // A failure inside this task's own targets is the code's; anything
      // else (the harness, CMake) is the workbook's.
      bool task_code = false;
      for (auto const& obj : b.failed_objects)
        if (obj.find(t.id + "-") != std::string::npos) task_code = true;
      v.result = task_code ? verdict::outcome::did_not_compile : verdict::outcome::workbook_broken;
      v.detail = b.first_error;
      v.log = b.log.string();
      return v;
    }
  }
  run_settings s;
  s.executable = paths.executable(t.id, variant);
  s.log = paths.build_dir / "grader-logs" / (target + ".log");
  s.only_tag = only_tag;
  auto const run = run_tests(s);
  verdict v = assess(t, run, variant);
  v.log = s.log.string();
  return v;
}

} // namespace grader
