#include "build.hpp"
#include "files.hpp"
#include "terminal.hpp"
#include "text.hpp"

#include <workbook/process.hpp>

#include <fmt/format.h>

#include <fstream>
#include <regex>

namespace grader {

namespace fs = std::filesystem;

namespace {

// Runs a command, its output into `log_path` and Ninja's "[n/m]" progress
// into the progress line. Returns the exit code (128 + signal if killed).
int run_logged(std::vector<std::string> const& argv, fs::path const& log_path,
               std::string const& label, std::string& output,
               std::vector<std::pair<std::string, std::string>> const& env = {})
{
  static std::regex const step(R"(\[(\d+)/(\d+)\])");
  std::string pending;
  workbook::spawn_options options;
  options.argv = argv;
  options.env = env;
  auto const result = workbook::run_process(std::move(options), std::chrono::hours(4), [&](std::string_view chunk) {
    pending.append(chunk);
    for (std::size_t nl; (nl = pending.find('\n')) != std::string::npos; pending.erase(0, nl + 1)) {
      std::smatch m;
      std::string const line = pending.substr(0, nl);
      if (std::regex_search(line, m, step))
        term::progress(fmt::format("building {} ({}/{})…", label, m[1].str(), m[2].str()));
    }
  });
  term::progress_done();
  output = result.output;

  std::error_code ec;
  fs::create_directories(log_path.parent_path(), ec);
  std::ofstream(log_path) << output;
  return result.signal ? 128 + result.signal : result.exit_code;
}

} // namespace

std::vector<std::string> failed_objects(std::string const& log)
{
  std::vector<std::string> out;
  for (auto const& line : split_lines(log))
    if (line.rfind("FAILED: ", 0) == 0) out.push_back(trim(line.substr(8)));
  return out;
}

std::string first_error(std::string const& log, std::size_t max_lines)
{
  auto const lines = split_lines(log);
  static std::regex const error_line(R"(^(\S+):(\d+):(\d+:)? (fatal )?error: )");
  static std::regex const diagnostic(R"(^(\S+):(\d+):(\d+:)? (warning|error|note): )");
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (!std::regex_search(lines[i], error_line)) continue;
    // Include the "In file included from" lines just above, if any.
    std::size_t start = i;
    while (start > 0 && lines[start - 1].rfind("In file included from", 0) == 0) --start;
    std::string out;
    std::size_t taken = 0;
    for (std::size_t j = start; j < lines.size() && taken < max_lines; ++j, ++taken) {
      if (j > i && std::regex_search(lines[j], diagnostic) &&
          lines[j].find(": note: ") == std::string::npos)
        break;  // the next error or warning: one error at a time
      if (lines[j].rfind("FAILED:", 0) == 0 || lines[j].rfind("ninja:", 0) == 0 ||
          lines[j].find(" generated.") != std::string::npos)
        break;
      out += lines[j] + "\n";
    }
    return out;
  }
  // No compiler diagnostic: a linker or CMake failure. Show the tail.
  return last_lines(log, max_lines);
}

namespace {

// Paths inside the workbook read better relative to it: the student's file
// is "exercises/task-02/fetch.cpp", not an absolute path.
std::string relative_to(std::string text, fs::path const& root)
{
  std::string const prefix = root.string() + "/";
  for (std::size_t p; (p = text.find(prefix)) != std::string::npos;) text.erase(p, prefix.size());
  return text;
}

} // namespace

build_result configure(build_settings const& s)
{
  build_result r;
  r.log = s.log_dir / "configure.log";
  if (fs::exists(s.build_dir / "build.ninja")) {
    r.ok = true;
    return r;
  }
  std::string output;
  term::progress("configuring the workbook (first run)…");
  int const rc = run_logged({"cmake", "-S", s.root.string(), "--preset", s.preset}, r.log,
                            "the workbook", output);
  r.ok = rc == 0;
  if (!r.ok) r.first_error = last_lines(output, 20);
  return r;
}

build_result build(build_settings const& s, std::vector<std::string> const& targets,
                   std::string const& label)
{
  // One build at a time per build directory: Ninja does not lock its own
  // state, and a `grader watch` in one terminal may meet a `grader task-NN`
  // (or a second watch, or `grader serve`) in another. Held from configure
  // to the end of the build.
  file_lock const lock(s.build_dir / ".grader-build.lock", [&] {
    term::progress("waiting for another grader's build in " + s.build_dir.filename().string() + " to finish…");
  });
  build_result r = configure(s);
  if (!r.ok) return r;
  std::vector<std::string> argv{"cmake", "--build", s.build_dir.string()};
  if (!targets.empty()) {
    argv.push_back("--target");
    argv.insert(argv.end(), targets.begin(), targets.end());
  }
  std::string output;
  r.log = s.log_dir / (label + "-build.log");
  int const rc = run_logged(argv, r.log, label, output, s.env);
  r.ok = rc == 0;
  if (!r.ok) {
    r.failed_objects = failed_objects(output);
    r.first_error = relative_to(first_error(output), s.root);
  }
  return r;
}

} // namespace grader
