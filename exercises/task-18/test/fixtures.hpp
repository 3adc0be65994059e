// Task 18 · test helpers: a fake upstream that answers by target and can
// hold a call until the test releases it (so a probe stays in flight while
// a thousand other calls arrive), a clock that moves only when told to and
// can make the threads that read it meet, a log of the breaker's
// transitions, and calls made with the harness's start_call
// (workbook/round_trip_call.hpp), which waits for an answer a bounded time
// and notices a handler the breaker dropped without calling it.
//
// The fake upstream answers
//   /status/N    a response with status N at once (body "status N from the upstream")
//   /refused     the error connection_refused at once (a transport failure)
//   /hold...     nothing until release_all() or fail_all(), or until the
//                caller cancels (then operation_aborted, as a transport would)
#pragma once

#include "breaker.hpp"

#include <workbook/eventually.hpp>
#include <workbook/held_calls.hpp>
#include <workbook/io_threads.hpp>
#include <workbook/manual_clock.hpp>
#include <workbook/round_trip_call.hpp>
#include <workbook/round_tripper.hpp>
#include <workbook/transcript.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/append.hpp>
#include <boost/beast/http/status.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace task18_test {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;
using task18::breaker_state;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

inline asio::ip::tcp::endpoint local(unsigned short port) { return {asio::ip::make_address("127.0.0.1"), port}; }

inline workbook::client_request get(std::string const& target)
{
  workbook::client_request r;
  r.message = {http::verb::get, target, 11};
  r.message.set(http::field::host, "127.0.0.1");
  return r;
}

using workbook::describe;

inline bool refused_by_breaker(error_code ec) { return ec == task18::breaker_errc::open; }

// ---------------------------------------------------------------- the clock

// A manual clock for breaker_options::clock. gather(n, within) makes the
// next readings meet: each of them waits until n threads are reading the
// clock at once, or until `within` has passed since the first arrived.
// Reading a clock can take that long on a loaded machine (a preempted
// thread); here it does on purpose, so that a breaker that reads the clock
// between deciding "the period is over" and claiming the probe shows it.
class test_clock {
public:
  using time_point = task18::clock_type::time_point;

  time_point now()
  {
    readings_.fetch_add(1);
    std::unique_lock lock(mutex_);
    if (gathering_) {
      if (arrived_ == 0) window_end_ = std::chrono::steady_clock::now() + within_;
      ++arrived_;
      met_ = std::max(met_, arrived_);
      if (arrived_ < callers_) cv_.wait_until(lock, window_end_, [&] { return !gathering_; });
      gathering_ = false;  // the window closes for everyone as soon as it ends for one
      cv_.notify_all();
    }
    return clock_.now();
  }

  void advance(task18::clock_type::duration d) { clock_.advance(d); }

  void gather(int callers, milliseconds within)
  {
    std::lock_guard lock(mutex_);
    gathering_ = true;
    callers_ = callers;
    within_ = within;
    arrived_ = 0;
    met_ = 0;
  }
  // The most threads that were reading the clock at once during the last gather.
  int met() const
  {
    std::lock_guard lock(mutex_);
    return met_;
  }
  int readings() const { return readings_.load(); }

  // What breaker_options::clock is given.
  std::function<time_point()> function()
  {
    return [this] { return now(); };
  }

private:
  workbook::manual_clock clock_;
  std::atomic<int> readings_{0};
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool gathering_ = false;
  int callers_ = 0;
  int arrived_ = 0;
  int met_ = 0;
  milliseconds within_{};
  std::chrono::steady_clock::time_point window_end_{};
};

// ---------------------------------------------------------------- the transitions

class transitions {
public:
  struct entry {
    breaker_state from, to;
    std::optional<breaker_state> state_inside;  // what state() said inside the callback
  };

  std::function<void(breaker_state, breaker_state)> callback()
  {
    return [this](breaker_state from, breaker_state to) {
      std::optional<breaker_state> inside;
      if (auto const* b = watched_.load()) inside = b->state();
      std::lock_guard lock(mutex_);
      entries_.push_back({from, to, inside});
    };
  }
  // Lets the callback read b.state() each time it is called.
  void watch(task18::circuit_breaker const& b) { watched_.store(&b); }

