// `grader watch task-NN`: grade again every time a file of the task is saved.
// Editors save in different ways (write in place, or write a temporary file
// and rename it over the original), so the watch is on the directories and
// reacts to writes, renames and creations of the task's sources.
#include "verbs.hpp"
#include "terminal.hpp"

#include <workbook/process.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include <poll.h>
#include <sys/inotify.h>
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


bool relevant(std::string const& name)
{
  if (name.empty() || name[0] == '.' || name.back() == '~') return false;  // editor temporaries
  auto const ext = fs::path(name).extension();
  return ext == ".cpp" || ext == ".hpp" || ext == ".h" || name == "NOTES.md" || name == "task.cmake";
}

enum class wake { saved, quit };

// Reads the inotify events of one save; true if a relevant file changed.
// Editors write a file in a burst of events: wait briefly for the rest.
bool read_save(int inotify)
{
  bool changed = false;
  alignas(inotify_event) char buf[8192];
  for (int settle = 0;; ++settle) {
    ssize_t const n = ::read(inotify, buf, sizeof buf);
    if (n > 0) {
      for (char* p = buf; p < buf + n;) {
        auto const* e = reinterpret_cast<inotify_event*>(p);
        if (e->len && relevant(e->name)) changed = true;
        p += sizeof(inotify_event) + e->len;
      }
      continue;
    }
    pollfd more{inotify, POLLIN, 0};
    if (settle > 20 || ::poll(&more, 1, 150) <= 0) return changed;
  }
}

// Waits for a save of a task file, a 'q' on stdin, or SIGINT/SIGTERM. Without
// a terminal stdin may end: then only a signal quits.
wake wait_for_save(int inotify, int signal_fd, bool& stdin_open)
{
  for (;;) {
    pollfd fds[3] = {{inotify, POLLIN, 0}, {signal_fd, POLLIN, 0}, {stdin_open ? STDIN_FILENO : -1, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return wake::quit;
    }
    if (fds[1].revents & POLLIN) return wake::quit;
    if (fds[2].revents & (POLLIN | POLLHUP)) {
      char c = 0;
      ssize_t const n = ::read(STDIN_FILENO, &c, 1);
      if (n <= 0) stdin_open = false;
      else if (c == 'q' || c == 'Q') return wake::quit;
    }
    if ((fds[0].revents & POLLIN) && read_save(inotify)) return wake::saved;
  }
}

} // namespace

int cmd_watch(context const& ctx, task const* task, verb_options const& options)
{
  auto const& t = *task;
  workbook::unique_fd inotify(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (inotify.get() < 0) {
    std::fprintf(stderr, "grader: cannot watch files (inotify: %s)\n", std::strerror(errno));
    return exit_usage;
  }
  uint32_t const mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM;
  for (auto const& dir : {t.exercise_dir, t.exercise_dir / "test"})
    if (fs::is_directory(dir)) ::inotify_add_watch(inotify.get(), dir.c_str(), mask);

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

      if (wait_for_save(inotify.get(), signal_fd.get(), stdin_open) == wake::quit) break;
    }
  }
  ::sigprocmask(SIG_SETMASK, &previous, nullptr);
  std::printf("\n");
  return result;
}

} // namespace grader
