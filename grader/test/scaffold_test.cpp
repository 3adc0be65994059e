#include "catalog.hpp"
#include "scaffold.hpp"

#include <catch2/catch.hpp>

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
