// Task 08 · acceptance tests for YOUR tests, [AC5] and [AC6].
//
// task.cmake builds your_tests/*.cpp into several Catch2 binaries, each
// with another handler: the reference (AC5: everything must pass, and every
// test case must assert something) and each broken handler of
// solutions/task-08/broken/ (AC6: something must fail). These tests run
// those binaries and read their exit codes. (In the reference variant the
// binaries hold the reference's tests instead of yours.)
#include <workbook/process.hpp>
#include <workbook/implementation.hpp>
#include <workbook/skip.hpp>

#include <catch2/catch.hpp>

#include <cstring>
#include <sstream>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

// Your tests should take well under a second (the reference's take about a
// third of one). A run that needs more than this is stopped and counted as
// neither passing nor catching anything: the bound is there for a test that
// hangs, and is generous so that a loaded machine never trips it.
constexpr std::chrono::milliseconds run_limit = 20s;

workbook::process_result run_tests(std::string const& tool, std::vector<std::string> const& options)
{
  // run_process keeps WORKBOOK_EVENTS (the grader's event stream) from the
  // binary it runs: its results stay out of this binary's report.
  std::vector<std::string> argv{workbook::tool(tool).string(),
                                "--order", "decl", "--use-colour", "no"};
  argv.insert(argv.end(), options.begin(), options.end());
  return workbook::run_process(argv, run_limit);
}

// A student edition (grader export) holds neither the reference handler nor
// the broken ones, so it cannot build these binaries: AC5 and AC6 are then
// marked where the instructor's edition is.
bool handlers_withheld() { return !workbook::implementation().tools.contains("tests-vs-reference"); }
constexpr char const* withheld_reason =
    "this student edition does not hold the reference handler or the broken ones, so AC5 and AC6 are "
    "marked when you submit; meanwhile run your tests against your own handler (the `tests` binary beside "
    "this one)";

// Against the reference, a test case without a single assertion fails
// (--warn NoAssertions). Run once, for AC5 and every AC6 test.
workbook::process_result const& run_against_reference()
{
  static workbook::process_result const run = run_tests("tests-vs-reference", {"--warn", "NoAssertions"});
  return run;
}

bool ran_to_the_end(workbook::process_result const& run) { return !run.timed_out && run.signal == 0; }
// Catch2 says so, and exits with 0, when a binary holds no test case at all.
bool ran_no_tests(workbook::process_result const& run) { return run.output.find("No tests ran") != std::string::npos; }
bool passed(workbook::process_result const& run)
{
  return ran_to_the_end(run) && run.exit_code == 0 && !ran_no_tests(run);
}

std::string how_it_ended(workbook::process_result const& run)
{
  if (run.timed_out)
    return "it was still running after " + std::to_string(run_limit.count()) + " ms and was stopped";
  if (run.signal)
    return "it crashed (signal " + std::to_string(run.signal) + ", " + ::strsignal(run.signal) + ")";
  if (run.exit_code == 127) return "it could not be started (exit code 127)";
  if (run.exit_code == 0 && ran_no_tests(run)) return "it holds no test case";
  return run.exit_code == 0 ? "every test passed (exit code 0)"
                            : "some test failed (exit code " + std::to_string(run.exit_code) + ")";
}

// The end of what the binary printed: Catch2's report of what failed,
// without its rulers and banner.
std::string tail(std::string const& output, std::size_t max_lines = 30)
{
  std::vector<std::string> lines;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    bool const ruler = line.size() > 20 && line.find_first_not_of(line.front()) == std::string::npos;
    bool const banner = line.find("is a Catch v") != std::string::npos || line == "Run with -? for options";
    if (ruler || banner || (line.empty() && (lines.empty() || lines.back().empty()))) continue;
    lines.push_back(line);
  }
  std::size_t const first = lines.size() > max_lines ? lines.size() - max_lines : 0;
  std::string out;
  for (std::size_t i = first; i < lines.size(); ++i) out += "  | " + lines[i] + "\n";
  return out.empty() ? "  | (no output)\n" : out;
}

