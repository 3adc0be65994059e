// Task 16 · the reference: a sampling CPU profiler with labels.
//
// Each sampled thread has a POSIX timer on its own CPU-time clock that sends
// that thread SIGPROF; the handler counts (label, pc) pairs into a fixed
// table of atomics; labels are a thread_local set by label_scope and carried
// to every continuation by bind_label; the table is read, symbolized and
// served as text on a loopback-only listener. WHY.md says why each piece is
// the way it is.
#include "profiler.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cxxabi.h>
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>
#include <tuple>
#include <utility>

namespace task16 {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

// ---------------------------------------------------------------- labels

namespace {

// The calling thread's label. The SIGPROF handler reads it on the same
// thread, at any instruction: a lock-free atomic is a plain load and store,
// which a handler may touch, and it is never torn (a pointer, one word;
// a std::string_view would be two). Constant-initialized, so reading it
// from the handler runs no thread_local initialization either.
thread_local std::atomic<char const*> thread_label{nullptr};
static_assert(std::atomic<char const*>::is_always_lock_free);

void set_thread_label(char const* label) noexcept
{
  // The handler runs on this very thread: what it must see is the order of
  // this thread's own instructions, which the compiler alone could change.
  // A signal fence keeps the store where it is; no CPU fence is needed.
  std::atomic_signal_fence(std::memory_order_seq_cst);
  thread_label.store(label, std::memory_order_relaxed);
  std::atomic_signal_fence(std::memory_order_seq_cst);
}

} // namespace

label_scope::label_scope(char const* label) noexcept : previous_(thread_label.load(std::memory_order_relaxed))
{
  set_thread_label(label);
}

label_scope::~label_scope() { set_thread_label(previous_); }

char const* current_label() noexcept { return thread_label.load(std::memory_order_relaxed); }

namespace {

// What bind_label returns: the handler and its label, the label set around
// the call. Everything Asio associates with a handler is the wrapped
// handler's (the associator below), as bind_executor and friends do.
struct labeled_handler {
  char const* label;
  net::any_completion_handler<void()> handler;

  void operator()()
  {
    label_scope scope(label);
    std::move(handler)();
  }
};

} // namespace
} // namespace task16

// Asio asks a handler for its executor, allocator and cancellation slot
// through these traits (associated_executor and the others); associator is
// the one specialization that answers all of them, here by asking the
// wrapped handler with the same candidate. `type` is not optional:
// associated_executor_impl only uses an associator that has one, and
// without it the wrapper would quietly have the candidate's executor (a
// strand-bound handler would leave its strand).
template <template <typename, typename> class Associator, typename DefaultCandidate>
struct boost::asio::associator<Associator, task16::labeled_handler, DefaultCandidate> {
  using inner = Associator<boost::asio::any_completion_handler<void()>, DefaultCandidate>;
  using type = typename inner::type;

  static type get(task16::labeled_handler const& h) noexcept { return inner::get(h.handler); }

  static auto get(task16::labeled_handler const& h, DefaultCandidate const& c) noexcept
      -> decltype(inner::get(h.handler, c))
  {
    return inner::get(h.handler, c);
  }
};

namespace task16 {

net::any_completion_handler<void()> bind_label(char const* label, net::any_completion_handler<void()> handler)
{
  return labeled_handler{label, std::move(handler)};
}

// ---------------------------------------------------------------- the table of counts

namespace {

enum : std::uint32_t { entry_empty = 0, entry_claimed = 1, entry_ready = 2 };

// One (label, pc) pair and its count. The key is written once, by the
// handler that claims the entry, and published by `ready` (release): a
// reader that has seen `ready` (acquire) reads the key whole. The key's
// fields are atomics too, relaxed, so that even a snapshot() racing a
// start() that clears the table reads stale values, never torn ones.
struct entry {
  std::atomic<std::uint32_t> state{entry_empty};
  std::atomic<std::uintptr_t> pc{0};
  std::atomic<char const*> label{nullptr};
  std::atomic<std::uint64_t> samples{0};
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

// Open addressing with linear probing, in memory allocated once, when the
// profiler is made: the handler only ever reads and writes atomics in it.
class count_table {
public:
  explicit count_table(std::size_t slots) : entries_(std::make_unique<entry[]>(slots)), size_(slots) {}

