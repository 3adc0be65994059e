// Task 16 · test helpers: CPU time measured per thread and burned on
// purpose, threads of the test's that your profiler samples, the test's own
// reading of a profile (program counters named with dladdr, independently
// of your summarize()), a SIGPROF handler of the test's that shows who else
// sends SIGPROF, the kernel's list of the process's POSIX timers, and a
// child process for the checks that a wrong signal handler would hang.
#pragma once

#include "profiler.hpp"

#include <workbook/eventually.hpp>
#include <workbook/sanitizers.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <mutex>
#include <new>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace task16_test {

namespace net = boost::asio;
using namespace std::chrono_literals;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using clock_type = std::chrono::steady_clock;

// ---------------------------------------------------------------- sanitizers

// ThreadSanitizer catches every signal itself and hands it to the
// program's handler later, at the thread's next call into the runtime (a
// lock, an allocation, a clock read); two SIGPROFs that arrive before then
// become one. The program counter and the label are still the ones of the
// moment the signal arrived, so attribution holds, but counts come out
// lower than CPU time says. Under TSan the two checks of counts against
// CPU time alone (AC1's rate, AC6's full table) keep only their upper
// bound (and say so), and AC4's hottest function is not checked: now and
// then the PC sampled is the runtime's, not the hash routine's (seen once
// in five runs). Every other check runs as it is.
inline constexpr bool counts_are_approximate = workbook::thread_sanitized;

// ---------------------------------------------------------------- CPU time

// The calling thread's CPU time so far.
inline nanoseconds thread_cpu()
{
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + nanoseconds(ts.tv_nsec);
}

inline double ms_of(nanoseconds d) { return std::chrono::duration<double, std::milli>(d).count(); }

// Where the results of the work the tests burn go, so none is optimized away.
inline std::atomic<std::uint64_t> sink{0};

// Burns `cpu` of the calling thread's CPU time in `work` (task16::churn
// unless told), in pieces of a fraction of a millisecond, reading the
// thread's clock between pieces. Allocates nothing. Returns the CPU time it
// burned, measured.
inline nanoseconds burn(milliseconds cpu, std::uint64_t (*work)(std::uint64_t, std::uint64_t) = task16::churn)
{
  auto const start = thread_cpu();
  std::uint64_t x = 88172645463325252u;
  nanoseconds used{};
  while ((used = thread_cpu() - start) < cpu) x = work(x, 5000);
  sink.fetch_add(x, std::memory_order_relaxed);
  return used;
}

// Samples expected for `cpu` of CPU time at `hz`.
inline double expected_samples(nanoseconds cpu, unsigned hz) { return ms_of(cpu) * hz / 1000.0; }

// ---------------------------------------------------------------- threads of the test's

