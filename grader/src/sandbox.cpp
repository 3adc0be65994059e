#include "sandbox.hpp"

#include <sched.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>

namespace grader {

namespace {

void limit(int resource, rlim_t value)
{
  rlimit rl{};
  if (::getrlimit(resource, &rl) != 0) return;
  rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? value : (value < rl.rlim_max ? value : rl.rlim_max);
  ::setrlimit(resource, &rl);
}

// A fresh network namespace has a loopback interface that is down.
void bring_up_loopback()
{
  int const fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return;
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, "lo", 3);
  if (::ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
    ::ioctl(fd, SIOCSIFFLAGS, &ifr);
  }
  ::close(fd);
}

// Raw system calls: glibc's setuid would try to reach every thread, and
// after fork the child has only this one. A child that cannot become the
// user it was given must not run as root instead.
void become(uid_t uid)
{
  if (::syscall(SYS_setgroups, 0, nullptr) == 0 && ::syscall(SYS_setresgid, uid, uid, uid) == 0 &&
      ::syscall(SYS_setresuid, uid, uid, uid) == 0)
    return;
  char const message[] = "grader: the run could not become the user of its own that limits its processes\n";
  [[maybe_unused]] auto const written = ::write(STDERR_FILENO, message, sizeof message - 1);
  ::_exit(126);
}

void become_from_child_setup(void* uid) { become(*static_cast<uid_t const*>(uid)); }

} // namespace

void apply_in_child(void* arg)
{
  auto const& policy = *static_cast<sandbox_policy const*>(arg);
  limit(RLIMIT_CORE, 0);
  limit(RLIMIT_CPU, static_cast<rlim_t>(policy.cpu_limit.count()));
  limit(RLIMIT_FSIZE, static_cast<rlim_t>(policy.file_size_limit));
  if (policy.data_limit) limit(RLIMIT_DATA, static_cast<rlim_t>(policy.data_limit));
  if (policy.stack_limit) limit(RLIMIT_STACK, static_cast<rlim_t>(policy.stack_limit));
  // Only for a user of the run's own: for the grader's user the count
  // would include every process that user has elsewhere.
  if (policy.run_as != 0) limit(RLIMIT_NPROC, static_cast<rlim_t>(policy.process_limit));
  // Only root may unshare the network namespace without a user namespace;
  // for anyone else this fails harmlessly and the tests still use loopback.
  // (Under bubblewrap, bubblewrap does it.)
  if (policy.isolate_network && !policy.under_bubblewrap && ::geteuid() == 0 && ::unshare(CLONE_NEWNET) == 0)
    bring_up_loopback();
  if (policy.run_as != 0) become(policy.run_as);   // last: the steps above need root
}

