#include "submission.hpp"
#include "files.hpp"
#include "pristine.hpp"
#include "text.hpp"

#include <workbook/process.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace grader {

namespace {

bool skipped_directory(std::string const& rel)
{
  return rel == "build" || rel == ".git" || rel == ".grader" || rel.starts_with("build/");
}

std::vector<std::string> walk(fs::path const& root)
{
  std::vector<std::string> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    auto const rel = fs::relative(it->path(), root).string();
    if (it->is_directory() && skipped_directory(rel)) it.disable_recursion_pending();
    else if (it->is_regular_file() && !it->is_symlink()) files.push_back(rel);
  }
  return files;
}

bool same_content(fs::path const& a, fs::path const& b)
{
  std::error_code ec;
  if (!fs::exists(b, ec) || fs::file_size(a, ec) != fs::file_size(b, ec)) return false;
  return read_file(a) == read_file(b);
}

} // namespace

bool sync_file(fs::path const& from, fs::path const& to, std::string& error)
{
  if (same_content(from, to)) return true;
  std::error_code ec;
  fs::create_directories(to.parent_path(), ec);
  if (!ec) fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) error = "could not copy " + from.string() + " to " + to.string() + ": " + ec.message();
  return !ec;
}

// The files a student edition's manifest.json records (none of them the
// student's to edit) that no longer hold what the edition gave out. Unlike
// `ignored` (a difference from the trusted tree, which may be a newer
// workbook), this is what the student changed. The manifest is the trusted
// tree's when it is itself that edition, else the one the submission carries
// (which a student could edit too: the marks never depend on it).
std::vector<std::string> changed_since_export(fs::path const& trusted, fs::path const& submission)
{
  std::vector<std::string> changed;
  auto const source = fs::exists(trusted / "manifest.json") ? trusted : submission;
  auto const manifest = nlohmann::json::parse(read_file_or_empty(source / "manifest.json"), nullptr, false);
  if (!manifest.is_object() || !manifest.contains("files") || !manifest["files"].is_object()) return changed;
  for (auto const& [rel, hash] : manifest["files"].items())
    if (!hash.is_string() || sha256_of_file(submission / rel) != hash.get<std::string>()) changed.push_back(rel);
  return changed;
}