// A thread that runs jobs one at a time and waits in between, using no CPU.
// With a profiler it is sampled by it from its first instruction to its
// last (a task16::sampled_thread made first thing on the thread).
class worker {
public:
  explicit worker(task16::profiler* p = nullptr)
  {
    thread_ = std::thread([this, p] {
      std::optional<task16::sampled_thread> sampled;
      if (p) sampled.emplace(*p);
      tid_ = gettid();
      loop();
    });
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return tid_.load() != 0; });
  }
  worker(worker const&) = delete;
  worker& operator=(worker const&) = delete;
  ~worker()
  {
    {
      std::lock_guard lock(mutex_);
      quit_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  pid_t tid() const { return tid_.load(); }

  // The worker's CPU time so far, read from its own CPU clock.
  nanoseconds cpu()
  {
    clockid_t clock{};
    timespec ts{};
    if (pthread_getcpuclockid(thread_.native_handle(), &clock) != 0 || clock_gettime(clock, &ts) != 0) return {};
    return std::chrono::seconds(ts.tv_sec) + nanoseconds(ts.tv_nsec);
  }

  // Runs `job` on the worker and waits for it, at most `patience`; false
  // when it had not finished by then.
  bool run(std::function<void()> job, milliseconds patience = 10s)
  {
    std::unique_lock lock(mutex_);
    auto const ticket = ++queued_;
    jobs_.push_back(std::move(job));
    cv_.notify_all();
    return cv_.wait_for(lock, patience, [&] { return done_ >= ticket; });
  }

  // Starts `job` on the worker without waiting; wait() waits for it.
  void start(std::function<void()> job)
  {
    std::lock_guard lock(mutex_);
    ++queued_;
    jobs_.push_back(std::move(job));
    cv_.notify_all();
  }
  bool wait(milliseconds patience = 10s)
  {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, patience, [&] { return done_ >= queued_; });
  }

private:
  void loop()
  {
    {
      std::lock_guard lock(mutex_);
      cv_.notify_all();  // tid_ is set
    }
    std::unique_lock lock(mutex_);
    for (;;) {
      cv_.wait(lock, [&] { return quit_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
      ++done_;
      cv_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::uint64_t queued_ = 0;
  std::uint64_t done_ = 0;
  bool quit_ = false;
  std::atomic<pid_t> tid_{0};
  std::thread thread_;
};

// An io_context run by `threads` threads, each sampled by `p` (when given).
// Joined on destruction, whatever the test does.
class sampled_io {
public:
  sampled_io(net::io_context& ioc, task16::profiler* p, int threads) : ioc_(ioc), work_(net::make_work_guard(ioc))
  {
    for (int i = 0; i < threads; ++i)
      threads_.emplace_back([this, p] {
        std::optional<task16::sampled_thread> sampled;
        if (p) sampled.emplace(*p);
        ioc_.run();
      });
  }
  sampled_io(sampled_io const&) = delete;
  sampled_io& operator=(sampled_io const&) = delete;
  ~sampled_io() { stop(); }

  void stop()
  {
    work_.reset();
    ioc_.stop();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

private:
  net::io_context& ioc_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
};

// Background noise, as in Go's workbook: `n` threads, sampled by `p`, that
// burn CPU in task16::churn under no label until stopped.
class burners {
public:
  burners(task16::profiler& p, int n)
  {
    for (int i = 0; i < n; ++i)
      threads_.emplace_back([this, &p] {
        task16::sampled_thread sampled(p);
        nanoseconds const start = thread_cpu();
        while (!stop_.load(std::memory_order_relaxed)) burn(1ms);
        cpu_ns_.fetch_add(static_cast<std::uint64_t>((thread_cpu() - start).count()));
      });
  }
  burners(burners const&) = delete;
  burners& operator=(burners const&) = delete;
  ~burners() { stop(); }

  void stop()
  {
    stop_ = true;
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

  // The CPU time they burned, once stopped.
  nanoseconds cpu() const { return nanoseconds(cpu_ns_.load()); }

private:
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> cpu_ns_{0};
  std::vector<std::thread> threads_;
};

// ---------------------------------------------------------------- burning until the profile shows it

// A kernel notices that a thread's CPU timer has expired only at a clock
// tick that finds the thread running. On a quiet machine that is every
// 4 ms of CPU (250 Hz); on a loaded one, a virtual machine above all, a
// thread may use tens of milliseconds of CPU between two such ticks, and
// then one signal arrives with the periods it missed as overruns, counted
// where the thread is at that moment. Counts are right over a long stretch
// and blurred at its edges. So the tests do not burn a fixed amount and
// read the profile after: a worker burns a step of its job until the test,
// watching the profile from its own thread, has seen the samples it
// expects, and moves it on.
struct stepper {
  std::atomic<int> step{0};

  // On the worker: burns `work` in small pieces while the test keeps it at `s`.
  void burn_while(int s, std::uint64_t (*work)(std::uint64_t, std::uint64_t) = task16::churn)
  {
    std::uint64_t x = 88172645463325252u;
    while (step.load() == s) x = work(x, 2000);
    sink.fetch_add(x, std::memory_order_relaxed);
  }

  // On the test: lets the worker go on to the next step.
  void next() { step.fetch_add(1); }

  // Ends the job whatever step it is at (a failed test must not leave the
  // worker burning: its destructor waits for it).
  void finish() { step.store(1000); }
};

// Waits until `seen()` holds, while the worker `w` burns: true then. False
// once the worker has burned `budget` of CPU since the call without it
// (or, on a machine too loaded to give it that, after 20 s).
template <class Seen>
bool until_seen(worker& w, Seen seen, milliseconds budget = 1000ms)
{
  auto const start = w.cpu();
  bool over_budget = false;
  workbook::eventually(
      [&] {
        if (seen()) return true;
        over_budget = w.cpu() - start >= budget;
        return over_budget;
      },
      20s);
  return seen();
}

// ---------------------------------------------------------------- reading a profile, the test's way

inline bool same_label(char const* a, char const* b)
{
  if (!a || !b) return a == b;
  return std::strcmp(a, b) == 0;
}

// The samples counted under `label` (nullptr: under none).
inline std::uint64_t samples_under(task16::profile const& p, char const* label)
{
  std::uint64_t n = 0;
  for (auto const& c : p.counts)
    if (same_label(c.label, label)) n += c.samples;
  return n;
}

// The entry address of the function that holds `pc`, as the dynamic symbol
// table says (nullptr when none does).
inline void const* function_of(std::uintptr_t pc)
{
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(pc), &info) == 0 || info.dli_sname == nullptr) return nullptr;
  return info.dli_saddr;
}

template <class R, class... A>
void const* address_of(R (*f)(A...))
{
  return reinterpret_cast<void const*>(f);
}

// The samples taken inside one function, split by label.
struct attribution {
  std::uint64_t total = 0;
  std::uint64_t under_label = 0;  // under the label asked about
  std::uint64_t unlabeled = 0;    // under no label

  double share_under_label() const { return total ? static_cast<double>(under_label) / static_cast<double>(total) : 0; }
  double share_unlabeled() const { return total ? static_cast<double>(unlabeled) / static_cast<double>(total) : 0; }
};

inline attribution samples_in(task16::profile const& p, void const* function, char const* label)
{
  attribution a;
  for (auto const& c : p.counts) {
    if (function_of(c.pc) != function) continue;
    a.total += c.samples;
    if (same_label(c.label, label)) a.under_label += c.samples;
    if (c.label == nullptr) a.unlabeled += c.samples;
  }
  return a;
}

// A profile as text for a failure message: its labels and the test's own
// names for the hottest counters.
inline std::string describe(task16::profile const& p, std::size_t max = 12)
{
  auto counts = p.counts;
  std::sort(counts.begin(), counts.end(), [](auto const& a, auto const& b) { return a.samples > b.samples; });
  std::ostringstream out;
  out << p.samples() << " samples, " << p.dropped << " dropped, " << p.counts.size() << " (label, pc) pairs";
  for (std::size_t i = 0; i < counts.size() && i < max; ++i) {
    Dl_info info{};
    char const* name = dladdr(reinterpret_cast<void*>(counts[i].pc), &info) && info.dli_sname ? info.dli_sname : "?";
    out << "\n  " << counts[i].samples << " under " << (counts[i].label ? counts[i].label : "(none)") << " at 0x"
        << std::hex << counts[i].pc << std::dec << " (" << name << ")";
  }
  return out.str();
}

// ---------------------------------------------------------------- SIGPROF, seen from outside

// A SIGPROF handler of the test's, installed for the scope's lifetime (and
// the disposition it replaced put back after): it counts the SIGPROFs that
// reach the process while it is installed. Installed before start(), it is
// the disposition stop() must put back, and any SIGPROF after stop() lands
// here.
class sigprof_counter {
public:
  sigprof_counter()
  {
    received().store(0);
    struct sigaction action {};
    action.sa_sigaction = &on_signal;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(SIGPROF, &action, &previous_);
  }
  sigprof_counter(sigprof_counter const&) = delete;
  sigprof_counter& operator=(sigprof_counter const&) = delete;
  ~sigprof_counter() { sigaction(SIGPROF, &previous_, nullptr); }

  static std::atomic<int>& received()
  {
    static std::atomic<int> n{0};
    return n;
  }

  // Whether SIGPROF's disposition is this counter now.
  static bool installed()
  {
    struct sigaction now {};
    sigaction(SIGPROF, nullptr, &now);
    return (now.sa_flags & SA_SIGINFO) && now.sa_sigaction == &on_signal;
  }

private:
  static void on_signal(int, siginfo_t*, void*) { received().fetch_add(1, std::memory_order_relaxed); }
  struct sigaction previous_ {};
};

// Whether SIGPROF's disposition is a handler (not SIG_DFL or SIG_IGN) other
// than the test's counter.
inline bool someone_else_handles_sigprof()
{
  struct sigaction now {};
  sigaction(SIGPROF, nullptr, &now);
  if (now.sa_flags & SA_SIGINFO) return !sigprof_counter::installed();
  return now.sa_handler != SIG_DFL && now.sa_handler != SIG_IGN;
}

// One POSIX timer of the process, as /proc/self/timers lists it.
struct posix_timer {
  int signal = 0;
  std::string notify;   // "signal/tid.1234": SIGEV_THREAD_ID to thread 1234; "signal/pid.1234": the process
  long long clock = 0;  // the clock id: a CPU clock is negative, its low three bits 6 for a
                        // thread's (scheduler) CPU clock, 2 for the process's
  pid_t notified_thread() const
  {
    auto const at = notify.find("tid.");
    return at == std::string::npos ? 0 : static_cast<pid_t>(std::stol(notify.substr(at + 4)));
  }
  bool on_a_thread_cpu_clock() const { return clock < 0 && (clock & 7) == 6; }
  std::string describe() const
  {
    return "signal " + std::to_string(signal) + ", notify " + notify + ", clock " + std::to_string(clock);
  }
};

// The process's POSIX timers that send SIGPROF.
inline std::vector<posix_timer> sigprof_timers()
{
  std::vector<posix_timer> all;
  std::ifstream in("/proc/self/timers");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("ID:", 0) == 0) all.emplace_back();
    else if (all.empty()) continue;
    else if (line.rfind("signal:", 0) == 0) all.back().signal = std::atoi(line.c_str() + 7);
    else if (line.rfind("notify:", 0) == 0) all.back().notify = line.substr(line.find_first_not_of(' ', 7));
    else if (line.rfind("ClockID:", 0) == 0) all.back().clock = std::atoll(line.c_str() + 8);
  }
  std::vector<posix_timer> prof;
  for (auto const& t : all)
    if (t.signal == SIGPROF) prof.push_back(t);
  return prof;
}

// ---------------------------------------------------------------- a child process

// What a child process reports to the test through shared memory.
struct child_report {
  std::atomic<std::uint64_t> progress{0};  // bumped by the child as it goes
  std::atomic<std::uint64_t> values[8] = {};
  char message[512] = {};

  void say(std::string_view text)
  {
    auto const n = std::min(text.size(), sizeof message - 1);
    std::memcpy(message, text.data(), n);
    message[n] = '\0';
  }
};

struct child_outcome {
  bool exited = false;     // ended by itself ...
  int exit_code = -1;      // ... with this code
  int signal = 0;          // killed by this signal (by itself, not by the test)
  bool stuck = false;      // made no progress for `stall`, and the test killed it
  milliseconds ran{};
  std::uint64_t progress = 0;
  std::uint64_t values[8] = {};
  std::string message;
};

// Runs `body` in a child process (fork; the child runs only the calling
// thread) and waits for it; its return value is the child's exit code. A
// child whose report shows no progress for `stall` is killed and reported
// stuck: a thread stuck in a signal handler cannot be freed inside a
// process, but a process can be ended from outside.
inline child_outcome run_in_child(std::function<int(child_report&)> const& body, milliseconds stall = 2s,
                                  milliseconds limit = 20s)
{
  void* shared = mmap(nullptr, sizeof(child_report), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) throw std::runtime_error("mmap failed");
  auto* report = new (shared) child_report();
  child_outcome out;
  auto const started = clock_type::now();
  pid_t const pid = fork();
  if (pid == 0) {
    int code = 3;
    try {
      code = body(*report);
    } catch (std::exception const& e) {
      report->say(std::string("the child threw: ") + e.what());
    } catch (...) {
      report->say("the child threw");
    }
    _exit(code);
  }
  if (pid < 0) {
    munmap(shared, sizeof(child_report));
    throw std::runtime_error("fork failed");
  }
  auto last_progress = report->progress.load();
  auto last_change = clock_type::now();
  int status = 0;
  for (;;) {
    pid_t const r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    auto const now = clock_type::now();
    if (auto const p = report->progress.load(); p != last_progress) {
      last_progress = p;
      last_change = now;
    } else if (now - last_change > stall || now - started > limit) {
      out.stuck = true;
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(2ms);
  }
  out.ran = std::chrono::duration_cast<milliseconds>(clock_type::now() - started);
  if (!out.stuck) {
    if (WIFEXITED(status)) {
      out.exited = true;
      out.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      out.signal = WTERMSIG(status);
    }
  }
  out.progress = report->progress.load();
  for (int i = 0; i < 8; ++i) out.values[i] = report->values[i].load();
  out.message = report->message;
  report->~child_report();
  munmap(shared, sizeof(child_report));
  return out;
}

inline std::string describe(child_outcome const& o)
{
  std::string s;
  if (o.stuck) s = "the child made no progress (its count stood at " + std::to_string(o.progress) + ") and was killed after " + std::to_string(o.ran.count()) + " ms";
  else if (o.exited) s = "the child exited with code " + std::to_string(o.exit_code) + " after " + std::to_string(o.ran.count()) + " ms";
  else s = "the child was killed by signal " + std::to_string(o.signal) + " (" + strsignal(o.signal) + ")";
  if (!o.message.empty()) s += ": " + o.message;
  return s;
}

// ---------------------------------------------------------------- the hash

// Rounds of hash_chain that take about `cpu` of this thread's CPU time in
// this build (optimized, debug or sanitized): measured, not guessed.
inline std::uint64_t rounds_for(milliseconds cpu)
{
  task16::hash_chain chain;
  auto const start = thread_cpu();
  std::uint64_t rounds = 0;
  while (thread_cpu() - start < 20ms) {
    chain.run(200);
    rounds += 200;
  }
  double const per_ms = static_cast<double>(rounds) / ms_of(thread_cpu() - start);
  return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(per_ms * static_cast<double>(cpu.count())));
}

inline std::string digest_after(std::uint64_t rounds)
{
  task16::hash_chain chain;
  chain.run(rounds);
  return chain.hex();
}

// ---------------------------------------------------------------- the text table

// format_profile's text, parsed; `problem` says what does not follow the
// format ("" when all of it does).
struct parsed_table {
  struct function {
    std::uint64_t samples = 0;
    std::string share;  // "95.5%"
    std::string name;
  };
  struct label {
    std::string name;  // as printed: "(none)" for no label
    std::uint64_t samples = 0;
    std::vector<function> functions;
  };
  std::uint64_t samples = 0;
  std::uint64_t dropped = 0;
  std::vector<label> labels;
  std::string problem;

  label const* find(std::string_view name) const
  {
    for (auto const& l : labels)
      if (l.name == name) return &l;
    return nullptr;
  }
};

inline parsed_table parse_table(std::string const& text)
{
  parsed_table t;
  auto fail = [&](std::string what) {
    if (t.problem.empty()) t.problem = std::move(what);
  };
  if (text.empty()) {
    t.problem = "the table is empty";
    return t;
  }
  if (text.back() != '\n') fail("the last line does not end with \\n");
  std::istringstream in(text);
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    if (first) {
      first = false;
      unsigned long long s = 0, d = 0;
      char rest[2] = {};
      if (std::sscanf(line.c_str(), "profile: %llu samples, %llu dropped%1s", &s, &d, rest) != 2)
        fail("the first line is \"" + line + "\", not \"profile: <n> samples, <n> dropped\"");
      t.samples = s;
      t.dropped = d;
      continue;
    }
    if (line.rfind("label ", 0) == 0) {
      auto const colon = line.rfind(": ");
      unsigned long long n = 0;
      char rest[2] = {};
      if (colon == std::string::npos || std::sscanf(line.c_str() + colon, ": %llu samples%1s", &n, rest) != 1) {
        fail("a label line is \"" + line + "\", not \"label <label>: <n> samples\"");
        continue;
      }
      t.labels.push_back({line.substr(6, colon - 6), n, {}});
      continue;
    }
    if (line.rfind("  ", 0) == 0 && !t.labels.empty()) {
      std::istringstream fields(line.substr(2));
      parsed_table::function f;
      fields >> f.samples >> f.share;
      std::getline(fields, f.name);
      if (!f.name.empty() && f.name.front() == ' ') f.name.erase(0, 1);
      if (!fields.eof() && fields.fail()) fail("a function line is \"" + line + "\"");
      if (f.share.empty() || f.share.back() != '%' || f.share.find('.') == std::string::npos || f.name.empty())
        fail("a function line is \"" + line + "\", not \"  <n> <share with one decimal>% <name>\"");
      t.labels.back().functions.push_back(std::move(f));
      continue;
    }
    fail("a line is \"" + line + "\", which is none of the table's lines");
  }
  return t;
}

} // namespace task16_test
