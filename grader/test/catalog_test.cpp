#include "catalog.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>

namespace fs = std::filesystem;
using namespace grader;

namespace {

std::string const good_readme = R"(# Task 07 · Middleware chain

## Goal
Compose things.

## Difficulty

Mid

## Skills
- composition

## Setup
Nothing.

## Steps
1. Write it.

## Acceptance criteria

- **AC1** · Order is `Logging` → `Auth`
  → handler.
- **AC2** · Missing token gives 401.

## Hints

- **AC1** · Compose right to left.
- **AC2** · Check before calling the handler.
- **AC2** · `WWW-Authenticate` goes with 401.

## Source trail
- `boost/beast/http/message.hpp` · fields.
)";

// text with the first occurrence of `from` replaced by `to`
std::string replaced(std::string text, std::string const& from, std::string const& to)
{
  auto const at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

struct temp_workbook {
  fs::path root = fs::temp_directory_path() / ("grader-catalog-" + std::to_string(::getpid()));
  temp_workbook() { fs::remove_all(root); }
  ~temp_workbook() { fs::remove_all(root); }
  void write(fs::path const& rel, std::string const& text)
  {
    fs::create_directories((root / rel).parent_path());
    std::ofstream(root / rel) << text;
  }
  void complete_task(std::string const& id, std::string const& readme)
  {
    write("exercises/" + id + "/README.md", readme);
    write("exercises/" + id + "/NOTES.md", "# notes\n");
    write("exercises/" + id + "/stub.cpp", "\n");
    write("exercises/" + id + "/test/t.cpp", "\n");
    write("solutions/" + id + "/stub.cpp", "\n");
    write("solutions/" + id + "/WHY.md", "why\n");
  }
};

} // namespace

TEST_CASE("a README yields title, difficulty, criteria and hints", "[catalog]")
{
  auto const r = parse_readme(good_readme);
  CHECK(r.title == "Middleware chain");
  CHECK(r.difficulty == "Mid");
  REQUIRE(r.criteria.size() == 2);
  CHECK(r.criteria[0].id == "AC1");
  CHECK(r.criteria[0].text == "Order is `Logging` → `Auth` → handler.");
  CHECK(r.criteria[1].text == "Missing token gives 401.");
  REQUIRE(r.hints.size() == 3);
  CHECK(r.hints[2].criterion == "AC2");
  CHECK(r.hints[2].text == "`WWW-Authenticate` goes with 401.");
  CHECK(r.unlabelled.empty());
}

TEST_CASE("a criterion marked (bonus) is read as one, before or after the separator", "[catalog]")
{
  for (std::string const marked : {"- **AC2** (bonus) · Missing", "- **AC2** · (bonus) Missing"}) {
    auto const r = parse_readme(replaced(good_readme, "- **AC2** · Missing", marked));
    REQUIRE(r.criteria.size() == 2);
    CHECK_FALSE(r.criteria[0].bonus);
    CHECK(r.criteria[1].bonus);
    CHECK(r.criteria[1].text == "Missing token gives 401.");
  }
}

TEST_CASE("a task whose every criterion is a bonus is broken", "[catalog]")
{
  temp_workbook wb;
  wb.complete_task("task-07", replaced(replaced(good_readme, "- **AC1** ·", "- **AC1** (bonus) ·"), "- **AC2** ·",
                                       "- **AC2** (bonus) ·"));
  auto const t = load_task(wb.root, "task-07");
  CHECK_FALSE(t.sound());
  CHECK(std::any_of(t.problems.begin(), t.problems.end(),
                    [](problem const& p) { return p.what.find("every criterion is a bonus") != std::string::npos; }));
}

TEST_CASE("a complete task directory is sound", "[catalog]")
{
  temp_workbook wb;
  wb.complete_task("task-07", good_readme);
  catalog const cat(wb.root);
  REQUIRE(cat.tasks().size() == 1);
  CHECK(cat.tasks()[0].sound());
  CHECK(cat.find("task-07") != nullptr);
}

TEST_CASE("a broken task names the file and the fix", "[catalog]")
{
  temp_workbook wb;
  std::string readme = good_readme;
  readme.replace(readme.find("- **AC2** · Missing"), 9, "- AC2 ·");  // unlabelled criterion
  readme.replace(readme.find("\nMid\n") + 1, 3, "Hard");
  wb.complete_task("task-07", readme);
  fs::remove(wb.root / "solutions/task-07/WHY.md");

  auto const t = load_task(wb.root, "task-07");
  CHECK_FALSE(t.sound());
  auto mentions = [&](std::string const& file, std::string const& what) {
    for (auto const& p : t.problems)
      if (p.file.string().find(file) != std::string::npos && p.what.find(what) != std::string::npos && !p.fix.empty())
        return true;
    return false;
  };
  CHECK(mentions("README.md", "difficulty 'Hard'"));
  CHECK(mentions("README.md", "without an **ACn** label"));
  CHECK(mentions("WHY.md", "missing"));
}

TEST_CASE("tasks are found by directory name and ordered", "[catalog]")
{
  temp_workbook wb;
  wb.complete_task("task-02", good_readme);
  wb.complete_task("stretch-1", good_readme);
  wb.complete_task("task-01", good_readme);
  wb.write("exercises/notes-not-a-task/README.md", "x");
  catalog const cat(wb.root);
  CHECK(cat.ids() == std::vector<std::string>{"task-01", "task-02", "stretch-1"});
}

TEST_CASE("task ids are normalised from what people type", "[catalog]")
{
  CHECK(normalize_task_id("5") == "task-05");
  CHECK(normalize_task_id("05") == "task-05");
  CHECK(normalize_task_id("task-5") == "task-05");
  CHECK(normalize_task_id("TASK05") == "task-05");
  CHECK(normalize_task_id("stretch-2") == "stretch-2");
  CHECK(normalize_task_id("selftest") == "selftest");
  CHECK(normalize_task_id("task-123") == "task-123");
}