std::vector<std::string> workbook_files(fs::path const& root)
{
  std::vector<std::string> files;
  auto const git = workbook::run_process({"git", "-C", root.string(), "ls-files", "--cached", "--others", "--exclude-standard"},
                                         std::chrono::seconds(30));
  if (git.exit_code == 0 && !git.timed_out && fs::exists(root / ".git")) {
    for (auto const& line : split_lines(git.output))
      if (!line.empty() && fs::is_regular_file(root / line)) files.push_back(line);
  } else {
    files = walk(root);
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

std::vector<fs::path> editable_files(task const& t)
{
  // Every file of the exercise directory but its README, task.cmake, the
  // tests (test/) and the contract: the headers beside the stub, which
  // every task's README says not to change and the tests compile against,
  // except those task.cmake declares the student's own.
  auto const root = t.exercise_dir.parent_path().parent_path();
  std::vector<fs::path> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(t.exercise_dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    auto const rel = fs::relative(it->path(), t.exercise_dir);
    if (it->is_directory() && rel == "test") {
      it.disable_recursion_pending();
      continue;
    }
    bool const top = !rel.has_parent_path();
    bool const contract = rel.extension() == ".hpp" &&
                          std::find(t.student_headers.begin(), t.student_headers.end(), rel.string()) ==
                              t.student_headers.end();
    bool const trusted = top && (rel == "README.md" || rel == "task.cmake" || contract);
    if (it->is_regular_file() && !trusted) out.push_back(fs::relative(it->path(), root));
  }
  std::sort(out.begin(), out.end());
  return out;
}

workspace prepare_workspace(fs::path const& trusted, catalog const& cat, fs::path const& submission,
                            std::vector<std::string> const& task_ids, fs::path const& where)
{
  workspace ws;
  ws.root = where;
  if (!fs::is_directory(submission)) {
    ws.error = submission.string() + " is not a directory: give the submission's checkout";
    return ws;
  }
  // A marked task's files are the submission's, and so are those of the
  // earlier tasks it links (stretch 1 builds on the student's breaker).
  std::set<std::string> from_submission(task_ids.begin(), task_ids.end());
  for (auto const& t : cat.tasks())
    if (from_submission.contains(t.id)) from_submission.insert(t.uses.begin(), t.uses.end());
  std::set<std::string> editable_here, editable_anywhere;
  for (auto const& t : cat.tasks()) {
    bool const marked = from_submission.contains(t.id);
    for (auto const& f : editable_files(t)) (marked ? editable_here : editable_anywhere).insert(f.string());
  }
  auto const trusted_files = workbook_files(trusted);
  std::set<std::string> const expected(trusted_files.begin(), trusted_files.end());
  for (auto const& rel : trusted_files) {
    bool const take = editable_here.contains(rel) && fs::is_regular_file(submission / rel);
    if (editable_here.contains(rel) && !take) ws.missing.push_back(rel);
    if (take) ws.taken.push_back(rel);
    if (!sync_file((take ? submission : trusted) / rel, where / rel, ws.error)) return ws;
  }
  // What the submission changed where it may not: reported, never used.
  for (auto const& rel : walk(submission)) {
    if (editable_here.contains(rel) || editable_anywhere.contains(rel)) continue;
    if (!expected.contains(rel) || !same_content(submission / rel, trusted / rel)) ws.ignored.push_back(rel);
  }
  ws.tampered = changed_since_export(trusted, submission);
  // Files a previous marking left that the trusted tree no longer has.
  for (auto const& rel : walk(where))
    if (!expected.contains(rel)) fs::remove(where / rel);
  std::sort(ws.ignored.begin(), ws.ignored.end());
  return ws;
}

std::vector<std::string> references_read(fs::path const& root, fs::path const& build_dir, task const& t)
{
  auto const r = workbook::run_process({"ninja", "-C", build_dir.string(), "-t", "deps"}, std::chrono::seconds(60));
  if (r.exit_code != 0)
    throw std::runtime_error("cannot read the build's dependency record (ninja -t deps in " + build_dir.string() +
                             "): " + r.output.substr(0, 500));
  // Blocks of "<object>: #deps N, deps mtime M (VALID)", then one indented
  // line per file the compiler read. The student's objects are the stub
  // variant's, compiled from files below exercises/<task>/ and the
  // exercises of the tasks it uses.
  std::string const objects_of_stub = "CMakeFiles/" + t.id + "-stub";
  std::vector<std::string> from_exercises{".dir/exercises/" + t.id + "/"};
  for (auto const& used : t.uses) from_exercises.push_back(".dir/exercises/" + used + "/");
  auto student_source_at = [&](std::string const& object) {
    for (auto const& dir : from_exercises)
      if (auto const at = object.find(dir); at != std::string::npos) return at;
    return std::string::npos;
  };
  std::string const references = (root / "solutions").lexically_normal().string() + "/";
  std::vector<std::string> found;
  std::string source;   // of the block being read; empty: not the student's
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    if (line.front() != ' ') {
      auto const object = line.substr(0, line.find(": #deps"));
      auto const at = student_source_at(object);
      source = object.starts_with(objects_of_stub) && at != std::string::npos && object.ends_with(".o")
                   ? object.substr(at + 5, object.size() - at - 5 - 2)
                   : std::string();
      continue;
    }
    // "exercises/task-05/../../solutions/..." is a path too.
    auto const dependency = fs::path(line.substr(line.find_first_not_of(' '))).lexically_normal();
    if (!source.empty() && dependency.string().starts_with(references))
      found.push_back(source + " includes " + dependency.lexically_relative(root.lexically_normal()).string());
  }
  return found;
}

} // namespace grader
