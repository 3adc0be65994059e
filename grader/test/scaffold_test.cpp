#include "catalog.hpp"
#include "scaffold.hpp"
#include "task_checks.hpp"

#include <catch2/catch.hpp>

#include <fstream>

#include <unistd.h>

namespace fs = std::filesystem;
using namespace grader;

namespace {

struct temp_root {
  fs::path path = fs::temp_directory_path() / ("grader-scaffold-" + std::to_string(::getpid()));
  temp_root() { fs::remove_all(path); fs::create_directories(path / "exercises"); }
  ~temp_root() { fs::remove_all(path); }
};

} // namespace

TEST_CASE("a scaffolded task is sound as written, and listed", "[scaffold]")
{
  temp_root root;
  auto const result = scaffold_task(root.path, {"task-21", "Rate limiter", "Senior", ""});
  REQUIRE(result.error.empty());
  CHECK(fs::exists(root.path / "exercises/task-21/rate_limiter.hpp"));
  CHECK(fs::exists(root.path / "exercises/task-21/rate_limiter.cpp"));
  CHECK(fs::exists(root.path / "exercises/task-21/test/rate_limiter_test.cpp"));
  CHECK(fs::exists(root.path / "solutions/task-21/rate_limiter.cpp"));
  CHECK(fs::is_directory(root.path / "solutions/task-21/mutants"));

  auto const t = load_task(root.path, "task-21");
  INFO((t.problems.empty() ? std::string() : t.problems.front().what));
  CHECK(t.sound());
  CHECK(t.title == "Rate limiter");
  CHECK(t.difficulty == "Senior");
  CHECK(t.criteria.size() == 2);
  CHECK(t.hints_for("AC1").size() == 1);
  CHECK(catalog(root.path).find("task-21") != nullptr);
}

TEST_CASE("scaffolding refuses an existing id and bad input, writing nothing", "[scaffold]")
{
  temp_root root;
  REQUIRE(scaffold_task(root.path, {"task-21", "Rate limiter", "Mid", ""}).error.empty());
  auto const again = scaffold_task(root.path, {"task-21", "Another", "Mid", ""});
  CHECK(again.error.find("exists already") != std::string::npos);
  CHECK(again.written.empty());
  CHECK(scaffold_task(root.path, {"task-2", "X", "Mid", ""}).error.find("not a task id") != std::string::npos);
  CHECK(scaffold_task(root.path, {"task-22", "", "Mid", ""}).error.find("title") != std::string::npos);
  CHECK(scaffold_task(root.path, {"task-22", "X", "Hard", ""}).error.find("difficulty") != std::string::npos);
  CHECK(scaffold_task(root.path, {"task-22", "X", "Mid", "Bad-Name"}).error.find("topic") != std::string::npos);
  CHECK_FALSE(fs::exists(root.path / "exercises/task-22"));
}

TEST_CASE("a topic is made from the title", "[scaffold]")
{
  CHECK(topic_from_title("Rate limiter") == "rate_limiter");
  CHECK(topic_from_title("Retry, with jitter!") == "retry_with_jitter");
  CHECK(topic_from_title("101 upgrade") == "task_101_upgrade");
}

TEST_CASE("stray files in a task's directories are named, its own files are not", "[scaffold]")
{
  temp_root root;
  REQUIRE(scaffold_task(root.path, {"task-21", "Rate limiter", "Mid", ""}).error.empty());
  auto const t = load_task(root.path, "task-21");
  CHECK(stray_files(t).empty());

  std::ofstream(root.path / "exercises/task-21/rate_limiter.cpp~") << "backup";
  std::ofstream(root.path / "solutions/task-21/rate_limiter.cpp.orig") << "patch leftover";
  std::ofstream(root.path / "exercises/task-21/test/big.json") << std::string((1 << 20) + 1, 'x');
  std::ofstream(root.path / "exercises/task-21/a.out") << "\x7f" "ELF";
  auto const stray = stray_files(t);
  REQUIRE(stray.size() == 4);
  CHECK(stray[0] == "exercises/task-21/a.out");
  CHECK(stray[1] == "exercises/task-21/rate_limiter.cpp~");
  CHECK(stray[2] == "exercises/task-21/test/big.json");
  CHECK(stray[3] == "solutions/task-21/rate_limiter.cpp.orig");
}
