#include "edition.hpp"
#include "files.hpp"
#include "submission.hpp"
#include "text.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <set>

namespace fs = std::filesystem;

namespace grader {

namespace {

constexpr char const* edition_file = "edition.json";
constexpr char const* manifest_file = "manifest.json";

// Share of a reference's lines found in one exported file above which the
// file is taken for a copy of it. Measured on tasks 01-20: an exercise's
// file shares at most 38% with its task's reference (task 06's stub: the
// signatures, the session's skeleton); a copy shares all of it.
constexpr double leak_threshold = 0.6;

// What never goes into a student edition (relative paths, by prefix). The
// solutions are handled apart: released tasks go out without their mutants.
constexpr std::array<std::string_view, 7> withheld{".ci/", "bench/", "bin/make-mutant", ".grader/", "build/", ".git/", "solutions/"};

bool withheld_path(std::string const& rel, std::set<std::string> const& released)
{
  if (rel.starts_with("solutions/")) {
    auto const task = rel.substr(10, rel.find('/', 10) - 10);
    return !released.contains(task) || rel.find("/mutants/") != std::string::npos;
  }
  return std::any_of(withheld.begin(), withheld.end(), [&](std::string_view p) { return rel.starts_with(p); });
}

// The lines of code that say something: long enough, not a comment, not an include.
std::set<std::string> telling_lines(std::string const& text)
{
  std::set<std::string> out;
  for (auto const& line : split_lines(text)) {
    auto const t = trim(line);
    if (t.size() >= 16 && !t.starts_with("//") && !t.starts_with("#include") && !t.starts_with("*")) out.insert(t);
  }
  return out;
}

// Exported source files that are mostly a withheld reference.
std::vector<std::string> scan_for_references(fs::path const& root, catalog const& cat, fs::path const& dest,
                                             std::vector<std::string> const& exported, std::set<std::string> const& released)
{
  std::vector<std::pair<std::string, std::set<std::string>>> references;
  for (auto const& t : cat.tasks()) {
    if (released.contains(t.id) || !fs::is_directory(t.solution_dir)) continue;
    for (auto const& e : fs::directory_iterator(t.solution_dir))
      if (e.path().extension() == ".cpp" || e.path().extension() == ".hpp")
        references.emplace_back(fs::relative(e.path(), root).string(), telling_lines(read_file_or_empty(e.path())));
  }
  std::vector<std::string> leaks;
  for (auto const& rel : exported) {
    auto const ext = fs::path(rel).extension();
    if (ext != ".cpp" && ext != ".hpp" && ext != ".h" && ext != ".md" && ext != ".patch") continue;
    auto const lines = telling_lines(read_file_or_empty(dest / rel));
    for (auto const& [ref, ref_lines] : references) {
      if (ref_lines.empty()) continue;
      auto const shared = std::count_if(ref_lines.begin(), ref_lines.end(), [&](auto const& l) { return lines.contains(l); });
      double const share = static_cast<double>(shared) / static_cast<double>(ref_lines.size());
      if (share > leak_threshold)
        leaks.push_back(fmt::format("{} holds {:.0f}% of {}", rel, share * 100, ref));
    }
  }
  return leaks;
}

// The README's first lines, so that nobody mistakes the edition for the whole.
bool mark_readme(fs::path const& readme, std::vector<std::string> const& released)
{
  std::string const text = read_file_or_empty(readme);
  std::string const banner = fmt::format(
      "> **Student edition.** The references, their reasoning and the mutants are not here{}; "
      "`bin/grader task-01` and every student verb work, `--reference` and `reveal` work for released "
      "tasks only, and `selftest`/`check` belong to the instructor's edition.\n\n",
      released.empty() ? "" : fmt::format(" (except the released {})", fmt::join(released, ", ")));
  auto const first_break = text.find("\n\n");
  return write_file_atomically(readme, first_break == std::string::npos
                                           ? text + "\n\n" + banner
                                           : text.substr(0, first_break + 2) + banner + text.substr(first_break + 2));
}

} // namespace

bool is_student_edition(fs::path const& root)
{
  auto const j = nlohmann::json::parse(read_file_or_empty(root / edition_file), nullptr, false);
  return j.is_object() && j.value("edition", "") == "student";
}

std::string missing_reference(fs::path const& root, task const* t)
{
  if (!is_student_edition(root)) return {};
  if (t == nullptr)
    return "this is a student edition, without the references: this verb belongs to the instructor's "
           "edition, where they are";
  if (fs::is_directory(t->solution_dir)) return {};
  return "this student edition does not hold " + t->id + "'s reference; your instructor may release it "
         "after the deadline (grader export --release " + t->id + ")";
}

bool refused_without_reference(fs::path const& root, task const* t, char const* verb)
{
  auto const why = missing_reference(root, t);
  if (!why.empty()) std::fprintf(stderr, "grader %s: %s\n", verb, why.c_str());
  return !why.empty();
}

export_result export_student_edition(fs::path const& root, catalog const& cat, export_options const& o)
{
  export_result result;
  std::error_code ec;
  if (fs::exists(o.destination) && !fs::is_empty(o.destination, ec)) {
    result.error = o.destination.string() + " exists and is not empty: give a new directory";
    return result;
  }
  std::set<std::string> const released(o.release.begin(), o.release.end());
  for (auto const& id : released)
    if (!cat.find(id)) {
      result.error = "--release " + id + ": no such task";
      return result;
    }
  std::set<std::string> editable;
  for (auto const& t : cat.tasks())
    for (auto const& f : editable_files(t)) editable.insert(f.string());
  nlohmann::json hashes = nlohmann::json::object();
  std::vector<std::string> exported;
  for (auto const& rel : workbook_files(root)) {
    if (withheld_path(rel, released)) continue;
    if (!sync_file(root / rel, o.destination / rel, result.error)) return result;
    exported.push_back(rel);
    if (!editable.contains(rel)) hashes[rel] = sha256_of_file(root / rel);
  }
  result.files = exported.size();
  result.leaks = scan_for_references(root, cat, o.destination, exported, released);
  nlohmann::json const edition{{"version", 1}, {"edition", "student"}, {"released", o.release}};
  auto const write = [&](fs::path const& file, std::string const& text) {
    if (result.error.empty() && !write_file_atomically(o.destination / file, text))
      result.error = "could not write " + (o.destination / file).string();
  };
  if (!mark_readme(o.destination / "README.md", o.release)) result.error = "could not write the edition's README.md";
  hashes["README.md"] = sha256_of_file(o.destination / "README.md");
  nlohmann::json const manifest{{"version", 1}, {"algorithm", "sha256"},
                                {"editable", std::vector<std::string>(editable.begin(), editable.end())}, {"files", hashes}};
  write(edition_file, edition.dump(2) + "\n");
  write(manifest_file, manifest.dump(2) + "\n");
  return result;
}

} // namespace grader
