#include <workbook/process.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <system_error>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace workbook {

pid_t spawn(spawn_options const& options)
{
  // Everything the child needs is prepared before fork: after fork only
  // async-signal-safe calls are allowed (the parent may be multithreaded).
  std::vector<char*> argv;
  for (auto const& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  std::vector<std::string> env_storage;
  for (char** e = environ; *e; ++e) {
    std::string_view entry(*e);
    auto named = [&](std::string const& k) {
      return entry.size() > k.size() && entry.substr(0, k.size()) == k && entry[k.size()] == '=';
    };
    bool replaced = false;
    for (auto const& [k, v] : options.env)
      if (named(k)) replaced = true;
    for (auto const& k : options.unset_env)
      if (named(k)) replaced = true;
    if (!replaced) env_storage.emplace_back(entry);
  }
  for (auto const& [k, v] : options.env) env_storage.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  int const devnull = options.stdout_fd < 0 ? ::open("/dev/null", O_WRONLY | O_CLOEXEC) : -1;

  pid_t const pid = ::fork();
  if (pid < 0) {
    if (devnull >= 0) ::close(devnull);
    throw std::system_error(errno, std::generic_category(), "fork");
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    // A source already in 0..3 could be overwritten, or left close-on-exec
    // by a dup2 onto itself, while the others are placed: lift such sources
    // out of the way first (close-on-exec, so the copies do not leak).
    auto lift = [](int fd) { return fd >= 0 && fd <= 3 ? ::fcntl(fd, F_DUPFD_CLOEXEC, 10) : fd; };
    int const out = lift(options.stdout_fd >= 0 ? options.stdout_fd : devnull);
    int const extra = lift(options.extra_fd);
    int const in = lift(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (in >= 0) ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    if (extra >= 0) ::dup2(extra, 3);
    if (options.child_setup) options.child_setup(options.child_setup_arg);
    ::execvpe(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also from the parent: no race with an early kill_group
  if (devnull >= 0) ::close(devnull);
  return pid;
}

void kill_group(pid_t pid, int sig)
{
  if (pid > 0) ::kill(-pid, sig);
}

void decode_wait_status(int status, process_result& into)
{
  if (WIFEXITED(status)) into.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) into.signal = WTERMSIG(status);
}

process_result run_process(spawn_options options, std::chrono::milliseconds timeout,
                           output_callback on_output)
{
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw std::system_error(errno, std::generic_category(), "pipe");
  options.stdout_fd = fds[1];
  pid_t const pid = spawn(options);
  ::close(fds[1]);

  process_result result;
  auto const deadline = std::chrono::steady_clock::now() + timeout;
  char buf[8192];
  for (;;) {
    auto const left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      kill_group(pid, SIGKILL);
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    int const r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1 << 30)));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    ssize_t const n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // every writer closed: the child (and its children) are done writing
    std::string_view const chunk(buf, static_cast<std::size_t>(n));
    result.output.append(chunk);
    if (on_output) on_output(chunk);
  }
  ::close(fds[0]);

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (!result.timed_out) decode_wait_status(status, result);
  return result;
}

process_result run_process(std::vector<std::string> const& argv,
                           std::chrono::milliseconds timeout)
{
  spawn_options options;
  options.argv = argv;
  options.unset_env = {"WORKBOOK_EVENTS"};
  return run_process(std::move(options), timeout);
}

} // namespace workbook
