// grader export: what a student edition holds and withholds, and that a
// reference copied into an exercise is caught before it goes out.
#include "catalog.hpp"
#include "edition.hpp"
#include "files.hpp"
#include "scaffold.hpp"
#include "submission.hpp"

#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>

#include <unistd.h>

namespace fs = std::filesystem;
using namespace grader;

namespace {

// Two scaffolded tasks in a workbook of their own (not a git checkout: the
// export walks the tree), and a place for the edition.
struct workbook_with_two_tasks {
  fs::path path = fs::temp_directory_path() / ("grader-edition-" + std::to_string(::getpid()));
  fs::path root = path / "workbook";
  fs::path edition = path / "edition";
  workbook_with_two_tasks()
  {
    fs::remove_all(path);
    fs::create_directories(root / "exercises");
    REQUIRE(scaffold_task(root, {"task-21", "Rate limiter", "Mid", ""}).error.empty());
    REQUIRE(scaffold_task(root, {"task-22", "Token bucket", "Mid", ""}).error.empty());
    // A scaffolded reference is its stub, nearly; a written one says much
    // more than its stub does, and the leak scan relies on that.
    for (auto const* ref : {"solutions/task-21/rate_limiter.cpp", "solutions/task-22/token_bucket.cpp"}) {
      std::string text = read_file_or_empty(root / ref);
      for (int i = 0; i < 40; ++i)
        text += "[[maybe_unused]] static int const " + fs::path(ref).stem().string() + "_detail_" + std::to_string(i) +
                " = " + std::to_string(i * 7919) + ";\n";
      REQUIRE(write_file_atomically(root / ref, text));
    }
    fs::create_directories(root / ".grader");
    write_file_atomically(root / ".grader/progress.json", "{}");
    write_file_atomically(root / "README.md", "# The workbook\n\nRead this first.\n");
  }
  ~workbook_with_two_tasks() { fs::remove_all(path); }
};

nlohmann::json json_of(fs::path const& file) { return nlohmann::json::parse(read_file_or_empty(file)); }

} // namespace

TEST_CASE("a student edition holds the exercises and no reference, mutant or progress", "[export]")
{
  workbook_with_two_tasks w;
  auto const result = export_student_edition(w.root, catalog(w.root), {w.edition, {}});
  INFO(result.error);
  REQUIRE(result.error.empty());
  CHECK(result.leaks.empty());
  CHECK(fs::exists(w.edition / "exercises/task-21/rate_limiter.cpp"));
  CHECK(fs::exists(w.edition / "exercises/task-21/test/rate_limiter_test.cpp"));
  CHECK_FALSE(fs::exists(w.edition / "solutions"));
  CHECK_FALSE(fs::exists(w.edition / ".grader"));
  CHECK(read_file_or_empty(w.edition / "README.md").find("Student edition") != std::string::npos);

  CHECK(is_student_edition(w.edition));
  CHECK_FALSE(is_student_edition(w.root));
  catalog const edition(w.edition);
  auto const* t = edition.find("task-21");
  REQUIRE(t != nullptr);
  INFO((t->problems.empty() ? std::string() : t->problems.front().what));
  CHECK(t->sound());  // a withheld reference is not a broken task
  CHECK(missing_reference(w.edition, t).find("does not hold task-21's reference") != std::string::npos);
  CHECK_FALSE(missing_reference(w.edition, nullptr).empty());
  CHECK(missing_reference(w.root, t).empty());

  // The manifest: a hash of every file but the student's own.
  auto const manifest = json_of(w.edition / "manifest.json");
  CHECK(manifest["algorithm"] == "sha256");
  auto const& files = manifest["files"];
  CHECK(files.contains("exercises/task-21/test/rate_limiter_test.cpp"));
  CHECK(files.contains("exercises/task-21/rate_limiter.hpp"));  // the contract
  CHECK(files["exercises/task-21/rate_limiter.hpp"].get<std::string>().size() == 64);
  CHECK_FALSE(files.contains("exercises/task-21/rate_limiter.cpp"));
  CHECK_FALSE(files.contains("exercises/task-21/NOTES.md"));
  auto const editable = manifest["editable"].get<std::vector<std::string>>();
  CHECK(std::find(editable.begin(), editable.end(), "exercises/task-21/rate_limiter.cpp") != editable.end());
  CHECK(std::find(editable.begin(), editable.end(), "exercises/task-22/NOTES.md") != editable.end());
}