  std::vector<entry> entries() const
  {
    std::lock_guard lock(mutex_);
    return entries_;
  }
  std::size_t size() const
  {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }
  // "closed→open, open→half_open", or "(none)".
  std::string text() const
  {
    std::string out;
    for (auto const& e : entries()) {
      if (!out.empty()) out += ", ";
      out += std::string(task18::to_string(e.from)) + "→" + task18::to_string(e.to);
    }
    return out.empty() ? "(none)" : out;
  }

private:
  mutable std::mutex mutex_;
  std::vector<entry> entries_;
  std::atomic<task18::circuit_breaker const*> watched_{nullptr};
};

inline std::string sequence_text(std::vector<std::pair<breaker_state, breaker_state>> const& steps)
{
  std::string out;
  for (auto const& [from, to] : steps) {
    if (!out.empty()) out += ", ";
    out += std::string(task18::to_string(from)) + "→" + task18::to_string(to);
  }
  return out.empty() ? "(none)" : out;
}

// ---------------------------------------------------------------- answers

// One call on a round tripper and its answer: workbook/round_trip_call.hpp.
// start_call(breaker, request, cancel_on, caller) makes one; a handler the
// breaker destroys uncalled ends its wait at once, and is counted in
// dropped_handlers().
using answer = workbook::call_answer;
using pending = workbook::pending_call;
using workbook::answer_box;
using workbook::dropped_handlers;

// The response's X-Upstream field: "fake" from the fake upstream, "real
// <target>" from the tests' echoing one; empty when there is none.
inline std::string upstream_header(answer const& a) { return std::string(a.response["X-Upstream"]); }

// ---------------------------------------------------------------- the fake upstream

class fake_upstream : public workbook::round_tripper {
public:
  explicit fake_upstream(asio::io_context& ioc) : held_(ioc, "upstream") {}

  // Calls that reached the upstream, held ones included.
  int calls() const { return calls_.load(); }
  // Calls held now.
  int held() const { return held_.held(); }
  // Where the upstream's own work runs: cancel a held call there.
  asio::any_io_executor executor() const { return held_.executor(); }
  // Stop writing every call into the transcript (for the tests that make a thousand).
  void quiet(bool q) { held_.quiet(q); }

  // Answers every held call with `status`, or fails it with `ec`; or only
  // the held calls whose target begins with `prefix`.
  void release_all(int status) { release("/hold", status); }
  void fail_all(error_code ec) { fail("/hold", ec); }
  void release(std::string prefix, int status) { held_.release(std::move(prefix), status); }
  void fail(std::string prefix, error_code ec) { held_.fail(std::move(prefix), ec); }

protected:
  void do_round_trip(workbook::client_request request, workbook::round_trip_handler handler) override
  {
    calls_.fetch_add(1);
    std::string target(request.message.target());
    held_.note(workbook::transcript::direction::received, std::string(request.message.method_string()) + " " + target);
    asio::post(held_.executor(), [this, target, handler = std::move(handler)]() mutable { serve(target, std::move(handler)); });
  }

private:
  // On the strand.
  void serve(std::string const& target, workbook::round_trip_handler handler)
  {
    if (target.rfind("/status/", 0) == 0) {
      held_.complete(std::move(handler), {}, workbook::held_calls::response(std::stoi(target.substr(8))));
    } else if (target == "/refused") {
      held_.complete(std::move(handler), asio::error::connection_refused, {});
    } else if (target.rfind("/hold", 0) == 0) {
      held_.hold(target, std::move(handler));
    } else {
      held_.complete(std::move(handler), {}, workbook::held_calls::response(400));
    }
  }

  workbook::held_calls held_;
  std::atomic<int> calls_{0};
};

// ---------------------------------------------------------------- a breaker around the fake

inline task18::breaker_options options_with(unsigned threshold, task18::clock_type::duration reset, test_clock& clock,
                                            transitions& log)
{
  task18::breaker_options o;
  o.failure_threshold = threshold;
  o.reset_period = reset;
  o.clock = clock.function();
  o.on_state_change = log.callback();
  return o;
}

// The io_context runs on two threads: completions, and so outcomes, are
// counted on either of them.
struct rig {
  explicit rig(unsigned threshold = 5, task18::clock_type::duration reset = 30s)
      : breaker(ioc.get_executor(), upstream, options_with(threshold, reset, clock, log))
  {
    log.watch(breaker);
  }

