#include "submission.hpp"
#include "files.hpp"
#include "pristine.hpp"
#include "text.hpp"

#include <workbook/process.hpp>

#include <algorithm>
#include <fstream>
#include <set>

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

// Copies `from` over `to` unless they already hold the same bytes.
bool sync_file(fs::path const& from, fs::path const& to, std::string& error)
{
  if (same_content(from, to)) return true;
  std::error_code ec;
  fs::create_directories(to.parent_path(), ec);
  if (!ec) fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) error = "could not copy " + from.string() + " to " + to.string() + ": " + ec.message();
  return !ec;
}

} // namespace

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
  std::vector<fs::path> out;
  auto const root = t.exercise_dir.parent_path().parent_path();
  for (auto const& f : stub_files(t)) out.push_back(fs::relative(f, root));
  out.push_back(fs::relative(t.exercise_dir / "NOTES.md", root));
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
  std::set<std::string> editable_here, editable_anywhere;
  for (auto const& t : cat.tasks()) {
    bool const marked = std::find(task_ids.begin(), task_ids.end(), t.id) != task_ids.end();
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
  // Files a previous marking left that the trusted tree no longer has.
  for (auto const& rel : walk(where))
    if (!expected.contains(rel)) fs::remove(where / rel);
  std::sort(ws.ignored.begin(), ws.ignored.end());
  return ws;
}

} // namespace grader