TEST_CASE("a released task's reference goes out, without its mutants", "[export]")
{
  workbook_with_two_tasks w;
  fs::create_directories(w.root / "solutions/task-22/mutants/off-by-one");
  write_file_atomically(w.root / "solutions/task-22/mutants/off-by-one/mutant.patch", "Criterion: AC1\n");
  auto const result = export_student_edition(w.root, catalog(w.root), {w.edition, {"task-22"}});
  REQUIRE(result.error.empty());
  CHECK(fs::exists(w.edition / "solutions/task-22/token_bucket.cpp"));
  CHECK(fs::exists(w.edition / "solutions/task-22/WHY.md"));
  CHECK_FALSE(fs::exists(w.edition / "solutions/task-22/mutants"));
  CHECK_FALSE(fs::exists(w.edition / "solutions/task-21"));
  CHECK(missing_reference(w.edition, catalog(w.edition).find("task-22")).empty());
  CHECK(json_of(w.edition / "edition.json")["released"] == nlohmann::json{"task-22"});
}

TEST_CASE("export refuses a used directory and an unknown task, and names a reference that leaked", "[export]")
{
  workbook_with_two_tasks w;
  fs::create_directories(w.edition);
  write_file_atomically(w.edition / "keep.txt", "mine");
  CHECK(export_student_edition(w.root, catalog(w.root), {w.edition, {}}).error.find("not empty") != std::string::npos);
  CHECK(read_file_or_empty(w.edition / "keep.txt") == "mine");
  fs::remove_all(w.edition);
  CHECK(export_student_edition(w.root, catalog(w.root), {w.edition, {"task-99"}}).error.find("task-99") !=
        std::string::npos);

  // A reference committed over its stub by mistake.
  fs::remove_all(w.edition);
  fs::copy_file(w.root / "solutions/task-22/token_bucket.cpp", w.root / "exercises/task-22/token_bucket.cpp",
                fs::copy_options::overwrite_existing);
  auto const result = export_student_edition(w.root, catalog(w.root), {w.edition, {}});
  REQUIRE(result.leaks.size() == 1);
  CHECK(result.leaks[0].find("exercises/task-22/token_bucket.cpp holds 100% of solutions/task-22/token_bucket.cpp") !=
        std::string::npos);
}

TEST_CASE("marking names what a submission changed since its edition went out, its own manifest notwithstanding",
          "[export]")
{
  workbook_with_two_tasks w;
  REQUIRE(export_student_edition(w.root, catalog(w.root), {w.edition, {}}).error.empty());
  auto const submission = w.path / "submission";
  fs::copy(w.edition, submission, fs::copy_options::recursive);
  // The student's own work, and two things that are not theirs to change.
  REQUIRE(write_file_atomically(submission / "exercises/task-21/rate_limiter.cpp", "// mine\n"));
  REQUIRE(write_file_atomically(submission / "exercises/task-21/test/rate_limiter_test.cpp", "// REQUIRE(true)\n"));
  fs::remove(submission / "exercises/task-22/token_bucket.hpp");
  // A manifest rewritten to match does not hide it: the edition's own is read.
  auto manifest = json_of(submission / "manifest.json");
  manifest["files"]["exercises/task-21/test/rate_limiter_test.cpp"] = sha256_of_file(submission / "exercises/task-21/test/rate_limiter_test.cpp");
  REQUIRE(write_file_atomically(submission / "manifest.json", manifest.dump()));

  auto const ws = prepare_workspace(w.edition, catalog(w.edition), submission, {"task-21"}, w.path / "workspace");
  INFO(ws.error);
  REQUIRE(ws.error.empty());
  CHECK(ws.tampered == std::vector<std::string>{"exercises/task-21/test/rate_limiter_test.cpp",
                                                "exercises/task-22/token_bucket.hpp"});
  CHECK(std::find(ws.taken.begin(), ws.taken.end(), "exercises/task-21/rate_limiter.cpp") != ws.taken.end());
  // Marked with the pristine test, whatever the submission holds.
  CHECK(read_file_or_empty(w.path / "workspace/exercises/task-21/test/rate_limiter_test.cpp") ==
        read_file_or_empty(w.edition / "exercises/task-21/test/rate_limiter_test.cpp"));
}