  // Calls target and waits up to `within` for the answer.
  answer call(std::string const& target, milliseconds within = 1s)
  {
    return start(target).wait(within);
  }
  // Calls target and requires an answer, whatever it is (a response, an
  // error, a refusal); says what came instead when there is none.
  answer must_answer(std::string const& target)
  {
    auto a = call(target);
    INFO("GET " << target << " -> " << a.describe() << "; state() is then " << task18::to_string(breaker.state()));
    REQUIRE(a.completed);
    return a;
  }
  pending start(std::string const& target) { return workbook::start_call(breaker, get(target), upstream.executor(), caller); }

  // Waits until n calls are held by the upstream; false after `within`,
  // or as soon as the breaker has dropped a handler (such a call will
  // never arrive).
  bool until_held(int n, milliseconds within = 1s)
  {
    bool const held = workbook::eventually(
        [&] { return upstream.held() == n || dropped_handlers().load() > dropped_before; }, within);
    UNSCOPED_INFO("the upstream holds " << upstream.held() << " calls; waited for " << n
                                        << (dropped_handlers().load() > dropped_before
                                                ? " (the breaker destroyed a handler without calling it)"
                                                : ""));
    return held && upstream.held() == n;
  }

  // `threshold` failures in a row: the breaker is open. Returns false (and
  // says why) when it is not.
  bool open_it(unsigned threshold = 5)
  {
    for (unsigned i = 0; i < threshold; ++i) {
      auto a = call("/status/500");
      if (!a.completed || a.status != 500) {
        UNSCOPED_INFO("failure " << i + 1 << " of " << threshold << " to open the breaker: " << a.describe());
        return false;
      }
    }
    UNSCOPED_INFO("after " << threshold << " answers of 500, state() is " << task18::to_string(breaker.state()));
    return breaker.state() == breaker_state::open;
  }

  int const dropped_before = dropped_handlers().load();
  asio::io_context ioc;
  fake_upstream upstream{ioc};
  test_clock clock;
  transitions log;
  int caller = workbook::transcript::open_connection("caller");
  task18::circuit_breaker breaker;
  workbook::io_threads threads{ioc, 2};  // last: joined first
};

// Counts the answers of many calls made without waiting for each.
struct tally {
  std::atomic<int> refused{0};   // breaker_errc::open
  std::atomic<int> answered{0};  // any response
  std::atomic<int> ok{0};        // a 200
  std::atomic<int> errors{0};    // any other error
  std::atomic<int> dropped{0};   // handlers destroyed uncalled

  int completed() const { return refused + answered + errors; }
  std::string describe() const
  {
    std::ostringstream out;
    out << refused << " refused by the breaker, " << answered << " answered by the upstream (" << ok << " with 200), "
        << errors << " other errors, " << dropped << " handlers dropped uncalled";
    return out.str();
  }
};

// A handler for fire-and-forget calls that adds its answer to a tally.
class counting_handler {
public:
  explicit counting_handler(std::shared_ptr<tally> t) : t_(std::move(t)) {}
  counting_handler(counting_handler&&) noexcept = default;
  counting_handler& operator=(counting_handler&&) noexcept = default;
  ~counting_handler()
  {
    if (!t_) return;
    t_->dropped.fetch_add(1);
    dropped_handlers().fetch_add(1);
  }
  void operator()(error_code ec, workbook::client_response response)
  {
    auto t = std::move(t_);
    if (refused_by_breaker(ec)) t->refused.fetch_add(1);
    else if (ec) t->errors.fetch_add(1);
    else {
      t->answered.fetch_add(1);
      if (response.result_int() == 200) t->ok.fetch_add(1);
    }
  }

private:
  std::shared_ptr<tally> t_;
};

// `threads` threads, released together, each making `per_thread` calls to
// target without waiting for their answers; returns once all are made.
inline void call_from_threads(task18::circuit_breaker& breaker, std::string const& target, int threads, int per_thread,
                              std::shared_ptr<tally> const& t)
{
  std::mutex m;
  std::condition_variable cv;
  bool go = false;
  std::vector<std::thread> callers;
  for (int i = 0; i < threads; ++i)
    callers.emplace_back([&] {
      {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return go; });
      }
      for (int j = 0; j < per_thread; ++j) breaker.async_round_trip(get(target), counting_handler(t));
    });
  {
    std::lock_guard lock(m);
    go = true;
  }
  cv.notify_all();
  for (auto& c : callers) c.join();
}

} // namespace task18_test
