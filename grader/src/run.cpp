#include "run.hpp"
#include "text.hpp"

#include <workbook/process.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <optional>

#include <fcntl.h>
#include <unistd.h>

namespace grader {

namespace fs = std::filesystem;
namespace events = workbook::events;
using clock_type = std::chrono::steady_clock;

std::string signal_name(int sig)
{
  switch (sig) {
  case SIGSEGV: return "SIGSEGV (segmentation fault)";
  case SIGABRT: return "SIGABRT (abort: a failed assert, std::terminate or a sanitizer)";
  case SIGBUS: return "SIGBUS (bus error)";
  case SIGFPE: return "SIGFPE (arithmetic error)";
  case SIGILL: return "SIGILL (illegal instruction)";
  case SIGKILL: return "SIGKILL (killed)";
  case SIGXCPU: return "SIGXCPU (CPU time limit)";
  case SIGXFSZ: return "SIGXFSZ (file size limit)";
  case SIGPIPE: return "SIGPIPE (wrote to a closed connection; use MSG_NOSIGNAL or ignore SIGPIPE)";
  default: return std::string("signal ") + std::to_string(sig) + " (" + ::strsignal(sig) + ")";
  }
}

std::string escape_test_name(std::string const& name)
{
  std::string out;
  for (char c : name) {
    if (c == '\\' || c == ',' || c == '[' || c == ']' || c == '"' || c == '~' || c == '*')
      out += '\\';
    out += c;
  }
  return out;
}

std::chrono::milliseconds run_settings::limit_for(std::string const& case_name) const
{
  auto const it = case_limits.find(case_name);
  return it == case_limits.end() ? case_timeout : it->second;
}

namespace {

int index_of(std::vector<case_result>& cases, std::string const& name)
{
  for (std::size_t i = 0; i < cases.size(); ++i)
    if (cases[i].name == name) return static_cast<int>(i);
  cases.push_back({});
  cases.back().name = name;
  return static_cast<int>(cases.size() - 1);
}

struct event_folder {
  std::vector<case_result>& cases;
  int& current;