std::string binary_name(std::string const& tool) { return workbook::tool(tool).filename().string(); }

// The tests must tell the broken handler behind `tool` from the reference:
// pass against the one, fail (not crash, not hang) against the other.
void require_caught(std::string const& tool, std::string const& flaw)
{
  if (handlers_withheld()) WORKBOOK_SKIP(withheld_reason);
  INFO("the broken handler (solutions/task-08/broken/): " << flaw);
  {
    auto const& reference = run_against_reference();
    INFO("against the reference handler (" << binary_name("tests-vs-reference") << "): "
         << how_it_ended(reference) << "; AC5 shows how");
    INFO("tests that fail against the reference handler fail against every handler: their failing "
         "here catches nothing. Make them pass there first.");
    bool const pass_against_reference = passed(reference);
    REQUIRE(pass_against_reference);
  }

  auto const run = run_tests(tool, {});
  INFO("against this broken handler (" << binary_name(tool) << "): " << how_it_ended(run) << "\n" << tail(run.output));
  {
    INFO("a crash or a hang is not a failing test: it says the tests broke, not that they noticed the "
         "handler's mistake. Check a value with REQUIRE before using it, and bound every wait.");
    bool const ran_to_its_end = ran_to_the_end(run);
    REQUIRE(ran_to_its_end);
  }
  INFO("every test passed against it: none of them tells this handler from a correct one. Which "
       "upstream, and which check on the answer, would make the difference show?");
  bool const caught = run.exit_code != 0;
  CHECK(caught);
}

} // namespace

// ---------------------------------------------------------------- AC5

TEST_CASE("your tests pass against the reference handler, and every test case asserts something", "[AC5]")
{
  if (handlers_withheld()) WORKBOOK_SKIP(withheld_reason);
  auto const& run = run_against_reference();
  INFO("your tests, built with the reference handler (" << binary_name("tests-vs-reference")
       << ", run with --warn NoAssertions): " << how_it_ended(run) << "\n" << tail(run.output));
  INFO("a test case that asserts nothing fails here (\"No assertions in test case\"): a test that "
       "checks nothing passes against every handler, so it tells you nothing");
  REQUIRE(ran_to_the_end(run));
  CHECK(run.exit_code == 0);
  bool const has_tests = !ran_no_tests(run);
  CHECK(has_tests);
}

// ---------------------------------------------------------------- AC6

TEST_CASE("your tests catch a handler that asks the upstream for the wrong path", "[AC6]")
{
  require_caught("tests-vs-wrong-path", "wrong_path.cpp asks the upstream for GET /time instead of GET /now");
}

TEST_CASE("your tests catch a handler that keeps the newline the upstream sent", "[AC6]")
{
  require_caught("tests-vs-untrimmed",
                 "untrimmed.cpp checks the trimmed value, then answers with the body as it came: \"now: 1700000000\\n\"");
}

TEST_CASE("your tests catch a handler that answers 200 when the upstream is down", "[AC6]")
{
  require_caught("tests-vs-ok-on-failure",
                 "ok_on_failure.cpp answers 200 \"now: unknown\" when the upstream cannot be reached");
}

TEST_CASE("your tests catch a handler that ignores the upstream's status", "[AC6]")
{
  require_caught("tests-vs-no-status-check",
                 "no_status_check.cpp never looks at the status: a 500 whose body is an integer becomes a 200");
}

TEST_CASE("your tests catch a handler that passes on a body that is not an integer", "[AC6]")
{
  require_caught("tests-vs-unchecked-body",
                 "unchecked_body.cpp answers 200 with whatever a 2xx upstream sent: \"now: soon\"");
}

TEST_CASE("your tests catch a handler that keeps the first upstream URL it saw in a static", "[AC6]")
{
  require_caught("tests-vs-static-url",
                 "static_url.cpp builds its URL once, in a function-local static: every proxy_time after "
                 "the first asks the first one's upstream");
}
