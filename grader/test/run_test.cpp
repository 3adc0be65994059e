#include "grade.hpp"
#include "report_json.hpp"
#include "run.hpp"

#include <catch2/catch.hpp>

#include <workbook/process.hpp>
#include <workbook/skip.hpp>
#include <workbook/temp_dir.hpp>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace grader;

namespace events = workbook::events;

namespace {

case_result pending(std::string name, std::vector<std::string> tags, case_status status = case_status::not_run)
{
  case_result c;
  c.name = std::move(name);
  c.tags = std::move(tags);
  c.status = status;
  return c;
}

// Feeds one line through the protocol, as the grader reads it.
void feed(std::string const& line, std::vector<case_result>& cases, int& current)
{
  if (auto e = events::decode(line)) apply_event(*e, cases, current);
}

} // namespace

TEST_CASE("every event kind survives the protocol both ways", "[protocol]")
{
  events::case_start const start{{"a test, with [brackets]", {"AC1", "slow"}, "/x/t.cpp", 12}};
  events::failure const fail{"a test", "CHECK( x == 1 )", "2 == 1", "msg", {"info 1", "i2"}, "t.cpp", 7, "[1] > GET /\n", true};
  events::case_end const end{"a test", false, 1, 3, 0.25, "nghttpd is not installed"};
  for (events::event const& e : std::vector<events::event>{start, fail, end}) {
    std::string const line = events::encode(e);
    CHECK(line.find('\n') == std::string::npos);   // one event, one line
    auto const back = events::decode(line);
    REQUIRE(back);
    CHECK(back->index() == e.index());
    CHECK(events::encode(*back) == line);
  }
  auto const s = std::get<events::case_start>(*events::decode(events::encode(start)));
  CHECK(s.info.tags == std::vector<std::string>{"AC1", "slow"});
  CHECK(s.info.line == 12);
  auto const f = std::get<events::failure>(*events::decode(events::encode(fail)));
  CHECK(f.info == std::vector<std::string>{"info 1", "i2"});
  CHECK(f.transcript == "[1] > GET /\n");
  CHECK(f.fatal);
  auto const d = std::get<events::case_end>(*events::decode(events::encode(end)));
  CHECK(d.assertions == 3);
  CHECK(d.seconds == 0.25);

  auto const listing = events::decode_listing(events::encode_listing({start.info}));
  REQUIRE(listing);
  REQUIRE(listing->size() == 1);
  CHECK(listing->front().name == "a test, with [brackets]");
}

TEST_CASE("lines that are not events of this version are ignored", "[protocol]")
{
  CHECK_FALSE(events::decode("not json at all"));
  CHECK_FALSE(events::decode(R"({"event":"case-start","name":"a"})"));            // no version
  CHECK_FALSE(events::decode(R"({"v":99,"event":"case-start","name":"a"})"));     // another version
  CHECK_FALSE(events::decode(R"({"v":1,"event":"gossip"})"));
  CHECK_FALSE(events::decode_listing("[]"));
  std::string const invalid_utf8 = events::encode(events::case_end{"caf\xe9", true, 0, 1, 0, ""});
  CHECK(events::decode(invalid_utf8));   // replaced, not lost
}

