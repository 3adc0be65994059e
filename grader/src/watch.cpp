// `grader watch task-NN`: grade again every time a file of the task is saved.
// The waiting is save_watch's (watch_loop.hpp), which `grader serve` shares.
#include "verbs.hpp"
#include "terminal.hpp"
#include "watch_loop.hpp"

#include <workbook/process.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <system_error>

#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

namespace grader {

namespace fs = std::filesystem;

namespace {

// Single keypresses without Enter, for as long as it lives.
class raw_keys {
public:
  raw_keys()
  {
    if (::isatty(STDIN_FILENO) != 1 || ::tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios raw = saved_;
    raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    active_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
  }
  ~raw_keys()
  {
    if (active_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  raw_keys(raw_keys const&) = delete;
  raw_keys& operator=(raw_keys const&) = delete;

private:
  termios saved_{};
  bool active_ = false;
};


enum class wake { saved, quit };

// Waits for a save of a task file, a 'q' on stdin, or SIGINT/SIGTERM. Without
// a terminal stdin may end: then only a signal quits.
wake wait_for_save(save_watch& watch, int signal_fd, bool& stdin_open)
{
  for (;;) {
    int const others[] = {signal_fd, stdin_open ? STDIN_FILENO : -1};
    auto const event = watch.wait(others);
    if (std::holds_alternative<save_watch::saved>(event)) return wake::saved;
    if (std::get<save_watch::woken>(event).index == 0) return wake::quit;
    char c = 0;
    ssize_t const n = ::read(STDIN_FILENO, &c, 1);
    if (n <= 0) stdin_open = false;
    else if (c == 'q' || c == 'Q') return wake::quit;
  }
}

} // namespace

int cmd_watch(context const& ctx, task const* task, verb_options const& options)
{
  auto const& t = *task;
  std::optional<save_watch> watch;
  try {
    watch.emplace();
  } catch (std::system_error const& e) {
    std::fprintf(stderr, "grader: %s\n", e.what());
    return exit_usage;
  }
  watch->add(t);

  // Ctrl-C and SIGTERM end the watch through the loop, so the terminal is
  // restored by raw_keys' destructor.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigset_t previous;
  ::sigprocmask(SIG_BLOCK, &signals, &previous);
  workbook::unique_fd signal_fd(::signalfd(-1, &signals, SFD_CLOEXEC));

  verb_options run = options;
  run.ask_self_grade = false;
  bool const tty = term::interactive();
  bool stdin_open = true;
  int result = exit_fail;
  {
    raw_keys keys;
    for (bool first = true;; first = false) {
      if (tty) std::fputs("\033[2J\033[H", stdout);
      else if (!first) std::fputs("\n", stdout);
      result = cmd_grade(ctx, &t, run);
      std::printf("\n%s\n", term::dim("watching " + fs::relative(t.exercise_dir, ctx.paths.root).string() +
                                      " — save a file to grade again, q to quit")
                                .c_str());
      std::fflush(stdout);

      if (wait_for_save(*watch, signal_fd.get(), stdin_open) == wake::quit) break;
    }
  }
  ::sigprocmask(SIG_SETMASK, &previous, nullptr);
  std::printf("\n");
  return result;
}

} // namespace grader
