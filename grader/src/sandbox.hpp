// What a test binary may do while it runs: bounded time (enforced by run),
// bounded resources, and, where the platform allows, no network but loopback.
#pragma once

#include <chrono>
#include <string>

namespace grader {

struct sandbox_policy {
  std::chrono::seconds cpu_limit{120};       // RLIMIT_CPU: a spinning child dies even if we do
  unsigned long long file_size_limit = 1ull << 30;  // RLIMIT_FSIZE: 1 GiB
  bool isolate_network = true;               // new network namespace with only loopback (needs root)
};

// The child-side setup, run between fork and exec: only async-signal-safe
// calls. Failures are ignored: isolation is best effort where not permitted.
void apply_in_child(void* policy);

// What confines a run under this policy, in words for the verdict.
std::string describe(sandbox_policy const& policy);

} // namespace grader