TEST_CASE("events fold into per-case results", "[run]")
{
  std::vector<case_result> cases{pending("a", {"AC1"}), pending("b", {"AC2"})};
  int current = -1;
  feed(events::encode(events::case_start{{"a", {"AC1"}, "", 0}}), cases, current);
  CHECK(current == 0);
  feed(events::encode(events::failure{"a", "CHECK( x == 1 )", "2 == 1", "", {}, "t.cpp", 7, "[1] > GET /"}), cases, current);
  feed(events::encode(events::case_end{"a", false, 1, 1, 0.5, ""}), cases, current);
  CHECK(current == -1);
  feed("not json at all", cases, current);
  feed(events::encode(events::case_start{{"b", {"AC2"}, "", 0}}), cases, current);

  CHECK(cases[0].status == case_status::failed);
  REQUIRE(cases[0].failures.size() == 1);
  CHECK(cases[0].failures[0].expanded == "2 == 1");
  CHECK(cases[0].failures[0].line == 7);
  CHECK(cases[0].failures[0].transcript == "[1] > GET /");
  CHECK(current == 1);  // b started and never ended: the one a crash would blame
  CHECK(cases[1].status == case_status::not_run);

  // Catch2 catches a signal, reports it, ends the case, then the process
  // dies: the case must stay the one to blame.
  feed(events::encode(events::failure{"b", "", "", "SIGSEGV - Segmentation violation signal", {}, "t.cpp", 9, "", true}),
       cases, current);
  feed(events::encode(events::case_end{"b", false, 1, 1, 0.1, ""}), cases, current);
  CHECK(current == 1);
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

TEST_CASE("a criterion passes only when it has tests and all pass", "[verdict]")
{
  task t;
  t.id = "task-99";
  t.criteria = {{"AC1", "one"}, {"AC2", "two"}, {"AC3", "three"}};
  run_result run;
  run.started = true;
  auto crashed = pending("r", {"AC2"}, case_status::crashed);
  crashed.signal = SIGSEGV;
  run.cases = {pending("p", {"AC1"}, case_status::passed), pending("q", {"ac2"}, case_status::passed), crashed,
               pending("s", {"other"}, case_status::passed)};
  auto const v = assess(t, run, "stub");
  CHECK(v.criteria[0].passed);
  CHECK_FALSE(v.criteria[1].passed);
  CHECK_FALSE(v.criteria[2].passed);  // no test at all
  CHECK(score_of(v).criteria_passed == 1);
  CHECK_FALSE(score_of(v).passed);
  REQUIRE(v.untagged.size() == 1);
  CHECK(v.untagged[0].name == "s");

  auto const j = to_json(v);
  CHECK(j["version"] == verdict_json_version);
  CHECK(j["criteria_passed"] == 1);
  CHECK(j["criteria"][1]["tests"][1]["status"] == "crashed");
  CHECK(j["criteria"][1]["tests"][1]["message"].get<std::string>().find("SIGSEGV") != std::string::npos);
}

TEST_CASE("no case that did not pass goes without a message", "[verdict]")
{
  for (auto status : {case_status::failed, case_status::crashed, case_status::exited, case_status::timed_out,
                      case_status::skipped, case_status::not_run, case_status::unavailable}) {
    auto c = pending("x", {"AC1"}, status);
    CHECK_FALSE(describe(c).empty());
    CHECK(std::string(status_word(status)) != "unknown");
  }
}

TEST_CASE("a criterion needs a case that ran and passed; one that could not run here neither fails nor proves it",
          "[verdict]")
{
  auto const passed = pending("p", {"AC1"}, case_status::passed);
  auto const unavailable = pending("u", {"AC1"}, case_status::unavailable);
  auto const failed = pending("f", {"AC1"}, case_status::failed);
  CHECK(criterion_holds({passed}));
  CHECK(criterion_holds({passed, unavailable}));
  CHECK_FALSE(criterion_holds({unavailable}));
  CHECK_FALSE(criterion_holds({passed, unavailable, failed}));
  CHECK_FALSE(criterion_holds({}));
}

#include "sandbox.hpp"

#include <workbook/process.hpp>

#include <unistd.h>

namespace {

// Runs argv under the sandbox policy and returns what it printed.
workbook::process_result sandboxed_run(std::vector<std::string> argv, sandbox_policy policy)
{
  workbook::spawn_options options;
  options.argv = std::move(argv);
  options.env = {{"WORKBOOK_TEST_VARIABLE", "kept"}};
  apply_sandbox(policy, options);
  auto r = workbook::run_process(std::move(options), std::chrono::seconds(10));
  unwrap_exit(policy, r);
  return r;
}

std::string sandboxed_output(std::vector<std::string> argv, sandbox_policy policy)
{
  return sandboxed_run(std::move(argv), std::move(policy)).output;
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

TEST_CASE("a confined run (marking) writes only its own /tmp, cannot see the hidden directories, and dies by its own signal",
          "[sandbox]")
{
  if (!bubblewrap_refusal().empty()) WORKBOOK_SKIP(bubblewrap_refusal());
  workbook::temp_dir dir("grader-confined", "/var/tmp");   // not below /tmp, which the sandbox replaces
  std::filesystem::create_directories(dir.path() / "solutions");
  std::ofstream(dir.path() / "solutions" / "answer.cpp") << "the reference\n";
  sandbox_policy policy;
  policy.confine_files = true;
  policy.hidden = {dir.path() / "solutions"};

  ::setenv("WORKBOOK_TEST_SECRET", "leaked", 1);   // the grader's own environment: not passed on
  auto const d = dir.path().string();
  auto const r = sandboxed_run({"sh", "-c",
                                "ls -A " + d + "/solutions | wc -l; touch " + d + "/written 2>&1 || echo refused; "
                                "touch /tmp/mine && echo tmp-ok; echo \"env $HOME $WORKBOOK_TEST_VARIABLE ${WORKBOOK_TEST_SECRET:-none}\"; "
                                "cat /proc/self/net/dev | wc -l"},
                               policy);
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.starts_with("0\n"));                            // the hidden directory is empty
  CHECK(r.output.find("refused") != std::string::npos);          // the rest is read-only
  CHECK(!std::filesystem::exists(dir.path() / "written"));
  CHECK(r.output.find("tmp-ok") != std::string::npos);
  CHECK(r.output.find("env /tmp kept none") != std::string::npos);   // only what the run is given
  ::unsetenv("WORKBOOK_TEST_SECRET");
  CHECK(r.output.ends_with("3\n"));                               // loopback only
  CHECK(std::filesystem::exists(dir.path() / "solutions" / "answer.cpp"));

  // A tree below /tmp (a checkout there) stays visible when the policy says so.
  workbook::temp_dir below_tmp("grader-visible");
  std::ofstream(below_tmp.path() / "seen") << "still here\n";
  policy.visible = {below_tmp.path()};
  CHECK(sandboxed_output({"cat", (below_tmp.path() / "seen").string()}, policy) == "still here\n");

  // A concealed tree shows only what `visible` names inside it (a marking's
  // workspace inside the trusted tree, whose references stay out of sight).
  workbook::temp_dir around("grader-concealed", "/var/tmp");
  std::filesystem::create_directories(around.path() / "workspace");
  std::ofstream(around.path() / "answer.cpp") << "the trusted reference\n";
  std::ofstream(around.path() / "workspace" / "mine") << "visible\n";
  sandbox_policy concealing;
  concealing.confine_files = true;
  concealing.concealed = {around.path()};
  concealing.visible = {around.path() / "workspace"};
  CHECK(sandboxed_output({"cat", (around.path() / "workspace" / "mine").string()}, concealing) == "visible\n");
  CHECK(sandboxed_output({"sh", "-c", "test -e " + (around.path() / "answer.cpp").string() + " && echo seen || echo hidden"},
                         concealing) == "hidden\n");

  auto const crashed = sandboxed_run({"sh", "-c", "kill -SEGV $$"}, policy);
  CHECK(crashed.signal == SIGSEGV);
  CHECK(describe(policy, "sh").find("bubblewrap") != std::string::npos);
}

TEST_CASE("a marking's run has a user of its own, whose processes are limited, with or without bubblewrap", "[sandbox]")
{
  if (::geteuid() != 0) WORKBOOK_SKIP("only root can give a run a user of its own");
  sandbox_policy policy;
  policy.process_limit = 16;
  // Forty processes at once, where sixteen are allowed: dash says it cannot fork.
  std::vector<std::string> const forty{"sh", "-c", "id -u; i=0; while [ $i -lt 40 ]; do sleep 1 & i=$((i+1)); done; wait"};
  for (bool const bubblewrap : {false, true}) {
    if (bubblewrap && !bubblewrap_refusal().empty()) {
      WARN("bubblewrap not tried: " << bubblewrap_refusal());
      continue;
    }
    policy.confine_files = bubblewrap;
    INFO("under bubblewrap: " << bubblewrap);
    auto const r = sandboxed_run(forty, policy);
    INFO(r.output);
    CHECK(std::stoul(r.output) >= 2'000'000'000ul);
    CHECK(r.exit_code != 0);
    CHECK(r.output.find("fork") != std::string::npos);
    CHECK(describe(policy, "sh").find("processes: at most 16 at once, as a user of its own") != std::string::npos);
  }
  // Without the limit, the same run starts all forty.
  policy.process_limit = 0;
  policy.confine_files = false;
  auto const unlimited = sandboxed_run(forty, policy);
  INFO(unlimited.output);
  CHECK(unlimited.exit_code == 0);
}
