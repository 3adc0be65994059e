// Start a child program in its own process group, and run one to completion
// with a time limit. Used by tests (e.g. a handler-tracking build of the
// student's server) and by the grader, which runs every test binary this way.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string_view>
#include <string>
#include <utility>
#include <vector>

namespace workbook {

// A file descriptor closed when it goes out of scope.
class unique_fd {
public:
  explicit unique_fd(int fd = -1) noexcept : fd_(fd) {}
  ~unique_fd() { reset(); }
  unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& other) noexcept
  {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  unique_fd(unique_fd const&) = delete;
  unique_fd& operator=(unique_fd const&) = delete;

  int get() const noexcept { return fd_; }
  void reset() noexcept;

private:
  int fd_;
};

struct spawn_options {
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> env;  // added to (or replacing in) the environment
  std::vector<std::string> unset_env;                    // removed from it
  int stdout_fd = -1;        // becomes the child's stdout and stderr; -1: /dev/null
  int extra_fd = -1;         // becomes the child's fd 3 when >= 0
  // Runs in the child between fork and exec: only async-signal-safe calls.
  void (*child_setup)(void*) = nullptr;
  void* child_setup_arg = nullptr;
};

// Where `program` is: an executable file in a directory of PATH, or in an
// sbin directory a user's PATH often lacks (Debian puts servers such as
// nghttpd in /usr/sbin); with a '/', that path itself. nullopt when none.
std::optional<std::string> find_program(std::string_view program);

// Forks and execs; the child leads a new process group, so kill_group()
// reaches everything it starts. Throws std::system_error if fork fails;
// a failed exec makes the child exit with 127.
pid_t spawn(spawn_options const& options);

void kill_group(pid_t pid, int sig);

struct process_result {
  int exit_code = -1;          // valid when signal == 0 and !timed_out
  int signal = 0;              // the signal that ended it, 0 if none
  bool timed_out = false;      // killed (with its process group) at the time limit
  std::string output;          // stdout and stderr, interleaved
};

// Decodes a waitpid() status.
void decode_wait_status(int status, process_result& into);

// Called with each piece of output as it arrives (e.g. to show progress).
using output_callback = std::function<void(std::string_view)>;

// The one loop that runs a child to its end. Everything that starts a
// program and waits for it (the grader's builds and test runs, tests that
// run a tool) comes through here.
struct run_options {
  spawn_options spawn;                   // stdout_fd is run()'s own (see output_file)
  // Where stdout and stderr go: collected into process_result::output and
  // passed to on_output, or, when output_file is set, appended to that file
  // (for output that may be large; nothing is kept in memory).
  std::filesystem::path output_file;
  output_callback on_output;
  // A second stream to read as it arrives: the read end of a pipe whose
  // write end is spawn.extra_fd. run() closes both ends: the write end in
  // this process as soon as the child holds it (or the stream would never
  // end), the read end when done.
  int events_fd = -1;
  output_callback on_events;
  // When to give up: asked again after every wake-up, so it may move while
  // the child runs (e.g. a time limit per test case). The child's whole
  // process group is killed then.
  std::function<std::chrono::steady_clock::time_point()> deadline;
};

// Runs until the child has exited and its streams are closed (anything left
// in its process group is killed once it exits), or until the deadline.
process_result run(run_options options);

// Runs a child to completion (or until timeout, then kills its group),
// collecting stdout and stderr. options.stdout_fd is the collector's; the
// rest of the options (env, extra_fd, child_setup) apply as for spawn().
process_result run_process(spawn_options options, std::chrono::milliseconds timeout,
                           output_callback on_output = {});

// The same for a plain command line. The child does not inherit
// WORKBOOK_EVENTS: a test binary started by a test must not write into the
// grader's event stream.
process_result run_process(std::vector<std::string> const& argv,
                           std::chrono::milliseconds timeout);

} // namespace workbook