  // Called from the signal handler: async-signal-safe, lock-free, bounded
  // (at most one pass over the table), and it never allocates.
  void count(char const* label, std::uintptr_t pc, std::uint64_t weight) noexcept
  {
    std::size_t i = index(label, pc);
    for (std::size_t probes = 0; probes < size_; ++probes) {
      entry& e = entries_[i];
      std::uint32_t s = e.state.load(std::memory_order_acquire);
      if (s == entry_empty &&
          e.state.compare_exchange_strong(s, entry_claimed, std::memory_order_acquire, std::memory_order_acquire)) {
        e.pc.store(pc, std::memory_order_relaxed);
        e.label.store(label, std::memory_order_relaxed);
        e.state.store(entry_ready, std::memory_order_release);
        e.samples.fetch_add(weight, std::memory_order_relaxed);
        return;
      }
      // `s` is now what the entry holds: ours, another pair's, or an entry
      // a handler on another thread is claiming this very moment (its key
      // not written yet). Waiting for that one could wait on a thread that
      // is not running; go on instead (the pair may then get a second entry:
      // snapshot() adds the two up).
      if (s == entry_ready && e.pc.load(std::memory_order_relaxed) == pc &&
          e.label.load(std::memory_order_relaxed) == label) {
        e.samples.fetch_add(weight, std::memory_order_relaxed);
        return;
      }
      if (++i == size_) i = 0;
    }
    dropped_.fetch_add(weight, std::memory_order_relaxed);
  }

  // Only while no handler can count (the profiler is not running, and
  // stop() has waited for the last handler).
  void clear() noexcept
  {
    for (std::size_t i = 0; i < size_; ++i) {
      entries_[i].samples.store(0, std::memory_order_relaxed);
      entries_[i].state.store(entry_empty, std::memory_order_relaxed);
    }
    dropped_.store(0, std::memory_order_relaxed);
  }

  profile read() const
  {
    profile p;
    for (std::size_t i = 0; i < size_; ++i) {
      entry const& e = entries_[i];
      if (e.state.load(std::memory_order_acquire) != entry_ready) continue;
      if (auto const n = e.samples.load(std::memory_order_relaxed); n > 0)
        p.counts.push_back({e.label.load(std::memory_order_relaxed), e.pc.load(std::memory_order_relaxed), n});
    }
    p.dropped = dropped_.load(std::memory_order_relaxed);
    // One entry per pair: add up a pair that two racing handlers gave two entries.
    std::sort(p.counts.begin(), p.counts.end(), [](pc_samples const& a, pc_samples const& b) {
      return std::tie(a.label, a.pc) < std::tie(b.label, b.pc);
    });
    std::vector<pc_samples> merged;
    for (auto const& c : p.counts) {
      if (!merged.empty() && merged.back().label == c.label && merged.back().pc == c.pc) merged.back().samples += c.samples;
      else merged.push_back(c);
    }
    p.counts = std::move(merged);
    return p;
  }

private:
  std::size_t index(char const* label, std::uintptr_t pc) const noexcept
  {
    std::uint64_t h = static_cast<std::uint64_t>(pc) * 0x9e3779b97f4a7c15u;
    h ^= reinterpret_cast<std::uintptr_t>(label) * 0xc2b2ae3d27d4eb4fu;
    h ^= h >> 29;
    return static_cast<std::size_t>(h % size_);
  }

