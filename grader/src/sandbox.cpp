#include "sandbox.hpp"

#include <sched.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

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

} // namespace

void apply_in_child(void* arg)
{
  auto const& policy = *static_cast<sandbox_policy const*>(arg);
  limit(RLIMIT_CORE, 0);
  limit(RLIMIT_CPU, static_cast<rlim_t>(policy.cpu_limit.count()));
  limit(RLIMIT_FSIZE, static_cast<rlim_t>(policy.file_size_limit));
  if (policy.data_limit) limit(RLIMIT_DATA, static_cast<rlim_t>(policy.data_limit));
  // Only root may unshare the network namespace without a user namespace;
  // for anyone else this fails harmlessly and the tests still use loopback.
  // (Under bubblewrap, bubblewrap does it.)
  if (policy.isolate_network && !policy.under_bubblewrap && ::geteuid() == 0 && ::unshare(CLONE_NEWNET) == 0)
    bring_up_loopback();
}

std::string const& bubblewrap_refusal()
{
  static std::string const refusal = [] {
    auto const bwrap = workbook::find_program("bwrap");
    if (!bwrap) return std::string("bubblewrap is not installed (apt install bubblewrap)");
    auto const r = workbook::run_process({*bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--ro-bind", "/",
                                          "/", "--", "/bin/true"},
                                         std::chrono::seconds(10));
    if (r.exit_code == 0) return std::string();
    auto const first_line = r.output.substr(0, r.output.find('\n'));
    return "bubblewrap cannot make its namespaces here (" + (first_line.empty() ? "no message" : first_line) + ")";
  }();
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
  if (!policy.under_bubblewrap) return;
  auto command = bubblewrap_prefix(policy, o.env);
  command.insert(command.end(), o.argv.begin(), o.argv.end());
  o.argv = std::move(command);
}

void unwrap_exit(sandbox_policy const& policy, workbook::process_result& r)
{
  if (!policy.under_bubblewrap || r.signal || r.timed_out) return;
  if (r.exit_code > 128 && r.exit_code < 128 + 65) {
    r.signal = r.exit_code - 128;
    r.exit_code = -1;
  }
}

std::string describe(sandbox_policy const& policy)
{
  std::string out = "own process group; limits: " + std::to_string(policy.cpu_limit.count()) + " s CPU, " +
                    std::to_string(policy.file_size_limit >> 20) + " MiB per file, " +
                    (policy.data_limit ? std::to_string(policy.data_limit >> 20) + " MiB of data, " : std::string()) +
                    "no core dumps";
  if (policy.isolate_network && (::geteuid() == 0 || confined(policy)))
    out += "; network: its own namespace, loopback only";
  else out += "; network: shared (isolated only when the grader runs as root)";
  if (confined(policy))
    out += "; bubblewrap: its own processes, a clean environment, the file system read-only, its own /tmp, "
           "the references hidden";
  else if (policy.confine_files)
    out += "; NOT confined: " + bubblewrap_refusal() + ", so the limits alone apply";
  return out;
}

} // namespace grader
