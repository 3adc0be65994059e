// What a test binary may do while it runs: bounded time (enforced by run),
// bounded resources, and, where the platform allows, no network but loopback.
#pragma once

#include <workbook/process.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace grader {

struct sandbox_policy {
  std::chrono::seconds cpu_limit{120};       // RLIMIT_CPU: a spinning child dies even if we do
  unsigned long long file_size_limit = 1ull << 30;  // RLIMIT_FSIZE: 1 GiB
  bool isolate_network = true;               // new network namespace with only loopback (needs root)
  // Marking (grader mark): the binary runs under bubblewrap, in namespaces
  // of its own (processes, network, IPC), and sees the file system
  // read-only, a /tmp of its own, and none of `hidden` (the references).
  bool confine_files = false;
  std::vector<std::filesystem::path> hidden;
};

// The command that runs `argv` under the policy: `argv` itself, or `argv`
// behind bubblewrap when the policy confines files. Throws when it does and
// bubblewrap is not installed.
std::vector<std::string> sandboxed_command(sandbox_policy const& policy, std::vector<std::string> argv);

// How the binary itself ended: bubblewrap passes a child's death by signal
// N on as exit code 128+N, which a confined run turns back into the signal.
void unwrap_exit(sandbox_policy const& policy, workbook::process_result& r);

// The child-side setup, run between fork and exec: only async-signal-safe
// calls. Failures are ignored: isolation is best effort where not permitted.
void apply_in_child(void* policy);

// What confines a run under this policy, in words for the verdict.
std::string describe(sandbox_policy const& policy);

} // namespace grader
