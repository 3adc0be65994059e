#include "sandbox.hpp"

#include <sched.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

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
  // Only root may unshare the network namespace without a user namespace;
  // for anyone else this fails harmlessly and the tests still use loopback.
  // (Under bubblewrap, bubblewrap does it.)
  if (policy.isolate_network && !policy.confine_files && ::geteuid() == 0 && ::unshare(CLONE_NEWNET) == 0)
    bring_up_loopback();
}

std::vector<std::string> sandboxed_command(sandbox_policy const& policy, std::vector<std::string> argv)
{
  if (!policy.confine_files) return argv;
  auto const bwrap = workbook::find_program("bwrap");
  if (!bwrap)
    throw std::runtime_error("marking runs each test binary under bubblewrap, which is not installed: "
                             "apt install bubblewrap (it is in cmake/debian-packages.txt)");
  // --die-with-parent: a grader that is killed takes the run with it; a
  // pid namespace: nothing the binary starts outlives it.
  std::vector<std::string> command{*bwrap, "--die-with-parent", "--unshare-pid", "--unshare-ipc",
                                   "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                                   "--tmpfs", "/tmp", "--setenv", "HOME", "/tmp"};
  if (policy.isolate_network) command.push_back("--unshare-net");
  for (auto const& dir : policy.hidden) {
    command.push_back("--tmpfs");
    command.push_back(dir.string());
  }
  command.push_back("--");
  command.insert(command.end(), argv.begin(), argv.end());
  return command;
}

void unwrap_exit(sandbox_policy const& policy, workbook::process_result& r)
{
  if (!policy.confine_files || r.signal || r.timed_out) return;
  if (r.exit_code > 128 && r.exit_code < 128 + 65) {
    r.signal = r.exit_code - 128;
    r.exit_code = -1;
  }
}

std::string describe(sandbox_policy const& policy)
{
  std::string out = "own process group; limits: " + std::to_string(policy.cpu_limit.count()) + " s CPU, " +
                    std::to_string(policy.file_size_limit >> 20) + " MiB per file, no core dumps";
  if (policy.isolate_network && (::geteuid() == 0 || policy.confine_files))
    out += "; network: its own namespace, loopback only";
  else out += "; network: shared (isolated only when the grader runs as root)";
  if (policy.confine_files)
    out += "; bubblewrap: its own processes, the file system read-only, its own /tmp, the references hidden";
  return out;
}

} // namespace grader
