#include "run.hpp"
#include "text.hpp"

#include <workbook/process.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace grader {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

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

void apply_event(std::string const& line, std::vector<case_result>& cases, int& current)
{
  auto const event = nlohmann::json::parse(line, nullptr, false);
  if (event.is_discarded() || !event.is_object()) return;
  std::string const kind = event.value("event", "");
  auto find = [&](std::string const& name) -> int {
    for (std::size_t i = 0; i < cases.size(); ++i)
      if (cases[i].name == name) return static_cast<int>(i);
    cases.push_back({name, {}, case_status::not_run, {}, 0, 0, {}});
    return static_cast<int>(cases.size() - 1);
  };
  if (kind == "case-start") {
    current = find(event.value("name", ""));
    auto& c = cases[static_cast<std::size_t>(current)];
    c.failures.clear();
    if (event.contains("tags")) c.tags = event["tags"].get<std::vector<std::string>>();
  } else if (kind == "failure" && current >= 0) {
    failure f;
    f.expr = event.value("expr", "");
    f.expanded = event.value("expanded", "");
    f.message = event.value("message", "");
    if (event.contains("info")) f.info = event["info"].get<std::vector<std::string>>();
    f.file = event.value("file", "");
    f.line = event.value("line", 0);
    f.transcript = event.value("transcript", "");
    cases[static_cast<std::size_t>(current)].failures.push_back(std::move(f));
  } else if (kind == "case-end") {
    int const i = find(event.value("name", ""));
    auto& c = cases[static_cast<std::size_t>(i)];
    c.status = event.value("passed", false) ? case_status::passed : case_status::failed;
    c.seconds = event.value("seconds", 0.0);
    current = -1;
  }
}

namespace {

struct listing {
  bool ok = false;
  std::string error;
  std::vector<case_result> cases;
};

listing list_cases(fs::path const& exe)
{
  listing l;
  auto const r = workbook::run_process({exe.string(), "--workbook-list"}, std::chrono::seconds(20));
  if (r.timed_out) {
    l.error = "listing its tests took more than 20 s";
    return l;
  }
  if (r.signal) {
    l.error = "crashed with " + signal_name(r.signal) + " before any test ran:\n" + last_lines(r.output, 15);
    return l;
  }
  auto const json = nlohmann::json::parse(r.output, nullptr, false);
  if (r.exit_code != 0 || !json.is_array()) {
    l.error = "could not list its tests (exit code " + std::to_string(r.exit_code) + "):\n" +
              last_lines(r.output, 15);
    return l;
  }
  for (auto const& c : json)
    l.cases.push_back({c.value("name", ""), c.value("tags", std::vector<std::string>{}),
                       case_status::not_run, {}, 0, 0, {}});
  l.ok = true;
  return l;
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
  in.seekg(static_cast<std::streamoff>(offset));
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return last_lines(all, lines);
}

} // namespace

