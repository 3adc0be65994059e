// The grader against broken code. Every tiny task under test/scenarios is
// graded through the same code as `grader task-NN --json` (build, run in a
// child process group, assess, render) and its verdict is compared with
// golden/<task>.json, leaving out what depends on the machine. Beside the
// golden files, the promises every verdict keeps are checked directly.
#include "catalog.hpp"
#include "files.hpp"
#include "grade.hpp"
#include "mark.hpp"
#include "mark_formats.hpp"
#include "report_json.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <map>

using namespace grader;
namespace fs = std::filesystem;

namespace {

fs::path const scenarios = WORKBOOK_SCENARIOS_DIR;

workbook_paths scenario_paths()
{
  workbook_paths p;
  p.root = scenarios;
  p.build_dir = WORKBOOK_BINARY_DIR;
  return p;
}

// The verdict without what differs from machine to machine or run to run.
nlohmann::json stable_part(nlohmann::json j)
{
  for (auto key : {"build_seconds", "run_seconds", "log", "sandbox"}) j.erase(key);
  if (!j["detail"].get<std::string>().empty()) j["detail"] = "(not empty)";
  auto strip_case = [](nlohmann::json& c) {
    for (auto key : {"seconds", "output_tail"}) c.erase(key);
    for (auto& f : c["failures"]) {
      f["file"] = fs::path(f["file"].get<std::string>()).filename().string();
      if (!f["transcript"].get<std::string>().empty()) f["transcript"] = "(not empty)";
      f.erase("line");
    }
  };
  for (auto& c : j["criteria"])
    for (auto& t : c["tests"]) strip_case(t);
  for (auto& t : j["untagged"]) strip_case(t);
  return j;
}

// Each scenario is built and graded once per run of this binary.
verdict const& graded(std::string const& id)
{
  static std::map<std::string, verdict> done;
  if (auto it = done.find(id); it != done.end()) return it->second;
  catalog const cat(scenarios);
  task const* t = cat.find(id);
  REQUIRE(t);
  return done.emplace(id, grade(scenario_paths(), *t, "stub")).first->second;
}

case_result const& case_named(verdict const& v, std::string const& name)
{
  for (auto const& cv : v.criteria)
    for (auto const& c : cv.cases)
      if (c.name == name) return c;
  FAIL("no case named " << name);
  throw std::logic_error("unreachable");
}

} // namespace

TEST_CASE("every scenario's verdict matches its golden file", "[scenarios]")
{
  bool const update = std::getenv("WORKBOOK_UPDATE_GOLDEN") != nullptr;
  for (auto const& id : catalog(scenarios).ids()) {
    DYNAMIC_SECTION(id)
    {
      auto const& v = graded(id);
      auto const j = to_json(v);
      // Kept whole for validate_verdicts.py (selftest checks them against docs/verdict.schema.json).
      fs::path const kept = fs::path(WORKBOOK_BINARY_DIR) / "grader-logs" / "verdicts" / (id + ".json");
      fs::create_directories(kept.parent_path());
      std::ofstream(kept) << j.dump(2) << "\n";
      // Promises every verdict keeps, whatever the golden file says.
      if (v.result != verdict::outcome::graded) CHECK_FALSE(v.detail.empty());
      for (auto const& c : j["criteria"])
        for (auto const& t : c["tests"])
          if (t["status"] != "passed") CHECK_FALSE(t["message"].get<std::string>().empty());

      fs::path const golden = scenarios / "golden" / (id + ".json");
      auto const actual = stable_part(j);
      if (update) {
        fs::create_directories(golden.parent_path());
        std::ofstream(golden) << actual.dump(2) << "\n";
        WARN("wrote " << golden);
      }
      INFO("golden file " << golden << " (WORKBOOK_UPDATE_GOLDEN=1 writes it anew)");
      auto const expected = nlohmann::json::parse(read_file_or_empty(golden), nullptr, false);
      REQUIRE_FALSE(expected.is_discarded());
      CHECK(actual.dump(2) == expected.dump(2));
    }
  }
}

TEST_CASE("a test that cannot run here is reported with its reason and does not fail its criterion", "[scenarios]")
{
  auto const& v = graded("task-91");
  auto const& c = case_named(v, "needs a program this machine lacks");
  CHECK(c.status == case_status::unavailable);
  CHECK(c.unavailable_because == "workbook-no-such-peer is not installed");
  CHECK(describe(c) == "not run here: workbook-no-such-peer is not installed");
  REQUIRE_FALSE(v.criteria.empty());
  CHECK(v.criteria.front().passed);
}

TEST_CASE("a crash names the test that ran and what it printed last", "[scenarios]")
{
  auto const& v = graded("task-92");
  auto const& crashed = case_named(v, "dereferences a null pointer");
  CHECK(crashed.status == case_status::crashed);
  CHECK(describe(crashed).find("SIGSEGV") != std::string::npos);
  CHECK(crashed.output_tail.find("about to read through a null pointer") != std::string::npos);
  CHECK(case_named(v, "calls abort").status == case_status::crashed);
  CHECK(case_named(v, "runs after the crashes").status == case_status::passed);
}

TEST_CASE("a hang costs one time limit per criterion, not one per test", "[scenarios]")
{
  auto const& v = graded("task-93");
  CHECK(case_named(v, "hangs first").status == case_status::timed_out);
  CHECK(case_named(v, "would hang second").status == case_status::skipped);
  CHECK(case_named(v, "would hang third").status == case_status::skipped);
  CHECK(describe(case_named(v, "would hang second")).find("hangs first") != std::string::npos);
  CHECK(case_named(v, "passes after the hang").status == case_status::passed);
}

