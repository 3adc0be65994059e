// What a test binary may do while it runs: bounded time (enforced by run),
// bounded resources, and, where the platform allows, no network but loopback.
#pragma once

#include <workbook/process.hpp>

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace grader {

struct sandbox_policy {
  std::chrono::seconds cpu_limit{120};       // RLIMIT_CPU: a spinning child dies even if we do
  unsigned long long file_size_limit = 1ull << 30;  // RLIMIT_FSIZE: 1 GiB
  // RLIMIT_DATA (heap and writable private mappings; not address space a
  // browser only reserves): 0 is none. Marking sets it; grading does not
  // (a sanitizer's shadow memory would not fit).
  unsigned long long data_limit = 0;
  // RLIMIT_STACK: the main thread's stack and, in glibc, every other
  // thread's by default: 0 leaves it. Thread stacks are writable private
  // mappings, so under a data limit each one counts whole (8 MiB by default).
  unsigned long long stack_limit = 0;
  // RLIMIT_NPROC: how many processes and threads the run may have at once
  // (a fork bomb meets it): 0 is none. The kernel counts them per user and
  // spares root, so a grader running as root runs the binary as a user of
  // its own (see run_as); where it cannot, describe() says why.
  unsigned process_limit = 0;
  bool isolate_network = true;               // new network namespace with only loopback (needs root)
  // Marking (grader mark): the binary runs under bubblewrap, in namespaces
  // of its own (processes, network, IPC), and sees the file system
  // read-only, a /tmp of its own, and none of `hidden` (the references).
  bool confine_files = false;
  // In this order: `concealed` hidden whole (the trusted tree around the
  // marking's workspace), then `visible` bound read-only again (over its
  // own /tmp and what was concealed: the workspace), then `hidden` (the
  // workspace's references).
  std::vector<std::filesystem::path> concealed;
  std::vector<std::filesystem::path> visible;
  std::vector<std::filesystem::path> hidden;
  bool under_bubblewrap = false;             // set by apply_sandbox when bubblewrap runs it
  uid_t run_as = 0;                          // set by apply_sandbox: the user the run becomes (0: the grader's own)
};

// Why bubblewrap cannot confine a run on this machine (not installed, or
// its namespaces refused, as in some containers); empty when it can.
// Probed once, by running it.
std::string const& bubblewrap_refusal();

// Makes `o` run under `policy` (which must outlive the spawn): its child
// setup (limits, network) and, when the policy confines files and
// bubblewrap works here, its command behind bubblewrap with a clean
// environment (PATH, HOME=/tmp and o.env only). Where bubblewrap does not
// work, the limits alone apply and describe() says so.
void apply_sandbox(sandbox_policy& policy, workbook::spawn_options& o);

// The environment under which a build confines the student's own compiles
// (cmake/student-compile reads it): the policy's concealed, visible and
// hidden directories as for the run, `build_dir` writable, the network off. Empty
// where the policy does not confine files or bubblewrap does not work here.
std::vector<std::pair<std::string, std::string>> student_compile_env(sandbox_policy const& policy,
                                                                     std::filesystem::path const& build_dir);

// How the binary itself ended: bubblewrap passes a child's death by signal
// N on as exit code 128+N, which a confined run turns back into the signal.
void unwrap_exit(sandbox_policy const& policy, workbook::process_result& r);

// The child-side setup, run between fork and exec: only async-signal-safe
// calls. Failures are ignored: isolation is best effort where not permitted.
void apply_in_child(void* policy);

// What confines a run of `executable` under this policy, in words for the verdict.
std::string describe(sandbox_policy const& policy, std::filesystem::path const& executable);

} // namespace grader