  std::unique_ptr<entry[]> entries_;
  std::size_t size_;
  std::atomic<std::uint64_t> dropped_{0};
};

// ---------------------------------------------------------------- the signal handler

// The running profiler's table, for the handler (nullptr: none runs), and
// how many handlers are between their first and last instruction, for
// stop(), which must not let the table be cleared under one.
std::atomic<count_table*> active_table{nullptr};
std::atomic<int> handlers_inside{0};

std::uintptr_t interrupted_pc(void const* context) noexcept
{
  auto const* uc = static_cast<ucontext_t const*>(context);
#if defined(__x86_64__)
  return static_cast<std::uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]);
#elif defined(__aarch64__)
  return static_cast<std::uintptr_t>(uc->uc_mcontext.pc);
#else
#error "interrupted_pc: read the program counter from ucontext_t on this architecture"
#endif
}

// Async-signal-safe: atomics only, no allocation, no lock, no call into the
// C library; errno as it was.
void on_sigprof(int, siginfo_t* info, void* context)
{
  int const saved_errno = errno;
  handlers_inside.fetch_add(1, std::memory_order_seq_cst);
  if (count_table* table = active_table.load(std::memory_order_seq_cst)) {
    // The kernel checks CPU timers at its tick (250 Hz on Debian), so at a
    // higher rate one signal stands for several expiries: si_overrun says
    // how many more. Counting them keeps the counts proportional to CPU time.
    std::uint64_t weight = 1;
    if (info->si_code == SI_TIMER && info->si_overrun > 0) weight += static_cast<std::uint64_t>(info->si_overrun);
    table->count(thread_label.load(std::memory_order_relaxed), interrupted_pc(context), weight);
  }
  handlers_inside.fetch_sub(1, std::memory_order_seq_cst);
  errno = saved_errno;
}

} // namespace

// ---------------------------------------------------------------- the profiler

struct sampled_thread::state {
  std::shared_ptr<profiler::state> owner;
  pid_t tid = 0;
  pthread_t thread{};
  std::optional<timer_t> timer;  // while the profiler runs
};

struct profiler::state {
  explicit state(profiler_options o) : options(o), counts(o.slots) {}

  profiler_options options;
  count_table counts;

  // Guards what follows. The signal handler never takes it: it is taken by
  // start(), stop() and the threads that begin or end being sampled.
  std::mutex mutex;
  bool running = false;
  struct sigaction previous {};                // the disposition start() replaced
  std::vector<sampled_thread::state*> threads;  // the threads sampled now
};

