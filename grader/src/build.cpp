#include "build.hpp"
#include "terminal.hpp"
#include "text.hpp"

#include <workbook/process.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <fstream>
#include <regex>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace grader {

namespace fs = std::filesystem;

namespace {

// Runs a command, streaming its output into `log` and Ninja's "[n/m]"
// progress into the progress line.
int run_logged(std::vector<std::string> const& argv, fs::path const& log_path,
               std::string const& label, std::string& output)
{
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return -1;
  workbook::spawn_options options;
  options.argv = argv;
  options.stdout_fd = fds[1];
  pid_t const pid = workbook::spawn(options);
  ::close(fds[1]);

  static std::regex const step(R"(\[(\d+)/(\d+)\])");
  std::string pending;
  char buf[8192];
  for (;;) {
    ssize_t const n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output.append(buf, static_cast<std::size_t>(n));
    pending.append(buf, static_cast<std::size_t>(n));
    std::size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      std::string const line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      std::smatch m;
      if (std::regex_search(line, m, step))
        term::progress(fmt::format("building {} ({}/{})…", label, m[1].str(), m[2].str()));
    }
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  term::progress_done();

  std::error_code ec;
  fs::create_directories(log_path.parent_path(), ec);
  std::ofstream(log_path) << output;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
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
  r.configure_failed = !r.ok;
  if (!r.ok) r.first_error = last_lines(output, 20);
  return r;
}

build_result build(build_settings const& s, std::vector<std::string> const& targets,
                   std::string const& label)
{
  build_result r = configure(s);
  if (!r.ok) return r;
  std::vector<std::string> argv{"cmake", "--build", s.build_dir.string()};
  if (!targets.empty()) {
    argv.push_back("--target");
    argv.insert(argv.end(), targets.begin(), targets.end());
  }
  std::string output;
  r.log = s.log_dir / (label + "-build.log");
  int const rc = run_logged(argv, r.log, label, output);
  r.ok = rc == 0;
  if (!r.ok) {
    r.failed_objects = failed_objects(output);
    r.first_error = relative_to(first_error(output), s.root);
    // Ninja re-runs CMake when a globbed directory changed; a failure there
    // is the workbook's, not a compile error.
    r.configure_failed = r.failed_objects.empty() &&
                         output.find("CMake Error") != std::string::npos;
  }
  return r;
}

} // namespace grader
