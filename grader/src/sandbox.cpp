#include "sandbox.hpp"

#include <sched.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

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
  // Only root may unshare the network namespace without a user namespace;
  // for anyone else this fails harmlessly and the tests still use loopback.
  if (policy.isolate_network && ::geteuid() == 0 && ::unshare(CLONE_NEWNET) == 0)
    bring_up_loopback();
}

std::string describe(sandbox_policy const& policy)
{
  std::string out = "own process group; limits: " + std::to_string(policy.cpu_limit.count()) + " s CPU, " +
                    std::to_string(policy.file_size_limit >> 20) + " MiB per file, no core dumps";
  if (policy.isolate_network && ::geteuid() == 0) out += "; network: its own namespace, loopback only";
  else out += "; network: shared (isolated only when the grader runs as root)";
  return out;
}

} // namespace grader