  void operator()(events::case_start const& e) const
  {
    current = index_of(cases, e.info.name);
    auto& c = cases[static_cast<std::size_t>(current)];
    c.failures.clear();
    c.tags = e.info.tags;
  }
  void operator()(events::failure const& e) const
  {
    if (current < 0) return;
    cases[static_cast<std::size_t>(current)].failures.push_back(
        {e.expr, e.expanded, e.message, e.info, e.file, e.line, e.transcript, e.fatal});
  }
  void operator()(events::case_end const& e) const
  {
    int const i = index_of(cases, e.name);
    auto& c = cases[static_cast<std::size_t>(i)];
    c.status = !e.passed ? case_status::failed : e.skipped.empty() ? case_status::passed : case_status::unavailable;
    c.unavailable_because = e.skipped;
    c.seconds = e.seconds;
    // After a fatal signal Catch2 ends the case for its reporters and the
    // process dies next: the case stays current, so the crash is its own.
    bool const fatal = std::any_of(c.failures.begin(), c.failures.end(), [](failure const& f) { return f.fatal; });
    current = fatal ? i : -1;
  }
};

} // namespace

void apply_event(events::event const& e, std::vector<case_result>& cases, int& current)
{
  std::visit(event_folder{cases, current}, e);
}

namespace {

// The binary's cases, as --workbook-list gives them.
std::optional<std::vector<case_result>> list_cases(run_settings const& s, std::string& error)
{
  // Listing runs the binary's static initializers: under the same sandbox.
  sandbox_policy policy = s.sandbox;
  workbook::spawn_options o;
  o.argv = {s.executable.string(), std::string(events::list_flag)};
  apply_sandbox(policy, o);
  auto r = workbook::run_process(std::move(o), std::chrono::seconds(10));
  unwrap_exit(policy, r);
  if (r.timed_out) error = "listing its tests took more than 10 s (a static initializer that never returns?)";
  else if (r.signal) error = "crashed with " + signal_name(r.signal) + " before any test ran:\n" + last_lines(r.output, 15);
  if (!error.empty()) return std::nullopt;
  auto listing = events::decode_listing(r.output);
  if (r.exit_code != 0 || !listing) {
    error = "could not list its tests (exit code " + std::to_string(r.exit_code) + "):\n" + last_lines(r.output, 15);
    return std::nullopt;
  }
  std::vector<case_result> cases;
  for (auto& c : *listing) {
    cases.push_back({});
    cases.back().name = std::move(c.name);
    cases.back().tags = std::move(c.tags);
  }
  return cases;
}

std::uintmax_t size_of(fs::path const& p)
{
  std::error_code ec;
  auto const n = fs::file_size(p, ec);
  return ec ? 0 : n;
}

// The last lines of the log written since `offset` (where the case began).
std::string read_tail(fs::path const& p, std::size_t lines, std::uintmax_t offset = 0)
{
  std::ifstream in(p, std::ios::binary);
  auto const size = size_of(p);
  // A case that printed megabytes: its last 64 KiB hold the last lines.
  offset = std::max<std::uintmax_t>(offset, size > (1u << 16) ? size - (1u << 16) : 0);
  in.seekg(static_cast<std::streamoff>(offset));
  std::string tail((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return last_lines(tail, lines);
}

// One process running the cases still pending: what happened to it.
struct pass_outcome {
  workbook::process_result exit;
  int current = -1;                  // the case running when it ended, or -1
  bool case_timed_out = false;       // the current case hit its own limit
  clock_type::time_point case_started;
  // Where this pass's output begins in the log. (Not where the case's does:
  // the log and the event pipe are written independently, so an offset taken
  // when an event arrives may already be past the case's first lines.)
  std::uintmax_t log_offset = 0;
};

std::vector<std::string> pass_arguments(run_settings const& s, std::vector<case_result> const& cases)
{
  std::vector<std::string> argv{s.executable.string(), "--order", "decl"};
  if (s.random_seed) argv = {s.executable.string(), "--order", "rand", "--rng-seed", std::to_string(*s.random_seed)};
  std::vector<std::string> pending;
  for (auto const& c : cases)
    if (c.status == case_status::not_run) pending.push_back(c.name);
  if (pending.size() == cases.size() && s.only_cases.empty()) {
    if (!s.only_tag.empty()) argv.push_back(s.only_tag);
    return argv;
  }
  // A rerun after a crash or hang: only what is left, as one spec (Catch2
  // ORs comma-separated names).
  std::string spec;
  for (auto const& name : pending) spec += (spec.empty() ? "" : ",") + escape_test_name(name);
  argv.push_back(spec);
  return argv;
}

// Runs the pending cases in one process, folding its events as they come.
pass_outcome run_pass(run_settings const& s, std::vector<case_result>& cases, clock_type::time_point run_deadline)
{
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");

  pass_outcome out;
  out.case_started = clock_type::now();
  out.log_offset = size_of(s.log);
  sandbox_policy policy = s.sandbox;
  workbook::run_options o;
  o.spawn.argv = pass_arguments(s, cases);
  o.spawn.env = {{events::env_var, events::grader_path}};
  o.spawn.extra_fd = pipe_fds[1];
  apply_sandbox(policy, o.spawn);
  // The harness opens the channel again by its name (/dev/fd/3), which a
  // pipe's owner alone may do: a run that becomes a user of its own owns it.
  if (policy.run_as != 0 && ::fchown(pipe_fds[1], policy.run_as, static_cast<gid_t>(-1)) != 0) {
    int const error = errno;
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    throw std::system_error(error, std::generic_category(), "giving the events pipe to the run's own user");
  }
  o.output_file = s.log;
  o.events_fd = pipe_fds[0];
  std::string partial;
  o.on_events = [&](std::string_view chunk) {
    partial.append(chunk);
    for (std::size_t nl; (nl = partial.find('\n')) != std::string::npos; partial.erase(0, nl + 1)) {
      int const before = out.current;
      if (auto e = events::decode(std::string_view(partial).substr(0, nl))) apply_event(*e, cases, out.current);
      if (out.current != before) out.case_started = clock_type::now();
    }
  };
  // Between cases (and before the first) the default limit applies.
  o.deadline = [&] {
    auto const limit = out.current >= 0 ? s.limit_for(cases[static_cast<std::size_t>(out.current)].name) : s.case_timeout;
    auto const case_deadline = out.case_started + limit;
    out.case_timed_out = case_deadline <= run_deadline;
    return std::min(case_deadline, run_deadline);
  };
  out.exit = workbook::run(std::move(o));   // closes both ends of the pipe
  unwrap_exit(policy, out.exit);
  if (!out.exit.timed_out) out.case_timed_out = false;
  return out;
}

// After a case timed out, the other pending cases of its criterion are not
// run: one time-out per criterion is answer enough.
void skip_siblings(std::vector<case_result>& cases, case_result const& timed_out)
{
  for (auto& c : cases) {
    if (c.status != case_status::not_run) continue;
    bool const sibling = std::any_of(c.tags.begin(), c.tags.end(), [&](std::string const& tag) {
      return std::any_of(timed_out.tags.begin(), timed_out.tags.end(),
                         [&](std::string const& t) { return same_tag(t, tag); });
    });
    if (!sibling) continue;
    c.status = case_status::skipped;
    c.skipped_because = timed_out.name;
  }
}

// Decides the case that was running when the process ended (crashed,
// exited or timed out). Returns false when the run cannot go on.
bool settle_current(run_settings const& s, std::vector<case_result>& cases, pass_outcome const& p)
{
  auto& c = cases[static_cast<std::size_t>(p.current)];
  c.output_tail = read_tail(s.log, 25, p.log_offset);
  c.limit_seconds = std::chrono::duration<double>(s.limit_for(c.name)).count();
  c.seconds = std::chrono::duration<double>(clock_type::now() - p.case_started).count();
  if (p.exit.timed_out && p.case_timed_out) {
    c.status = case_status::timed_out;
    skip_siblings(cases, c);
    return true;
  }
  if (p.exit.timed_out) return false;   // the whole run's time is up
  c.status = p.exit.signal ? case_status::crashed : case_status::exited;
  c.signal = p.exit.signal;
  c.exit_code = p.exit.exit_code;
  return true;
}

// The process ended between cases. An exit that leaves cases pending without
// a signal is blamed on the next one (std::exit in a static destructor, say).
bool settle_between(run_settings const& s, std::vector<case_result>& cases, pass_outcome const& p, std::string& error)
{
  if (p.exit.timed_out) return false;
  bool const progress = std::any_of(cases.begin(), cases.end(), [](auto const& c) { return c.status != case_status::not_run; });
  if (!progress) {
    error = "the test binary exited (code " + std::to_string(p.exit.exit_code) + ", " +
            (p.exit.signal ? signal_name(p.exit.signal) : "no signal") + ") without running a test:\n" +
            read_tail(s.log, 15);
    return false;
  }
  auto next = std::find_if(cases.begin(), cases.end(), [](auto const& c) { return c.status == case_status::not_run; });
  if (next == cases.end()) return false;
  next->status = p.exit.signal ? case_status::crashed : case_status::exited;
  next->signal = p.exit.signal;
  next->exit_code = p.exit.exit_code;
  next->output_tail = read_tail(s.log, 25, p.log_offset);
  return true;
}

} // namespace

run_result run_tests(run_settings const& s)
{
  run_result result;
  auto const started = clock_type::now();
  auto listed = list_cases(s, result.error);
  if (!listed) return result;
  result.started = true;
  result.cases = std::move(*listed);
  if (!s.only_tag.empty())
    std::erase_if(result.cases, [&](case_result const& c) {
      return std::none_of(c.tags.begin(), c.tags.end(), [&](auto const& t) { return same_tag(t, s.only_tag); });
    });
  if (!s.only_cases.empty())
    std::erase_if(result.cases, [&](case_result const& c) {
      return std::find(s.only_cases.begin(), s.only_cases.end(), c.name) == s.only_cases.end();
    });

  std::error_code ec;
  fs::create_directories(s.log.parent_path(), ec);
  fs::remove(s.log, ec);
  auto const run_deadline = started + s.total_timeout;

  // Each pass runs every case not yet decided; it ends early only when a
  // case crashes, exits or hangs, and that case is decided then.
  for (int pass = 0; pass < 256; ++pass) {
    bool const pending = std::any_of(result.cases.begin(), result.cases.end(),
                                     [](auto const& c) { return c.status == case_status::not_run; });
    if (!pending || clock_type::now() >= run_deadline) break;
    auto const p = run_pass(s, result.cases, run_deadline);
    bool const go_on = p.current >= 0 ? settle_current(s, result.cases, p)
                                      : settle_between(s, result.cases, p, result.error);
    if (!result.error.empty()) result.started = false;
    if (!go_on) break;
  }
  for (auto& c : result.cases)
    if (c.limit_seconds == 0) c.limit_seconds = std::chrono::duration<double>(s.limit_for(c.name)).count();
  result.seconds = std::chrono::duration<double>(clock_type::now() - started).count();
  return result;
}

} // namespace grader
