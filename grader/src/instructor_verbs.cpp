// The instructor's verbs: new and export (check and selftest live in
// selftest.cpp, mark in mark.cpp).
#include "edition.hpp"
#include "scaffold.hpp"
#include "terminal.hpp"
#include "verbs.hpp"

#include <cstdio>

namespace grader {

int cmd_new(context const& ctx, task const*, verb_options const& options)
{
  scaffold_request request = options.new_task;
  request.id = normalize_task_id(request.id);
  auto const result = scaffold_task(ctx.paths.root, request);
  if (!result.error.empty()) {
    std::fprintf(stderr, "grader new: %s\n", result.error.c_str());
    return exit_usage;
  }
  std::printf("%s · %s: wrote\n", term::bold(request.id).c_str(), request.title.c_str());
  for (auto const& f : result.written) std::printf("  %s\n", f.c_str());
  std::printf("\nIt builds and grades as it is: `grader %s --reference` passes, `grader %s` fails.\n"
              "Next: write the README, the contract, the tests, the reference, six mutants or more\n"
              "(docs/authoring.md), then `grader check %s` proves the task publishable.\n",
              request.id.c_str(), request.id.c_str(), request.id.c_str());
  return exit_pass;
}

int cmd_export(context const& ctx, task const*, verb_options const& options)
{
  if (refused_without_reference(ctx.paths.root, nullptr, "export")) return exit_usage;
  std::vector<std::string> released;
  for (auto const& id : options.edition.release) released.push_back(normalize_task_id(id));
  auto const result = export_student_edition(ctx.paths.root, ctx.cat, {options.edition.destination, released});
  if (!result.error.empty()) {
    std::fprintf(stderr, "grader export: %s\n", result.error.c_str());
    return exit_usage;
  }
  auto const dest = options.edition.destination.string();
  std::printf("%s: %zu files written to %s\n", term::bold("student edition").c_str(), result.files, dest.c_str());
  if (!result.leaks.empty()) {
    std::printf("%s reference code went out with it; remove it from these files and export again:\n",
                term::red("✗").c_str());
    for (auto const& leak : result.leaks) std::printf("  %s\n", leak.c_str());
    return exit_fail;
  }
  std::printf("%s no reference code in it (every exported source compared with every withheld reference)\n"
              "Try it as a student would: cd %s && bin/grader task-01\n",
              term::green("✓").c_str(), dest.c_str());
  return exit_pass;
}

} // namespace grader
