// What code under test reports through a callback (a balancer's "backend b
// is down", an ingress's "reloaded"), kept so a test can wait for an event
// instead of sleeping, count events, and print them all when it fails.
//
//   workbook::event_log<lb_event> log(describe);
//   options.on_event = log.sink();            // any thread, any time
//   auto down = log.await(is_down("b"), 1s);  // the first such event, past or future
//
// The sink shares the log's state, so an event reported after the test's
// log is gone is dropped, never a use after free. Each event is also a note
// in the transcript ("* event: down b (round 3)"), in the order received.
#pragma once

#include <workbook/transcript.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace workbook {

template <class T>
class event_log {
public:
  using clock = std::chrono::steady_clock;
  struct stamped {
    T event;
    clock::time_point at;
  };

  // `describe` writes one event as a line of the transcript and of describe().
  explicit event_log(std::function<std::string(T const&)> describe)
      : state_(std::make_shared<state>())
  {
    state_->describe = std::move(describe);
    state_->connection = transcript::open_connection("events");
  }

  // A callback to hand to the code under test.
  std::function<void(T const&)> sink() const
  {
    return [weak = std::weak_ptr<state>(state_)](T const& e) {
      if (auto s = weak.lock()) s->push(e);
    };
  }

  void push(T const& e) { state_->push(e); }

  // The first event matching `pred`, recorded already or within `within`;
  // nullopt if none came.
  template <class Predicate>
  std::optional<stamped> await(Predicate pred, std::chrono::milliseconds within) const
  {
    return await_nth(std::move(pred), 1, within);
  }

  // The n-th event matching `pred` (n counted from 1), likewise.
  template <class Predicate>
  std::optional<stamped> await_nth(Predicate pred, std::size_t n, std::chrono::milliseconds within) const
  {
    std::unique_lock lock(state_->mutex);
    std::optional<stamped> found;
    state_->changed.wait_for(lock, within, [&] {
      std::size_t seen = 0;
      for (auto const& s : state_->events)
        if (pred(s.event) && ++seen == n) {
          found = s;
          return true;
        }
      return false;
    });
    return found;
  }

  template <class Predicate>
  std::size_t count(Predicate pred) const
  {
    std::lock_guard lock(state_->mutex);
    std::size_t n = 0;
    for (auto const& s : state_->events) n += pred(s.event) ? 1 : 0;
    return n;
  }

  std::vector<stamped> snapshot() const
  {
    std::lock_guard lock(state_->mutex);
    return state_->events;
  }

  // Every event so far, a line each, with its time since the log was made.
  std::string describe() const
  {
    std::lock_guard lock(state_->mutex);
    std::string out = "events reported (" + std::to_string(state_->events.size()) + "):\n";
    for (auto const& s : state_->events) {
      auto const ms = std::chrono::duration_cast<std::chrono::milliseconds>(s.at - state_->made).count();
      out += "  +" + std::to_string(ms) + " ms  " + state_->describe(s.event) + "\n";
    }
    return out;
  }

private:
  struct state {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<stamped> events;
    std::function<std::string(T const&)> describe;
    int connection = 0;
    clock::time_point const made = clock::now();

    void push(T const& e)
    {
      std::string const line = "event: " + describe(e);
      {
        std::lock_guard lock(mutex);
        events.push_back({e, clock::now()});
      }
      changed.notify_all();
      transcript::note(connection, line);
    }
  };
  std::shared_ptr<state> state_;
};

} // namespace workbook
