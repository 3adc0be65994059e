// The grader's verbs: one table of {name, summary, what it takes, its flags,
// its function} drives the command line, --help, "did you mean" and the
// `grader task-05` shortcut (main.cpp). Each verb is one function.
#pragma once

#include "catalog.hpp"
#include "edition.hpp"
#include "paths.hpp"
#include "mark.hpp"
#include "scaffold.hpp"
#include "selftest.hpp"

#include <span>
#include <string_view>

namespace CLI {
class App;
}

namespace grader {

// Exit codes, stable for scripts and CI.
inline constexpr int exit_pass = 0;   // every criterion passes / the verb succeeded
inline constexpr int exit_fail = 1;   // a criterion fails (or the verb was refused)
inline constexpr int exit_usage = 2;  // usage error, or the workbook cannot be built

struct context {
  workbook_paths paths;
  catalog const& cat;
};

// Every verb's flags, filled in by the command line.
struct verb_options {
  bool reference = false;       // grade: the reference instead of the student's code
  bool json = false;            // grade: the verdict as JSON
  bool verbose = false;         // grade, watch: every failing test
  bool full_log = false;        // grade: the whole build or test log too
  bool ask_self_grade = true;   // grade: only ever asked on a terminal
  bool all = false;             // hint: every hint; check: every task
  bool force = false;           // reveal: before a pass, at the cost of the score
  bool yes = false;             // reset: no confirmation
  std::vector<std::string> tasks;  // selftest, check: the tasks named (resolved to ids)
  selftest_options selftest;       // selftest, check
  scaffold_request new_task;    // new: id, title, difficulty, topic
  mark_options mark;            // mark: submission, format, output
  export_options edition;       // export: destination, released tasks
  std::string serve_address = "127.0.0.1";   // serve: only loopback is accepted
  unsigned short serve_port = 0;             // serve: 0 for any free port
};

enum class takes { nothing, one_task, some_tasks };

struct verb {
  std::string_view name;
  std::string_view summary;
  takes argument;
  void (*declare)(CLI::App& command, verb_options& options);   // its flags
  int (*run)(context const& ctx, task const* t, verb_options const& options);
};

std::span<verb const> verbs();
verb const* find_verb(std::string_view name);

int cmd_list(context const& ctx, task const*, verb_options const&);
int cmd_grade(context const& ctx, task const* t, verb_options const& options);
int cmd_hint(context const& ctx, task const* t, verb_options const& options);
int cmd_reveal(context const& ctx, task const* t, verb_options const& options);
int cmd_watch(context const& ctx, task const* t, verb_options const& options);
int cmd_reset(context const& ctx, task const* t, verb_options const& options);
int cmd_tally(context const& ctx, task const*, verb_options const&);
int cmd_selftest(context const& ctx, task const*, verb_options const& options);
int cmd_check(context const& ctx, task const*, verb_options const& options);
int cmd_mark(context const& ctx, task const*, verb_options const& options);
int cmd_new(context const& ctx, task const*, verb_options const& options);
int cmd_export(context const& ctx, task const*, verb_options const& options);
int cmd_serve(context const& ctx, task const*, verb_options const& options);

} // namespace grader
