#include "report.hpp"
#include "run.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>

using namespace grader;

TEST_CASE("events fold into per-case results", "[run]")
{
  std::vector<case_result> cases{{"a", {"[AC1]"}, case_status::not_run, {}, 0, 0, {}},
                                 {"b", {"[AC2]"}, case_status::not_run, {}, 0, 0, {}}};
  int current = -1;
  apply_event(R"j({"event":"case-start","name":"a","tags":["AC1"]})j", cases, current);
  CHECK(current == 0);
  apply_event(R"j({"event":"failure","case":"a","expr":"CHECK( x == 1 )","expanded":"2 == 1","file":"t.cpp","line":7,"transcript":"[1] > GET /"})j", cases, current);
  apply_event(R"j({"event":"case-end","name":"a","passed":false,"seconds":0.5})j", cases, current);
  CHECK(current == -1);
  apply_event("not json at all", cases, current);
  apply_event(R"j({"event":"case-start","name":"b","tags":["AC2"]})j", cases, current);

  CHECK(cases[0].status == case_status::failed);
  REQUIRE(cases[0].failures.size() == 1);
  CHECK(cases[0].failures[0].expanded == "2 == 1");
  CHECK(cases[0].failures[0].line == 7);
  CHECK(cases[0].failures[0].transcript == "[1] > GET /");
  CHECK(current == 1);  // b started and never ended: the one a crash would blame
  CHECK(cases[1].status == case_status::not_run);
}

TEST_CASE("test names are escaped for Catch2's command line", "[run]")
{
  CHECK(escape_test_name("plain name") == "plain name");
  CHECK(escape_test_name("a, b [x] \"q\" ~n *") == "a\\, b \\[x\\] \\\"q\\\" \\~n \\*");
}

TEST_CASE("signals are named for people", "[run]")
{
  CHECK(signal_name(SIGSEGV).find("segmentation fault") != std::string::npos);
  CHECK(signal_name(SIGABRT).find("abort") != std::string::npos);
}

TEST_CASE("a criterion passes only when it has tests and all pass", "[report]")
{
  task t;
  t.id = "task-99";
  t.criteria = {{"AC1", "one"}, {"AC2", "two"}, {"AC3", "three"}};
  run_result run;
  run.started = true;
  run.cases = {{"p", {"AC1"}, case_status::passed, {}, 0, 0, {}},
               {"q", {"ac2"}, case_status::passed, {}, 0, 0, {}},
               {"r", {"AC2"}, case_status::crashed, {}, SIGSEGV, 0, {}},
               {"s", {"other"}, case_status::passed, {}, 0, 0, {}}};
  auto const v = assess(t, run, "stub");
  CHECK(v.criteria[0].passed);
  CHECK_FALSE(v.criteria[1].passed);
  CHECK_FALSE(v.criteria[2].passed);  // no test at all
  CHECK(v.passed_count() == 1);
  CHECK_FALSE(v.all_passed());
  REQUIRE(v.untagged.size() == 1);
  CHECK(v.untagged[0].name == "s");

  auto const j = to_json(t, v);
  CHECK(j["criteria_passed"] == 1);
  CHECK(j["criteria"][1]["tests"][1]["status"] == "crashed");
}

#include "sandbox.hpp"

#include <workbook/process.hpp>

#include <unistd.h>

namespace {

// Runs argv under the sandbox policy and returns what it printed.
std::string sandboxed_output(std::vector<std::string> argv, sandbox_policy policy)
{
  workbook::spawn_options options;
  options.argv = std::move(argv);
  options.child_setup = &apply_in_child;
  options.child_setup_arg = &policy;
  return workbook::run_process(std::move(options), std::chrono::seconds(10)).output;
}

} // namespace

TEST_CASE("the sandbox limits resources and, as root, leaves only loopback", "[sandbox]")
{
  sandbox_policy policy;
  auto const limits = sandboxed_output({"cat", "/proc/self/limits"}, policy);
  CHECK(limits.find("Max core file size        0") != std::string::npos);

  auto const interfaces = sandboxed_output({"cat", "/proc/self/net/dev"}, policy);
  REQUIRE(interfaces.find("lo:") != std::string::npos);
  if (::geteuid() == 0) {
    // Two header lines and "lo": nothing that reaches beyond this machine.
    CHECK(std::count(interfaces.begin(), interfaces.end(), '\n') == 3);
  } else {
    WARN("not root: the network namespace is not isolated (best effort), only checked as root");
  }
}
