#include <workbook/events.hpp>
#include <workbook/process.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <system_error>

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace workbook {

void unique_fd::reset() noexcept
{
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

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

namespace {

// Readable when the child has exited (Linux 5.3+); -1 where not available,
// and then the child's exit is seen as the end of its streams.
int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  return -1;
#endif
}

struct stream {
  unique_fd fd;
  output_callback const* on_data;
  std::string* keep;   // where to collect, or nullptr
};

// Reads what is there; false at end of stream.
bool drain(stream& s)
{
  char buf[16384];
  ssize_t const n = ::read(s.fd.get(), buf, sizeof buf);
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  std::string_view const chunk(buf, static_cast<std::size_t>(n));
  if (s.keep) s.keep->append(chunk);
  if (s.on_data && *s.on_data) (*s.on_data)(chunk);
  return true;
}

} // namespace

process_result run(run_options options)
{
  process_result result;
  std::vector<stream> streams;
  unique_fd output_write;
  if (options.output_file.empty()) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
    streams.push_back({unique_fd(fds[0]), &options.on_output, &result.output});
    output_write = unique_fd(fds[1]);
  } else {
    output_write = unique_fd(::open(options.output_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (output_write.get() < 0)
      throw std::system_error(errno, std::generic_category(), "open " + options.output_file.string());
  }
  if (options.events_fd >= 0) streams.push_back({unique_fd(options.events_fd), &options.on_events, nullptr});
  unique_fd events_write(options.events_fd >= 0 ? options.spawn.extra_fd : -1);

  options.spawn.stdout_fd = output_write.get();
  pid_t const pid = spawn(options.spawn);
  output_write.reset();
  events_write.reset();
  unique_fd const pidfd(open_pidfd(pid));

  bool exited = false;
  int status = 0;
  // Once the child is gone, its streams get a moment to drain; something
  // outside its group still holding them open is not the child's time-out.
  std::chrono::steady_clock::time_point drain_until = std::chrono::steady_clock::time_point::max();
  auto open_streams = [&] {
    return std::count_if(streams.begin(), streams.end(), [](stream const& s) { return s.fd.get() >= 0; });
  };
  while (!(exited && open_streams() == 0) && !(pidfd.get() < 0 && open_streams() == 0)) {
    auto const now = std::chrono::steady_clock::now();
    if (now >= drain_until) break;
    auto const deadline = std::min(options.deadline ? options.deadline() : std::chrono::steady_clock::time_point::max(),
                                   drain_until);
    auto const left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    if (left.count() <= 0 && deadline != drain_until) {
      result.timed_out = true;
      kill_group(pid, SIGKILL);
      ::kill(pid, SIGKILL);   // also a child that left its group: the wait below must end
      break;
    }
    std::vector<pollfd> fds;
    for (auto const& s : streams)
      if (s.fd.get() >= 0) fds.push_back({s.fd.get(), POLLIN, 0});
    if (pidfd.get() >= 0 && !exited) fds.push_back({pidfd.get(), POLLIN, 0});
    int const r = ::poll(fds.data(), fds.size(), static_cast<int>(std::clamp<long long>(left.count(), 0, 1 << 30)));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    for (auto& s : streams)
      for (auto const& p : fds)
        if (p.fd == s.fd.get() && (p.revents & (POLLIN | POLLHUP | POLLERR)) && !drain(s)) s.fd.reset();
    if (pidfd.get() >= 0 && !exited && ::waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      // What it left running in its group would hold the streams open.
      kill_group(pid, SIGKILL);
      drain_until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    }
  }
  if (!exited)
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  kill_group(pid, SIGKILL);
  if (!result.timed_out) decode_wait_status(status, result);
  return result;
}

process_result run_process(spawn_options options, std::chrono::milliseconds timeout,
                           output_callback on_output)
{
  run_options o;
  o.spawn = std::move(options);
  o.on_output = std::move(on_output);
  auto const deadline = std::chrono::steady_clock::now() + timeout;
  o.deadline = [deadline] { return deadline; };
  return run(std::move(o));
}

process_result run_process(std::vector<std::string> const& argv,
                           std::chrono::milliseconds timeout)
{
  spawn_options options;
  options.argv = argv;
  options.unset_env = {events::env_var};
  return run_process(std::move(options), timeout);
}

std::optional<std::string> find_program(std::string_view program)
{
  if (program.empty()) return std::nullopt;
  std::string const name{program};
  if (name.find('/') != std::string::npos)
    return ::access(name.c_str(), X_OK) == 0 ? std::optional{name} : std::nullopt;
  char const* path = std::getenv("PATH");
  std::string dirs = path && *path ? path : "/usr/local/bin:/usr/bin:/bin";
  dirs += ":/usr/local/sbin:/usr/sbin:/sbin";
  std::string_view rest = dirs;
  while (!rest.empty()) {
    auto const colon = rest.find(':');
    std::string dir{rest.substr(0, colon)};
    rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    if (dir.empty()) dir = ".";   // an empty entry is the current directory, as for a shell
    std::string const candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

} // namespace workbook