TEST_CASE("an exit in the middle of a test is that test's failure, with a message", "[scenarios]")
{
  auto const& v = graded("task-94");
  auto const& exited = case_named(v, "calls std::exit(0)");
  CHECK(exited.status == case_status::exited);
  CHECK(exited.exit_code == 0);
  CHECK(describe(exited).find("exited with code 0") != std::string::npos);
  CHECK(case_named(v, "throws 42").status == case_status::failed);
  CHECK(case_named(v, "passes").status == case_status::passed);
}

TEST_CASE("a missed bonus criterion is reported but does not fail the task", "[scenarios]")
{
  auto const& v = graded("task-97");
  REQUIRE(v.criteria.size() == 3);
  CHECK_FALSE(v.criteria[0].what.bonus);
  CHECK(v.criteria[1].what.bonus);
  CHECK(v.criteria[1].what.text.rfind("Fails", 0) == 0);
  CHECK(v.criteria[2].what.bonus);
  CHECK(v.criteria[2].what.text.rfind("Passes", 0) == 0);
  CHECK_FALSE(v.criteria[1].passed);
  auto const sc = score_of(v);
  CHECK(sc.passed);
  CHECK(sc.criteria_passed == 1);
  CHECK(sc.criteria_total == 1);
  CHECK(sc.bonus_passed == 1);
  CHECK(sc.bonus_total == 2);
}

TEST_CASE("code that does not compile gets the compiler's first error", "[scenarios]")
{
  auto const& v = graded("task-96");
  CHECK(v.result == verdict::outcome::did_not_compile);
  CHECK(v.detail.find("error") != std::string::npos);
  CHECK(v.detail.find("scenario.cpp") != std::string::npos);
}

namespace {

// A verdict as the machine-independent golden files of marking hold it.
verdict scrubbed(verdict v)
{
  v.build_seconds = v.run_seconds = 0;
  v.log = v.sandbox = "";
  if (!v.detail.empty()) v.detail = "(not empty)";
  auto scrub = [](case_result& c) {
    c.seconds = 0;
    c.output_tail = c.output_tail.empty() ? "" : "(not empty)";
    for (auto& f : c.failures) {
      f.file = fs::path(f.file).filename().string();
      f.line = 0;
      if (!f.transcript.empty()) f.transcript = "(not empty)";
    }
  };
  for (auto& cv : v.criteria)
    for (auto& c : cv.cases) scrub(c);
  for (auto& c : v.untagged) scrub(c);
  return v;
}

} // namespace

TEST_CASE("marking renders the same totals in every format", "[scenarios][mark]")
{
  // A task that passes some criteria, one that does not compile, one whose
  // bonus is half met: 1 + 0 + 1 points of 3 + 1 + 1, one bonus point extra.
  marking m;
  m.submission = "/submission";
  for (auto id : {"task-91", "task-96", "task-97"}) m.verdicts.push_back(scrubbed(graded(id)));
  m.ws.ignored = {"exercises/task-91/test/scenario.cpp"};
  m.ws.tampered = {"exercises/task-91/test/scenario.cpp"};  // changed since the edition was exported

  bool const update = std::getenv("WORKBOOK_UPDATE_GOLDEN") != nullptr;
  for (auto format : mark_formats) {
    DYNAMIC_SECTION(format)
    {
      auto const text = render_marking(m, format);
      fs::path const golden = scenarios / "golden" / fmt::format("marking.{}", format == "junit" ? "xml" : std::string(format) + ".json");
      if (update) std::ofstream(golden) << text;
      CHECK(text == read_file_or_empty(golden));
    }
  }
  auto const own = nlohmann::json::parse(render_marking(m, "json"));
  auto const gradescope = nlohmann::json::parse(render_marking(m, "gradescope"));
  auto const exercism = nlohmann::json::parse(render_marking(m, "exercism"));
  CHECK(own["score"] == 3);
  CHECK(own["max_score"] == 5);
  CHECK(gradescope["score"] == own["score"]);
  CHECK(gradescope["max_score"] == own["max_score"]);
  int points = 0;
  for (auto const& t : gradescope["tests"]) points += t["score"].get<int>();
  CHECK(points == own["score"]);
  CHECK(exercism["status"] == "error");  // task-96 did not compile
  CHECK_FALSE(exercism["message"].get<std::string>().empty());
  auto const junit = render_marking(m, "junit");
  CHECK(junit.find(R"(<testsuite name="task-96" tests="1" failures="0" errors="1")") != std::string::npos);
}

TEST_CASE("a case that fails and then passes counts as passed, flagged flaky", "[mark]")
{
  verdict v = scrubbed(graded("task-91"));
  auto& ac2 = v.criteria[1];
  REQUIRE_FALSE(ac2.passed);
  std::vector<case_result> rerun = ac2.cases;
  for (auto& c : rerun) c.status = case_status::passed;
  rerun_failures_once(v, rerun);
  CHECK(v.criteria[1].passed);
  CHECK(v.criteria[1].cases.front().flaky);
  CHECK_FALSE(v.criteria[0].cases.front().flaky);
}

TEST_CASE("output kept for a format keeps its head and its tail", "[mark]")
{
  std::string const text = "first line\n" + std::string(10000, 'x') + "\nthe failure at the end";
  auto const kept = bounded_output(text, 500);
  CHECK(kept.size() <= 500);
  CHECK(kept.starts_with("first line"));
  CHECK(kept.ends_with("the failure at the end"));
  CHECK(kept.find("bytes elided]") != std::string::npos);
  CHECK(bounded_output("short", 500) == "short");
}