TEST_CASE("marking a task takes the student's files of the tasks it uses, and only theirs", "[export]")
{
  workbook_with_two_tasks w;
  REQUIRE(write_file_atomically(w.root / "exercises/task-22/task.cmake", "workbook_task_uses(task-21)\n"));
  catalog const cat(w.root);
  REQUIRE(cat.find("task-22") != nullptr);
  CHECK(cat.find("task-22")->uses == std::vector<std::string>{"task-21"});
  CHECK(cat.find("task-21")->uses.empty());

  auto const submission = w.path / "submission";
  fs::copy(w.root, submission, fs::copy_options::recursive);
  REQUIRE(write_file_atomically(submission / "exercises/task-21/rate_limiter.cpp", "// the student's limiter\n"));
  REQUIRE(write_file_atomically(submission / "exercises/task-22/token_bucket.cpp", "// the student's bucket\n"));

  // Marking task-22 alone builds it with the student's task-21 file, which it links.
  auto const ws = prepare_workspace(w.root, cat, submission, {"task-22"}, w.path / "workspace");
  INFO(ws.error);
  REQUIRE(ws.error.empty());
  CHECK(read_file_or_empty(w.path / "workspace/exercises/task-21/rate_limiter.cpp") == "// the student's limiter\n");
  CHECK(read_file_or_empty(w.path / "workspace/exercises/task-22/token_bucket.cpp") == "// the student's bucket\n");

  // Marking task-21 alone does not take task-22's: nothing of task-21 uses it.
  auto const other = prepare_workspace(w.root, cat, submission, {"task-21"}, w.path / "workspace-21");
  REQUIRE(other.error.empty());
  CHECK(read_file_or_empty(w.path / "workspace-21/exercises/task-22/token_bucket.cpp") ==
        read_file_or_empty(w.root / "exercises/task-22/token_bucket.cpp"));
}

TEST_CASE("a header task.cmake declares the student's is marked from the submission, the contract never", "[export]")
{
  workbook_with_two_tasks w;
  REQUIRE(write_file_atomically(w.root / "exercises/task-21/limiter_impl.hpp", "// the stub's private header\n"));
  REQUIRE(write_file_atomically(w.root / "exercises/task-21/task.cmake",
                                "workbook_task_student_headers(limiter_impl.hpp)\n"));
  catalog const cat(w.root);
  auto const* t = cat.find("task-21");
  REQUIRE(t != nullptr);
  INFO((t->problems.empty() ? std::string() : t->problems.front().what));
  CHECK(t->problems.empty());
  CHECK(t->student_headers == std::vector<std::string>{"limiter_impl.hpp"});

  auto const submission = w.path / "submission";
  fs::copy(w.root, submission, fs::copy_options::recursive);
  REQUIRE(write_file_atomically(submission / "exercises/task-21/limiter_impl.hpp", "// the student's header\n"));
  REQUIRE(write_file_atomically(submission / "exercises/task-21/rate_limiter.hpp", "// a changed contract\n"));
  auto const ws = prepare_workspace(w.root, cat, submission, {"task-21"}, w.path / "workspace");
  INFO(ws.error);
  REQUIRE(ws.error.empty());
  CHECK(read_file_or_empty(w.path / "workspace/exercises/task-21/limiter_impl.hpp") == "// the student's header\n");
  CHECK(read_file_or_empty(w.path / "workspace/exercises/task-21/rate_limiter.hpp") ==
        read_file_or_empty(w.root / "exercises/task-21/rate_limiter.hpp"));
  CHECK(std::find(ws.ignored.begin(), ws.ignored.end(), "exercises/task-21/rate_limiter.hpp") != ws.ignored.end());
}

TEST_CASE("a student header task.cmake names but the task lacks is named with the fix", "[export]")
{
  workbook_with_two_tasks w;
  REQUIRE(write_file_atomically(w.root / "exercises/task-21/task.cmake", "workbook_task_student_headers(gone.hpp)\n"));
  catalog const cat(w.root);
  auto const* t = cat.find("task-21");
  REQUIRE(t != nullptr);
  CHECK(t->student_headers.empty());
  REQUIRE(!t->problems.empty());
  CHECK(t->problems.back().what.find("gone.hpp") != std::string::npos);
}

TEST_CASE("a task that uses a task the workbook does not have is named with the fix", "[export]")
{
  workbook_with_two_tasks w;
  REQUIRE(write_file_atomically(w.root / "exercises/task-22/task.cmake", "workbook_task_uses(task-21 task-77)\n"));
  catalog const cat(w.root);
  auto const* t = cat.find("task-22");
  REQUIRE(t != nullptr);
  CHECK(t->uses == std::vector<std::string>{"task-21"});
  REQUIRE(!t->problems.empty());
  CHECK(t->problems.back().what.find("task-77") != std::string::npos);
}
