// Task 16 · your profiler. Start with README.md; the steps there match the
// TODOs here. Run `grader task-16` after each step.
//
// As it stands it compiles and runs, and fails every criterion: labels are
// never set, the profiler never samples, the profile is empty, the debug
// endpoint never listens, and /hash does all its work in one go, unlabeled.
#include "profiler.hpp"

#include <boost/asio/post.hpp>

#include <stdexcept>
#include <string>
#include <utility>

namespace task16 {

// ---------------------------------------------------------------- labels

// TODO (step 2): the calling thread's label, somewhere the SIGPROF handler
// can read it at any instruction of this thread. What may a signal handler
// read, and what could it catch half-written? What must the compiler not
// move across the store?

label_scope::label_scope(char const* label) noexcept : previous_(nullptr)
{
  (void)label;  // TODO (step 2): remember the label the thread had, set this one.
}

label_scope::~label_scope()
{
  // TODO (step 2): put back what the thread had before.
  (void)previous_;
}

char const* current_label() noexcept
{
  return nullptr;  // TODO (step 2)
}

net::any_completion_handler<void()> bind_label(char const* label, net::any_completion_handler<void()> handler)
{
  // TODO (step 3): a handler of your own that holds `label` and `handler`
  // and runs `handler` under the label when it is called. Then make Asio
  // see the wrapped handler's executor, allocator and cancellation slot
  // through yours: how does bind_executor's binder do it
  // (boost/asio/bind_executor.hpp, the associator specialization at the end)?
  (void)label;
  return handler;
}

// ---------------------------------------------------------------- the profiler

// TODO (step 5): the table of counts: fixed size, allocated before any
// signal can arrive, entries the handler claims and counts into with
// atomics alone, and a count of the samples it had no room for.

// TODO (step 5): the SIGPROF handler. The program counter from the
// ucontext_t, the label from the thread, the sample's weight from the
// siginfo_t. What may it call? What must it leave as it found it?

struct profiler::state {
  profiler_options options;
  // TODO (step 5): what start(), stop(), snapshot() and the sampled threads share.
};

struct sampled_thread::state {
  // TODO (step 5): what the profiler needs to arm a timer for this thread.
};

profiler::profiler(profiler_options options) : state_(std::make_shared<state>(state{options})) {}

profiler::~profiler() { stop(); }

void profiler::start()
{
  // TODO (step 5): one profiler at a time; the handler installed (and the
  // disposition it replaces kept); a timer for every sampled thread, on
  // that thread's CPU clock, aimed at that thread. In which order, so that
  // no timer ever fires into SIGPROF's default disposition?
}

void profiler::stop()
{
  // TODO (step 5): no more timers, no SIGPROF of ours left pending, the old
  // disposition back, and no handler still counting when this returns.
}

bool profiler::running() const
{
  return false;  // TODO (step 5)
}

profile profiler::snapshot() const
{
  return {};  // TODO (step 6): read the table. A SIGPROF may interrupt this very call.
}

sampled_thread::sampled_thread(profiler& p) : state_(std::make_shared<state>())
{
  (void)p;  // TODO (step 5): register this thread; if the profiler runs, arm its timer now.
}

sampled_thread::~sampled_thread()
{
  // TODO (step 5): its timer deleted, the thread forgotten.
}

// ---------------------------------------------------------------- reading a profile

std::vector<label_samples> summarize(profile const& p)
{
  (void)p;  // TODO (step 6): name each pc (dladdr, abi::__cxa_demangle), add up by label and function, sort.
  return {};
}

std::string format_profile(profile const& p, std::size_t top)
{
  (void)p;  // TODO (step 6): the table, exactly as profiler.hpp shows it.
  (void)top;
  return {};
}

// ---------------------------------------------------------------- the debug endpoint

struct debug_server::state {
  net::io_context& ioc;
  net::ip::tcp::endpoint endpoint;
  profiler& prof;
  // TODO (step 7): the acceptor, and whatever else the sessions share.
};

debug_server::debug_server(net::io_context& ioc, net::ip::tcp::endpoint listen_on, profiler& p)
    : state_(std::make_shared<state>(state{ioc, listen_on, p}))
{
  // TODO (step 7): which addresses may it listen on? Refuse the others here,
  // before anything is opened.
}

debug_server::~debug_server() = default;

void debug_server::start()
{
  // TODO (step 7): open, bind, listen, accept in a loop; a session per
  // connection serving GET /debug/profile and GET /debug/profile?ms=N. How
  // does a window of N ms wait without holding the thread that runs it?
}

net::ip::tcp::endpoint debug_server::local_endpoint() const
{
  return state_->endpoint;  // TODO (step 7): once listening, the port the system chose.
}

// ---------------------------------------------------------------- the /hash endpoint

void handle_hash(net::any_io_executor ex, std::uint64_t rounds, std::function<void(std::string digest)> respond)
{
  // TODO (step 4): this does the right work the wrong way: all of it in one
  // handler (a long request holds its thread, and no other request is
  // served on it meanwhile), under no label. Cut it into slices of at most
  // hash_slice_rounds, each a handler of its own posted to `ex`, and make
  // every slice run under hash_label, wherever it runs.
  (void)ex;
  hash_chain chain;
  chain.run(rounds);
  respond(chain.hex());
}

} // namespace task16