namespace {

// The one profiler that runs.
std::atomic<profiler::state*> running_profiler{nullptr};

// A timer on `t`'s own CPU-time clock that sends SIGPROF to `t` alone.
// pthread_getcpuclockid names the clock of that thread, whichever thread
// asks: CLOCK_THREAD_CPUTIME_ID would be the clock of the thread that calls
// timer_create, which is start()'s caller for the threads already sampled.
void arm(sampled_thread::state& t, unsigned hz)
{
  clockid_t clock{};
  if (int const err = pthread_getcpuclockid(t.thread, &clock); err != 0)
    throw std::system_error(err, std::generic_category(), "pthread_getcpuclockid");
  sigevent ev{};
  ev.sigev_notify = SIGEV_THREAD_ID;
  ev.sigev_signo = SIGPROF;
  ev._sigev_un._tid = t.tid;  // sigev_notify_thread_id, which glibc 2.36 does not name
  timer_t id{};
  if (timer_create(clock, &ev, &id) != 0) throw std::system_error(errno, std::generic_category(), "timer_create");
  long const period_ns = 1'000'000'000L / static_cast<long>(hz);
  itimerspec spec{};
  spec.it_interval.tv_sec = period_ns / 1'000'000'000L;
  spec.it_interval.tv_nsec = period_ns % 1'000'000'000L;
  spec.it_value = spec.it_interval;
  if (timer_settime(id, 0, &spec, nullptr) != 0) {
    int const err = errno;
    timer_delete(id);
    throw std::system_error(err, std::generic_category(), "timer_settime");
  }
  t.timer = id;
}

void disarm(sampled_thread::state& t) noexcept
{
  if (t.timer) timer_delete(*t.timer);
  t.timer.reset();
}

// With s.mutex held.
void stop_running(profiler::state& s) noexcept
{
  if (!s.running) return;
  // From here on a handler counts nothing ...
  active_table.store(nullptr, std::memory_order_seq_cst);
  // ... and no timer expires any more.
  for (auto* t : s.threads) disarm(*t);
  // A SIGPROF sent before its timer was deleted may still be pending on a
  // thread that has not run since. Ignoring the signal discards every
  // pending one, on every thread (POSIX; Linux's do_sigaction flushes
  // them), so that the disposition put back below (often SIG_DFL, which
  // terminates the process) never meets one of ours.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGPROF, &ignore, nullptr);
  // A handler that read the table before it was withdrawn may still be
  // counting into it: wait until it is out, so that start() can clear the
  // table and the profiler can be destroyed. Handlers never wait, so this
  // is short; on this very thread one would run to its end before we got here.
  while (handlers_inside.load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
  sigaction(SIGPROF, &s.previous, nullptr);
  s.running = false;
  running_profiler.store(nullptr, std::memory_order_seq_cst);
}

} // namespace

profiler::profiler(profiler_options options)
{
  if (options.hz < 1 || options.hz > 10000) throw std::invalid_argument("profiler_options::hz must be 1 to 10000");
  if (options.slots < 1 || options.slots > 65536) throw std::invalid_argument("profiler_options::slots must be 1 to 65536");
  state_ = std::make_shared<state>(options);
}

profiler::~profiler() { stop(); }

void profiler::start()
{
  std::lock_guard lock(state_->mutex);
  state* none = nullptr;
  if (!running_profiler.compare_exchange_strong(none, state_.get()))
    throw std::logic_error("a profiler is running already: stop it first");
  state_->counts.clear();

  // The handler first, then the table, then the timers: a timer must never
  // fire into SIGPROF's default disposition, which terminates the process.
  struct sigaction action {};
  action.sa_sigaction = on_sigprof;
  action.sa_flags = SA_SIGINFO | SA_RESTART;  // interrupted system calls resume where they can
  sigemptyset(&action.sa_mask);
  if (sigaction(SIGPROF, &action, &state_->previous) != 0) {
    int const err = errno;
    running_profiler.store(nullptr);
    throw std::system_error(err, std::generic_category(), "sigaction(SIGPROF)");
  }
  active_table.store(&state_->counts, std::memory_order_seq_cst);
  state_->running = true;
  try {
    for (auto* t : state_->threads) arm(*t, state_->options.hz);
  } catch (...) {
    stop_running(*state_);
    throw;
  }
}

void profiler::stop()
{
  std::lock_guard lock(state_->mutex);
  stop_running(*state_);
}

bool profiler::running() const
{
  std::lock_guard lock(state_->mutex);
  return state_->running;
}

// No lock: the handler may interrupt this very call, and it must find
// nothing held (the table is atomics, read as they are).
profile profiler::snapshot() const { return state_->counts.read(); }

sampled_thread::sampled_thread(profiler& p) : state_(std::make_shared<state>())
{
  state_->owner = p.state_;
  state_->tid = gettid();
  state_->thread = pthread_self();
  auto& owner = *state_->owner;
  std::lock_guard lock(owner.mutex);
  owner.threads.push_back(state_.get());
  if (owner.running) {
    try {
      arm(*state_, owner.options.hz);
    } catch (...) {
      owner.threads.pop_back();
      throw;
    }
  }
}

sampled_thread::~sampled_thread()
{
  auto& owner = *state_->owner;
  std::lock_guard lock(owner.mutex);
  disarm(*state_);
  std::erase(owner.threads, state_.get());
}

// ---------------------------------------------------------------- reading a profile

namespace {

// The function that holds `pc`: its symbol (the executable's own functions
// are in the dynamic symbol table because it is linked with
// --export-dynamic), demangled.
std::string function_name(std::uintptr_t pc)
{
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(pc), &info) != 0 && info.dli_sname != nullptr) {
    int status = 0;
    std::unique_ptr<char, decltype(&std::free)> const demangled(
        abi::__cxa_demangle(info.dli_sname, nullptr, nullptr, &status), &std::free);
    return status == 0 && demangled ? std::string(demangled.get()) : std::string(info.dli_sname);
  }
  char text[2 + 2 * sizeof(std::uintptr_t) + 1];
  std::snprintf(text, sizeof text, "0x%jx", static_cast<std::uintmax_t>(pc));
  return text;
}

// The samples counted between two snapshots of one run.
profile since(profile const& later, profile const& earlier)
{
  std::map<std::pair<char const*, std::uintptr_t>, std::uint64_t> before;
  for (auto const& c : earlier.counts) before[{c.label, c.pc}] = c.samples;
  profile p;
  for (auto const& c : later.counts) {
    auto const it = before.find({c.label, c.pc});
    std::uint64_t const old = it == before.end() ? 0 : it->second;
    if (c.samples > old) p.counts.push_back({c.label, c.pc, c.samples - old});
  }
  p.dropped = later.dropped > earlier.dropped ? later.dropped - earlier.dropped : 0;
  return p;
}

} // namespace