run_result run_tests(run_settings const& s)
{
  run_result result;
  auto l = list_cases(s.executable);
  if (!l.ok) {
    result.error = l.error;
    return result;
  }
  result.started = true;
  result.cases = std::move(l.cases);
  if (!s.only_tag.empty()) {
    // Catch2 lists tags without brackets and matches them ignoring case.
    auto const lower = [](std::string t) {
      std::erase_if(t, [](char ch) { return ch == '[' || ch == ']'; });
      std::transform(t.begin(), t.end(), t.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      return t;
    };
    std::string const wanted = lower(s.only_tag);
    std::erase_if(result.cases, [&](case_result const& c) {
      return std::none_of(c.tags.begin(), c.tags.end(), [&](std::string const& t) { return lower(t) == wanted; });
    });
  }

  std::error_code ec;
  fs::create_directories(s.log.parent_path(), ec);
  fs::remove(s.log, ec);
  auto const run_deadline = clock_type::now() + s.total_timeout;

  // Each pass runs every case not yet decided; a pass ends early only when
  // a case crashes or hangs, and that case is decided then.
  for (int pass = 0; pass < 64; ++pass) {
    std::vector<std::string> pending;
    for (auto const& c : result.cases)
      if (c.status == case_status::not_run) pending.push_back(c.name);
    if (pending.empty()) break;
    if (clock_type::now() >= run_deadline) break;

    int events[2];
    if (::pipe2(events, O_CLOEXEC) != 0) {
      result.error = std::string("pipe: ") + std::strerror(errno);
      return result;
    }
    int const log_fd = ::open(s.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

    workbook::spawn_options options;
    options.argv = {s.executable.string(), "--order", "decl"};
    if (!s.only_tag.empty() && pending.size() == result.cases.size()) {
      options.argv.push_back(s.only_tag);
    } else if (pending.size() != result.cases.size()) {
      // A rerun after a crash or hang: only what is left, as one spec
      // (Catch2 ORs comma-separated names).
      std::string spec;
      for (auto const& name : pending) spec += (spec.empty() ? "" : ",") + escape_test_name(name);
      options.argv.push_back(spec);
    }
    options.env = {{"WORKBOOK_EVENTS", "/dev/fd/3"}};
    options.stdout_fd = log_fd;
    options.extra_fd = events[1];
    sandbox_policy policy = s.sandbox;
    options.child_setup = &apply_in_child;
    options.child_setup_arg = &policy;
    pid_t const pid = workbook::spawn(options);
    ::close(events[1]);
    if (log_fd >= 0) ::close(log_fd);

    int current = -1;
    auto case_started = clock_type::now();
    std::uintmax_t case_log_offset = size_of(s.log);
    std::string pending_bytes;
    bool timed_out = false;
    char buf[16384];
    for (;;) {
      auto const now = clock_type::now();
      auto const case_deadline = case_started + s.case_timeout;
      auto const deadline = std::min(case_deadline, run_deadline);
      if (now >= deadline) {
        timed_out = true;
        break;
      }
      pollfd p{events[0], POLLIN, 0};
      int const wait_ms = static_cast<int>(std::chrono::duration_cast<milliseconds>(deadline - now).count()) + 1;
      int const r = ::poll(&p, 1, wait_ms);
      if (r < 0 && errno == EINTR) continue;
      if (r == 0) continue;
      ssize_t const n = ::read(events[0], buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // the child (and anything it started) closed the stream
      pending_bytes.append(buf, static_cast<std::size_t>(n));
      std::size_t nl;
      while ((nl = pending_bytes.find('\n')) != std::string::npos) {
        int const before = current;
        apply_event(pending_bytes.substr(0, nl), result.cases, current);
        pending_bytes.erase(0, nl + 1);
        if (current != before) {
          case_started = clock_type::now();
          case_log_offset = size_of(s.log);
        }
      }
    }
    ::close(events[0]);
    if (timed_out) workbook::kill_group(pid, SIGKILL);

    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    // Anything the test binary started is gone too.
    workbook::kill_group(pid, SIGKILL);

    workbook::process_result exit;
    workbook::decode_wait_status(status, exit);
    if (current >= 0) {
      auto& c = result.cases[static_cast<std::size_t>(current)];
      c.output_tail = read_tail(s.log, 25, case_log_offset);
      if (timed_out) {
        c.status = case_status::timed_out;
        c.seconds = std::chrono::duration<double>(clock_type::now() - case_started).count();
      } else {
        c.status = case_status::crashed;
        c.signal = exit.signal;
      }
      continue;  // the next pass runs what is left
    }
    if (timed_out) break;  // the whole run's time is up between cases
    // A clean exit leaves nothing pending; if something is (the binary
    // exited early, e.g. std::exit in a test), stop rather than loop.
    bool progress = false;
    for (auto const& c : result.cases)
      if (c.status != case_status::not_run) progress = true;
    if (!progress) {
      result.error = "the test binary exited (code " + std::to_string(exit.exit_code) +
                     ") without running a test:\n" + read_tail(s.log, 15);
      return result;
    }
    bool any_pending = false;
    for (auto const& c : result.cases)
      if (c.status == case_status::not_run) any_pending = true;
    if (any_pending && exit.signal == 0) {
      // Exited mid-run without a signal (std::exit, _exit): blame the next case.
      for (auto& c : result.cases)
        if (c.status == case_status::not_run) {
          c.status = case_status::crashed;
          c.output_tail = read_tail(s.log, 25);
          break;
        }
    }
  }
  return result;
}

} // namespace grader
