#include "verbs.hpp"
#include "mark_formats.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>

namespace grader {

namespace {

void no_flags(CLI::App&, verb_options&) {}

void grade_flags(CLI::App& c, verb_options& o)
{
  c.add_flag("--reference", o.reference, "Grade the reference instead of your code");
  c.add_flag("--json", o.json, "Print the verdict as JSON (docs/verdict.schema.json)");
  c.add_flag("-v,--verbose", o.verbose, "Show every failing test, not the first two per criterion");
  c.add_flag("--log", o.full_log, "Also print the full build or test log");
  c.add_flag("--no-prompt", [&o](std::int64_t) { o.ask_self_grade = false; },
             "Do not ask for a self-grade (NOTES.md's 'Self-grade: N' still counts)");
  c.footer("After a passing run on a terminal the grader asks for your self-grade (rubric.md)\n"
           "and records it, capped by the evidence. Exit codes: 0 all pass; 1 any fails; 2 usage.");
}

void hint_flags(CLI::App& c, verb_options& o) { c.add_flag("--all", o.all, "Show every hint"); }

void reveal_flags(CLI::App& c, verb_options& o)
{
  c.add_flag("--force", o.force, "Show it before a pass; caps the task's score at 0");
}

void watch_flags(CLI::App& c, verb_options& o) { c.add_flag("-v,--verbose", o.verbose, "Show every failing test"); }

void serve_flags(CLI::App& c, verb_options& o)
{
  c.add_option("--port", o.serve_port, "The port to listen on (default: any free port; the URL says which)");
  c.add_option("--address", o.serve_address, "The address to listen on: 127.0.0.1 only (anything else is refused)")
      ->capture_default_str();
  c.footer("Serves the workbook on http://127.0.0.1:PORT/ and prints the URL with a random token: open it in\n"
           "a browser on this machine. The map shows every task, your scores and the tally; a task's page\n"
           "shows its README (the Source trail linked to the Boost headers), the verdict per criterion with\n"
           "each failure's exchange, hints, the self-grade and the reveal. Save a file of a task whose page you\n"
           "opened and the page shows \"building…\", then the new verdict. Progress is the same file the\n"
           "other verbs use. Ctrl-C stops.");
}

void reset_flags(CLI::App& c, verb_options& o) { c.add_flag("-y,--yes", o.yes, "Do not ask for confirmation"); }

// What selftest and check share.
void task_check_flags(CLI::App& c, verb_options& o, char const* repeat_default)
{
  c.add_flag("-v,--verbose", o.selftest.verbose, "Show test counts per task");
  c.add_flag("--record-limits", o.selftest.record_limits,
             "Write each task's test/limits.json from the reference's times (on a quiet machine)");
  c.add_option("--repeat", o.selftest.repeat,
               std::string("Run each reference N times, the first in declaration order, the rest in random orders "
                           "(a case that disagrees is reported as flaky, with its seeds; default ") + repeat_default + ")")
      ->check(CLI::Range(1, 100));
  c.add_option("--report", o.selftest.report, "Also write every check as JSON to this file");
}

void selftest_flags(CLI::App& c, verb_options& o)
{
  task_check_flags(c, o, "1");
  c.add_flag("--quick", o.selftest.quick, "Skip the end-to-end run of a student's session (about a minute)");
  c.footer("Every task's checks (see grader check --help) and the grader's own tests.\n"
           "Ends with the line 'N passed, M failed'; exits 0 only when M is 0.");
}

void check_flags(CLI::App& c, verb_options& o)
{
  task_check_flags(c, o, "3");
  c.add_flag("--all", o.all, "Check every task");
  c.footer("Per task: README sections and labels; no stray files; the reference passes every test N times in\n"
           "different orders; every criterion has a test and every test exactly one criterion; the time\n"
           "limits leave room; the stub fails every criterion; every mutant fails the criterion it names;\n"
           "no compiler warning. Ends with 'N passed, M failed'; exits 0 only when M is 0.");
}

void new_flags(CLI::App& c, verb_options& o)
{
  o.new_task.difficulty = "Mid";
  c.add_option("task", o.new_task.id, "The new task's id: task-NN or stretch-N")->required();
  c.add_option("--title", o.new_task.title, "Its title, as the README's heading shows it")->required();
  c.add_option("--difficulty", o.new_task.difficulty, "Junior, Mid, Senior or Staff")
      ->check(CLI::IsMember({"Junior", "Mid", "Senior", "Staff"}))
      ->capture_default_str();
  c.add_option("--topic", o.new_task.topic,
               "File name of the contract and stub, e.g. rate_limiter (default: from the title)");
  c.footer("Writes exercises/<id>/ and solutions/<id>/: every README section, a contract, a compiling\n"
           "stub with numbered TODOs, a reference, one tagged test per placeholder criterion,\n"
           "NOTES.md, WHY.md and mutants/. Refuses an id that exists.");
}

void mark_flags(CLI::App& c, verb_options& o)
{
  c.add_option("--submission", o.mark.submission, "The submission's checkout: only each task's stub sources and NOTES.md are taken from it (never its tests or contract)")
      ->required()
      ->check(CLI::ExistingDirectory);
  c.add_flag("--all", o.mark.all, "Mark every task (the default when no task is named)");
  c.add_option("--format", o.mark.formats, "exercism, gradescope, junit or json (default json); repeatable")
      ->check(CLI::IsMember(std::vector<std::string>(mark_formats.begin(), mark_formats.end())))
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  c.add_option("-o,--output", o.mark.outputs, "Where to write the results: one per --format, in the same order")
      ->required()
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  c.footer("Marks unattended: tests, contracts, harness and CMake come from this workbook, never from the\n"
           "submission; other submitted changes are listed as ignored. A case that fails is run once more and\n"
           "counts as passed (flagged flaky) if it then passes. Exits 0 whenever marking completed, whatever\n"
           "the marks; 2 when it could not (a bad submission path, an unwritable results file).");
}

void export_flags(CLI::App& c, verb_options& o)
{
  c.add_option("--student", o.edition.destination, "Where to write the student edition: a new or empty directory")
      ->required();
  c.add_option("--release", o.edition.release,
               "A task whose reference and WHY.md go out too (after its deadline, for `grader reveal`); repeatable");
  c.footer("Writes everything but solutions/, the mutants, .ci/, bench/, .grader/ and build/, then scans the\n"
           "edition for reference code and fails, naming the file, if any went out. edition.json marks it a\n"
           "student edition (reveal and --reference then refuse, saying why); manifest.json holds a SHA-256\n"
           "of every file a student is not meant to edit, which `grader mark` checks submissions against.");
}

constexpr std::array table{
    verb{"list", "Every task: difficulty, status, score, and what to do next (the default)", takes::nothing,
         no_flags, cmd_list},
    verb{"grade", "Grade one task (also: grader task-NN)", takes::one_task, grade_flags, cmd_grade},
    verb{"hint", "Show the task's next hint (they come one at a time)", takes::one_task, hint_flags, cmd_hint},
    verb{"reveal", "Show the reference and its WHY.md, once your code passes", takes::one_task, reveal_flags,
         cmd_reveal},
    verb{"watch", "Grade again on every save of the task's files; q quits", takes::one_task, watch_flags, cmd_watch},
    verb{"reset", "Restore the task's original stub (NOTES.md untouched; your version is backed up)",
         takes::one_task, reset_flags, cmd_reset},
    verb{"serve", "The workbook in your browser on 127.0.0.1: task pages, live verdicts on save, the tally",
         takes::nothing, serve_flags, cmd_serve},
    verb{"tally", "Your scores, the total, and the rubric's band for it", takes::nothing, no_flags, cmd_tally},
    verb{"selftest", "Prove the workbook sound: builds, references pass, stubs fail, mutants are caught",
         takes::some_tasks, selftest_flags, cmd_selftest},
    verb{"check", "Prove tasks publishable (instructors): grader check task-21, or --all", takes::some_tasks,
         check_flags, cmd_check},
    verb{"mark", "Mark a submission unattended (CI): pristine tests, results for Exercism, Gradescope, JUnit",
         takes::some_tasks, mark_flags, cmd_mark},
    verb{"new", "Scaffold a new task (instructors): grader new task-21 --title \"...\"", takes::nothing, new_flags,
         cmd_new},
    verb{"export", "Write a student edition (instructors): no references, a manifest for marking", takes::nothing,
         export_flags, cmd_export},
};

} // namespace

std::span<verb const> verbs() { return table; }

verb const* find_verb(std::string_view name)
{
  auto const it = std::find_if(table.begin(), table.end(), [&](verb const& v) { return v.name == name; });
  return it == table.end() ? nullptr : &*it;
}

} // namespace grader