std::vector<label_samples> summarize(profile const& p)
{
  // label text -> function -> samples; names looked up once per pc.
  std::map<std::string, std::map<std::string, std::uint64_t>> by_label;
  std::map<std::uintptr_t, std::string> names;
  for (auto const& c : p.counts) {
    auto it = names.find(c.pc);
    if (it == names.end()) it = names.emplace(c.pc, function_name(c.pc)).first;
    by_label[c.label ? c.label : ""][it->second] += c.samples;
  }

  std::vector<label_samples> out;
  for (auto& [label, functions] : by_label) {
    label_samples l;
    l.label = label;
    for (auto& [name, samples] : functions) {
      l.samples += samples;
      l.functions.push_back({name, samples});
    }
    std::sort(l.functions.begin(), l.functions.end(), [](function_samples const& a, function_samples const& b) {
      return a.samples != b.samples ? a.samples > b.samples : a.name < b.name;
    });
    out.push_back(std::move(l));
  }
  std::sort(out.begin(), out.end(), [](label_samples const& a, label_samples const& b) {
    return a.samples != b.samples ? a.samples > b.samples : a.label < b.label;
  });
  return out;
}

std::string format_profile(profile const& p, std::size_t top)
{
  std::string out = "profile: " + std::to_string(p.samples()) + " samples, " + std::to_string(p.dropped) + " dropped\n";
  for (auto const& l : summarize(p)) {
    out += "label " + (l.label.empty() ? std::string("(none)") : l.label) + ": " + std::to_string(l.samples) + " samples\n";
    for (std::size_t i = 0; i < l.functions.size() && i < top; ++i) {
      auto const& f = l.functions[i];
      char share[32];
      std::snprintf(share, sizeof share, "%.1f%%", l.samples ? 100.0 * static_cast<double>(f.samples) / static_cast<double>(l.samples) : 0.0);
      out += "  " + std::to_string(f.samples) + " " + share + " " + f.name + "\n";
    }
  }
  return out;
}

// ---------------------------------------------------------------- the debug endpoint

struct debug_server::state {
  state(net::io_context& c, tcp::endpoint e, profiler& p) : ioc(c), endpoint(e), prof(p), acceptor(net::make_strand(c)) {}
  net::io_context& ioc;
  tcp::endpoint endpoint;
  profiler& prof;
  tcp::acceptor acceptor;
};

namespace {

inline constexpr std::string_view profile_path = "/debug/profile";
inline constexpr std::uint64_t max_window_ms = 60000;

// What a request asks for: the whole profile (window 0), a window of N ms,
// or nothing we serve.
struct profile_request {
  http::status refusal = http::status::ok;
  std::uint64_t window_ms = 0;
};

profile_request parse_target(std::string_view target)
{
  auto const question = target.find('?');
  if (target.substr(0, question) != profile_path) return {http::status::not_found};
  if (question == std::string_view::npos) return {};
  std::string_view query = target.substr(question + 1);
  profile_request r;
  while (!query.empty()) {
    auto const amp = query.find('&');
    std::string_view const param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (param.substr(0, 3) != "ms=") continue;  // other parameters are ignored
    std::string_view const value = param.substr(3);
    std::uint64_t ms = 0;
    auto const [end, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
    if (ec != std::errc() || end != value.data() + value.size() || ms < 1 || ms > max_window_ms)
      return {http::status::bad_request};
    r.window_ms = ms;
  }
  return r;
}

class debug_session : public std::enable_shared_from_this<debug_session> {
public:
  debug_session(tcp::socket socket, profiler& p)
      : stream_(std::move(socket)), prof_(p), window_(stream_.get_executor())
  {
  }

  void read()
  {
    request_ = {};
    stream_.expires_after(std::chrono::seconds(30));
    http::async_read(stream_, buffer_, request_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec) self->on_request();
    });
  }

private:
  void on_request()
  {
    if (request_.method() != http::verb::get) return answer(http::status::not_found, "not found\n");
    auto const asked = parse_target(request_.target());
    if (asked.refusal == http::status::not_found) return answer(asked.refusal, "not found\n");
    if (asked.refusal != http::status::ok) return answer(asked.refusal, "ms must be a whole number from 1 to 60000\n");
    if (asked.window_ms == 0) return answer(http::status::ok, format_profile(prof_.snapshot()));

    // A window: the counts now, and again when the timer expires. The wait
    // is a timer, so this thread goes on serving others meanwhile (Go's
    // handler sleeps in its own goroutine; a sleep here would hold an io
    // thread for N ms).
    stream_.expires_never();
    window_.expires_after(std::chrono::milliseconds(asked.window_ms));
    window_.async_wait([self = shared_from_this(), before = prof_.snapshot()](beast::error_code ec) {
      if (ec) return;
      self->answer(http::status::ok, format_profile(since(self->prof_.snapshot(), before)));
    });
  }

