// Run a blocking call under test on a thread of its own and wait for it a
// bounded time: a client that blocks for good (a blocking read, a deadlock,
// a retry loop) fails its test instead of hanging the test binary.
#pragma once

#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

namespace workbook {

template <class R>
struct bounded_outcome {
  std::optional<R> value;              // what the call returned; empty if it threw or never returned
  std::string exception;               // what it threw, if it did
  std::chrono::milliseconds elapsed{}; // from the call to its return (when it returned)
  bool overran = false;                // still running after `patience`
  bool returned_after_rescue = false;  // ... and returned once `rescue` had run

  // True when the call returned a value by itself, within `patience`.
  bool returned_in_time() const { return value.has_value() && !overran; }
};

// Calls f() on a new thread and waits up to `patience` for it. If it has not
// returned by then, calls rescue() (typically: stop the test's server, which
// ends any blocking read on its connections) and waits up to `grace` more.
// A call that survives even that is left running on a detached thread, so
// the test still ends: f must therefore own, by value or by shared_ptr,
// everything it touches. Never capture the test's locals by reference in f.
template <class F>
auto call_bounded(F f,
                  std::chrono::milliseconds patience,
                  std::function<void()> rescue = {},
                  std::chrono::milliseconds grace = std::chrono::seconds(2))
    -> bounded_outcome<std::invoke_result_t<F&>>
{
  using result_type = std::invoke_result_t<F&>;
  static_assert(!std::is_void_v<result_type>, "call_bounded needs a call that returns a value");

  struct shared_state {
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
    bounded_outcome<result_type> outcome;
  };
  auto state = std::make_shared<shared_state>();

  std::thread caller([state, f = std::move(f)]() mutable {
    std::optional<result_type> value;
    std::string exception;
    auto const start = std::chrono::steady_clock::now();
    try {
      value.emplace(f());
    } catch (std::exception const& e) {
      exception = e.what();
      if (exception.empty()) exception = "an exception with an empty what()";
    } catch (...) {
      exception = "an exception that is not a std::exception";
    }
    auto const elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    std::lock_guard lock(state->mutex);
    state->outcome.value = std::move(value);
    state->outcome.exception = std::move(exception);
    state->outcome.elapsed = elapsed;
    state->done = true;
    state->done_cv.notify_all();
  });

  bool done = false;
  {
    std::unique_lock lock(state->mutex);
    done = state->done_cv.wait_for(lock, patience, [&] { return state->done; });
  }
  bool overran = false;
  if (!done) {
    overran = true;
    if (rescue) rescue();
    std::unique_lock lock(state->mutex);
    done = state->done_cv.wait_for(lock, grace, [&] { return state->done; });
  }
  if (done) caller.join();
  else caller.detach();

  std::lock_guard lock(state->mutex);
  bounded_outcome<result_type> outcome = std::move(state->outcome);
  outcome.overran = overran;
  outcome.returned_after_rescue = overran && done;
  return outcome;
}

} // namespace workbook
