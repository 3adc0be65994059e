#include "pristine.hpp"
#include "files.hpp"

#include <workbook/process.hpp>

#include <algorithm>

namespace grader {

namespace fs = std::filesystem;

namespace {

fs::path pristine_dir(workbook_paths const& paths, task const& t) { return paths.state_dir() / "pristine" / t.id; }

} // namespace

std::vector<fs::path> stub_files(task const& t)
{
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto const& e : fs::directory_iterator(t.exercise_dir, ec)) {
    auto const ext = e.path().extension();
    if (e.is_regular_file() && (ext == ".cpp" || ext == ".hpp")) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

void keep_pristine_copy(workbook_paths const& paths, task const& t)
{
  fs::path const dir = pristine_dir(paths, t);
  if (fs::exists(dir)) return;
  std::error_code ec;
  fs::create_directories(dir, ec);
  auto files = stub_files(t);
  files.push_back(t.exercise_dir / "NOTES.md");
  for (auto const& f : files) fs::copy_file(f, dir / f.filename(), fs::copy_options::overwrite_existing, ec);
}

std::string notes_template(workbook_paths const& paths, task const& t)
{
  return read_file_or_empty(pristine_dir(paths, t) / "NOTES.md");
}

std::optional<std::string> original_of(workbook_paths const& paths, task const& t, fs::path const& file)
{
  std::string const rel = fs::relative(file, paths.root).string();
  std::string const root = paths.root.string();
  auto const tracked = workbook::run_process({"git", "-C", root, "ls-files", "--error-unmatch", rel}, std::chrono::seconds(10));
  if (tracked.exit_code == 0) {
    for (std::string rev : {"origin/HEAD", "origin/main", "HEAD"}) {
      auto const shown = workbook::run_process({"git", "-C", root, "show", rev + ":" + rel}, std::chrono::seconds(10));
      if (shown.exit_code == 0) return shown.output;
    }
  }
  return read_file(pristine_dir(paths, t) / file.filename());
}

} // namespace grader