  void answer(http::status status, std::string body)
  {
    response_ = {status, request_.version()};
    response_.set(http::field::content_type, "text/plain; charset=utf-8");
    response_.keep_alive(request_.keep_alive());
    response_.body() = std::move(body);
    response_.prepare_payload();
    stream_.expires_after(std::chrono::seconds(30));
    http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec || !self->response_.keep_alive()) {
        beast::error_code ignored;
        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        return;
      }
      self->read();
    });
  }

  beast::tcp_stream stream_;
  profiler& prof_;
  net::steady_timer window_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
};

void accept_profile_requests(std::shared_ptr<debug_server::state> s)
{
  auto& acceptor = s->acceptor;
  acceptor.async_accept(net::make_strand(s->ioc), [s = std::move(s)](beast::error_code ec, tcp::socket socket) {
    if (ec) return;  // closed, or the io_context stopped
    std::make_shared<debug_session>(std::move(socket), s->prof)->read();
    accept_profile_requests(s);
  });
}

} // namespace

debug_server::debug_server(net::io_context& ioc, tcp::endpoint listen_on, profiler& p)
{
  // Checked before anything is opened: 0.0.0.0 or :: would serve the
  // profile to every network the machine is on, and a LAN address to one.
  if (!listen_on.address().is_loopback())
    throw std::invalid_argument("the debug endpoint listens on loopback only (127.0.0.0/8 or ::1), not on " +
                                listen_on.address().to_string());
  state_ = std::make_shared<state>(ioc, listen_on, p);
}

debug_server::~debug_server() = default;

void debug_server::start()
{
  auto& a = state_->acceptor;
  a.open(state_->endpoint.protocol());
  a.set_option(net::socket_base::reuse_address(true));
  a.bind(state_->endpoint);
  a.listen(net::socket_base::max_listen_connections);
  accept_profile_requests(state_);
}

tcp::endpoint debug_server::local_endpoint() const { return state_->acceptor.local_endpoint(); }

// ---------------------------------------------------------------- the /hash endpoint

namespace {

// One /hash request's work, shared by its slices: each slice is a handler
// of its own, and each posts the next, labeled.
struct hash_job : std::enable_shared_from_this<hash_job> {
  hash_job(net::any_io_executor e, std::uint64_t r, std::function<void(std::string)> done)
      : ex(std::move(e)), remaining(r), respond(std::move(done))
  {
  }

  // The label goes with the handler, not with this thread: the slice runs
  // later, on whichever thread runs the io_context then, and bind_label
  // sets the label there, around the slice, and takes it off after.
  void post_next_slice()
  {
    net::post(ex, bind_label(hash_label, [self = shared_from_this()] { self->slice(); }));
  }

  void slice()
  {
    std::uint64_t const n = std::min(remaining, hash_slice_rounds);
    chain.run(n);
    remaining -= n;
    if (remaining > 0) return post_next_slice();
    respond(chain.hex());
  }

  net::any_io_executor ex;
  hash_chain chain;
  std::uint64_t remaining;
  std::function<void(std::string)> respond;
};

} // namespace

void handle_hash(net::any_io_executor ex, std::uint64_t rounds, std::function<void(std::string digest)> respond)
{
  // pprof.Do's scope: the handler's own part runs under the label (here it
  // only sets up the job), and the slices carry it on.
  label_scope scope(hash_label);
  auto job = std::make_shared<hash_job>(std::move(ex), rounds, std::move(respond));
  if (rounds == 0) return job->respond(job->chain.hex());
  job->post_next_slice();
}

} // namespace task16
