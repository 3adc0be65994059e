// The instructor's verbs: new (check and selftest live in selftest.cpp).
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

} // namespace grader
