// A real browser for the tests that need one (an EventSource, a WebSocket):
// Debian's chromium, headless, on one URL, in a process group of its own that
// is killed when the object goes (and by the kernel if the test process dies
// first). Tests skip when it is not installed:
//
//   auto const chromium = workbook::find_program("chromium");
//   if (!chromium) WORKBOOK_SKIP("chromium is not installed: apt install chromium");
//   workbook::temp_dir dir("task17-browser");
//   {
//     workbook::headless_browser b(*chromium, dir.path(), url);
//     ... wait for what the page reports (workbook::eventually) ...
//   }
//   INFO("chromium's output:" << workbook::last_lines(dir.path() / "chromium.log"));
#pragma once

#include <workbook/process.hpp>

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>

namespace workbook {

class headless_browser {
public:
  // `program`: the browser (find_program("chromium")). `dir`: an empty
  // directory of the test's own; the browser's profile goes in dir/profile
  // and its output in dir/chromium.log.
  headless_browser(std::string const& program, std::filesystem::path const& dir, std::string const& url)
  {
    output_ = unique_fd(::open((dir / "chromium.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    spawn_options options;
    options.argv = {program,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--user-data-dir=" + (dir / "profile").string(),
                    url};
    options.stdout_fd = output_.get();
    options.child_setup = [](void*) { ::prctl(PR_SET_PDEATHSIG, SIGKILL); };
    pid_ = spawn(options);
  }
  ~headless_browser()
  {
    kill_group(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  headless_browser(headless_browser const&) = delete;
  headless_browser& operator=(headless_browser const&) = delete;

private:
  unique_fd output_;
  pid_t pid_ = -1;
};

// The last lines of a file (a browser's log), each on a line of its own
// after "  | ", for a failure message.
inline std::string last_lines(std::filesystem::path const& file, std::size_t lines = 15)
{
  std::ifstream in(file);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) all.push_back(line.substr(0, 200));
  std::string out;
  for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) out += "\n  | " + all[i];
  return out;
}

} // namespace workbook
