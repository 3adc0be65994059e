#include "progress.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include <unistd.h>

namespace fs = std::filesystem;
using namespace grader;

namespace {

struct temp_dir {
  fs::path path = fs::temp_directory_path() / ("grader-progress-" + std::to_string(::getpid()));
  temp_dir() { fs::remove_all(path); fs::create_directories(path); }
  ~temp_dir() { fs::remove_all(path); }
};

std::string slurp(fs::path const& p)
{
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

task_record passed(int n)
{
  task_record r;
  r.verdict = "passed";
  r.criteria_passed = r.criteria_total = n;
  r.when = "2026-01-01T00:00:00Z";
  return r;
}

} // namespace

TEST_CASE("progress round-trips and keeps unknown fields", "[progress]")
{
  temp_dir dir;
  progress_store a(dir.path / "progress.json");
  auto r = passed(4);
  r.score = 2;
  r.self_grade = 3;
  r.cap_reason = "NOTES.md's Cross-cutting concern section is not filled in";
  r.hints_shown = {0, 2};
  r.extra["from_a_newer_grader"] = "kept";
  a.set("task-01", r);
  auto f = passed(3);
  f.verdict = "failed";
  f.criteria_passed = 1;
  a.set("task-02", f);
  a.save();

  progress_store b(dir.path / "progress.json");
  CHECK_FALSE(b.load().has_value());
  REQUIRE(b.get("task-01"));
  auto const one = *b.get("task-01");
  CHECK(one.score == 2);
  CHECK(one.self_grade == 3);
  CHECK(one.cap_reason == r.cap_reason);
  CHECK(one.hints_shown == std::vector<int>{0, 2});
  CHECK(one.extra["from_a_newer_grader"] == "kept");
  CHECK_FALSE(one.revealed);
  CHECK(b.get("task-02")->criteria_passed == 1);
  CHECK_FALSE(b.get("task-03"));
  // No temporary file left behind.
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator{}) == 1);
}

TEST_CASE("a truncated progress file is kept aside and every intact record recovered", "[progress]")
{
  temp_dir dir;
  auto const file = dir.path / "progress.json";
  progress_store a(file);
  a.set("task-01", passed(4));
  a.set("task-02", passed(3));
  a.set("task-03", passed(5));
  a.save();
  std::string text = slurp(file);
  text.resize(text.find("\"task-03\"") + 20);   // cut mid-record, as a crash or an editor might
  std::ofstream(file) << text;

  progress_store b(file);
  auto const message = b.load();
  REQUIRE(message.has_value());
  CHECK(message->find("damaged") != std::string::npos);
  CHECK(b.get("task-01"));
  CHECK(b.get("task-02"));
  CHECK_FALSE(b.get("task-03"));
  bool kept_aside = false;
  for (auto const& e : fs::directory_iterator(dir.path))
    if (e.path().filename().string().find("progress.json.damaged-") == 0) kept_aside = true;
  CHECK(kept_aside);

  progress_store c(file);  // the recovered file is whole again
  CHECK_FALSE(c.load().has_value());
  CHECK(c.get("task-02"));
}

TEST_CASE("a mangled record loses only itself", "[progress]")
{
  temp_dir dir;
  auto const file = dir.path / "progress.json";
  std::ofstream(file) << R"({"version":1,"tasks":{"task-01":{"verdict":"passed","criteria_passed":2,"criteria_total":2},"task-02":"oops"}})";
  progress_store s(file);
  CHECK(s.load().has_value());
  CHECK(s.get("task-01"));
  CHECK_FALSE(s.get("task-02"));
}