namespace {

// bubblewrap's refusal to make its namespaces when run as `user` (0: the
// grader's own): empty when it makes them.
std::string probe_bubblewrap(uid_t user)
{
  auto const bwrap = workbook::find_program("bwrap");
  if (!bwrap) return "bubblewrap is not installed (apt install bubblewrap)";
  workbook::spawn_options o;
  o.argv = {*bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--ro-bind", "/", "/", "--", "/bin/true"};
  if (user != 0) {
    o.child_setup = &become_from_child_setup;
    o.child_setup_arg = &user;
  }
  auto const r = workbook::run_process(std::move(o), std::chrono::seconds(10));
  if (r.exit_code == 0) return {};
  auto const first_line = r.output.substr(0, r.output.find('\n'));
  return "bubblewrap cannot make its namespaces here (" + (first_line.empty() ? "no message" : first_line) + ")";
}

// A user of the run's own: no account has it, so RLIMIT_NPROC counts this
// run's processes and nobody else's. A new one for every run (a marking's
// passes, two markings side by side): what a killed run leaves behind while
// the kernel ends its namespace is not counted against the next.
uid_t fresh_user()
{
  static std::atomic<unsigned> runs{0};
  auto const grader = static_cast<unsigned>(::getpid()) % 2'000'000u;
  return 2'000'000'000u + grader * 64u + runs++ % 64u;
}

// The first of `file` and the directories above it that another user
// cannot read (the file) or enter (a directory); empty when none.
std::string closed_to_others(std::filesystem::path const& file)
{
  struct stat st{};
  if (::stat(file.c_str(), &st) != 0 || (st.st_mode & (S_IROTH | S_IXOTH)) != (S_IROTH | S_IXOTH)) return file.string();
  for (auto dir = file.parent_path(); !dir.empty(); dir = dir.parent_path()) {
    if (::stat(dir.c_str(), &st) != 0 || !(st.st_mode & S_IXOTH)) return dir.string();
    if (dir == dir.root_path()) break;
  }
  return {};
}

struct process_user {
  uid_t uid = 0;         // who the run becomes; 0: the grader's own user
  std::string refusal;   // why the process limit does not hold; empty when it does
};

// Who runs `executable` so that the policy's process limit holds.
process_user user_for(sandbox_policy const& policy, std::string const& executable)
{
  if (!policy.process_limit) return {};
  if (::geteuid() != 0)
    return {0, "not limited: the grader does not run as root, so the run cannot have a user of its own "
               "(the kernel counts processes per user)"};
  auto const program = workbook::find_program(executable);
  if (!program) return {0, "not limited: " + executable + " was not found"};
  if (auto const closed = closed_to_others(*program); !closed.empty())
    return {0, "not limited: the run's own user could not reach " + closed + " (make it readable by others)"};
  if (policy.confine_files && bubblewrap_refusal().empty()) {
    static std::string const refusal = probe_bubblewrap(fresh_user());
    if (!refusal.empty()) return {0, "not limited: as a user of its own, " + refusal};
  }
  return {fresh_user(), {}};
}

} // namespace

std::string const& bubblewrap_refusal()
{
  static std::string const refusal = probe_bubblewrap(0);
  return refusal;
}

namespace {

bool confined(sandbox_policy const& policy) { return policy.confine_files && bubblewrap_refusal().empty(); }

// bwrap's options for the policy, then the environment: only what the run
// needs, never the grader's own (a CI job's secrets stay out of reach).
std::vector<std::string> bubblewrap_prefix(sandbox_policy const& policy,
                                           std::vector<std::pair<std::string, std::string>> const& env)
{
  // --die-with-parent: a grader that is killed takes the run with it; a pid
  // namespace: nothing the binary starts outlives it; a new session: it
  // cannot reach the grader's terminal.
  std::vector<std::string> command{*workbook::find_program("bwrap"), "--die-with-parent", "--new-session",
                                   "--unshare-pid", "--unshare-ipc", "--unshare-uts",
                                   "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
                                   "--clearenv", "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
                                   "--setenv", "HOME", "/tmp"};
  if (policy.isolate_network) command.push_back("--unshare-net");
  for (auto const& dir : policy.concealed) {
    command.push_back("--tmpfs");
    command.push_back(dir.string());
  }
  for (auto const& dir : policy.visible) {
    command.push_back("--ro-bind");
    command.push_back(dir.string());
    command.push_back(dir.string());
  }
  for (auto const& dir : policy.hidden) {
    command.push_back("--tmpfs");
    command.push_back(dir.string());
  }
  for (auto const& [name, value] : env) {
    command.push_back("--setenv");
    command.push_back(name);
    command.push_back(value);
  }
  command.push_back("--");
  return command;
}

} // namespace

void apply_sandbox(sandbox_policy& policy, workbook::spawn_options& o)
{
  o.child_setup = &apply_in_child;
  o.child_setup_arg = &policy;
  policy.under_bubblewrap = confined(policy);
  policy.run_as = user_for(policy, o.argv.front()).uid;
  if (!policy.under_bubblewrap) return;
  auto command = bubblewrap_prefix(policy, o.env);
  command.insert(command.end(), o.argv.begin(), o.argv.end());
  o.argv = std::move(command);
}

std::vector<std::pair<std::string, std::string>> student_compile_env(sandbox_policy const& policy,
                                                                     std::filesystem::path const& build_dir)
{
  if (!confined(policy) || policy.hidden.empty()) return {};
  auto const joined = [](std::vector<std::filesystem::path> const& dirs) {
    std::string out;
    for (auto const& dir : dirs) out += (out.empty() ? "" : ":") + dir.string();
    return out;
  };
  return {{"WORKBOOK_MARKING_CONCEAL", joined(policy.concealed)},
          {"WORKBOOK_MARKING_HIDE", joined(policy.hidden)},
          {"WORKBOOK_MARKING_SEE", joined(policy.visible)},
          {"WORKBOOK_MARKING_WRITE", build_dir.string()}};
}

void unwrap_exit(sandbox_policy const& policy, workbook::process_result& r)
{
  if (!policy.under_bubblewrap || r.signal || r.timed_out) return;
  if (r.exit_code > 128 && r.exit_code < 128 + 65) {
    r.signal = r.exit_code - 128;
    r.exit_code = -1;
  }
}

std::string describe(sandbox_policy const& policy, std::filesystem::path const& executable)
{
  std::string out = "own process group; limits: " + std::to_string(policy.cpu_limit.count()) + " s CPU, " +
                    std::to_string(policy.file_size_limit >> 20) + " MiB per file, " +
                    (policy.data_limit ? std::to_string(policy.data_limit >> 20) + " MiB of data, " : std::string()) +
                    (policy.stack_limit ? std::to_string(policy.stack_limit >> 20) + " MiB of stack per thread, " : std::string()) +
                    "no core dumps";
  if (policy.isolate_network && (::geteuid() == 0 || confined(policy)))
    out += "; network: its own namespace, loopback only";
  else out += "; network: shared (isolated only when the grader runs as root)";
  if (policy.process_limit) {
    auto const user = user_for(policy, executable);
    out += "; processes: " + (user.refusal.empty()
                                  ? "at most " + std::to_string(policy.process_limit) + " at once, as a user of its own"
                                  : user.refusal);
  }
  if (confined(policy))
    out += "; bubblewrap: its own processes, a clean environment, the file system read-only, its own /tmp, "
           "the references hidden (from the student's compiles too)";
  else if (policy.confine_files)
    out += "; NOT confined: " + bubblewrap_refusal() + ", so the limits alone apply";
  return out;
}

} // namespace grader
