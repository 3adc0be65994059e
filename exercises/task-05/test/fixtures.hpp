// Task 05 · test helpers: a record of on_got_conn calls, bounded calls into
// the transport, and batches of concurrent requests that a server holds
// until the whole batch has arrived.
//
// Everything a worker thread touches is owned through shared_ptr: a wrong
// transport that never returns keeps its objects alive on a detached
// thread instead of pointing into a finished test.
#pragma once

#include "transport.hpp"

#include <workbook/bounded_call.hpp>
#include <workbook/test_server.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace task05_test {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

// The transport's request timeout in these tests, and how long a test
// waits for a whole load before it stops its servers.
inline constexpr milliseconds request_timeout = 2s;
inline constexpr milliseconds patience = 10s;

// Every on_got_conn call, in the order they were made.
class got_conn_log {
public:
  void add(task05::got_conn_info const& info)
  {
    std::lock_guard lock(mutex_);
    calls_.push_back(info);
  }
  std::vector<task05::got_conn_info> calls() const
  {
    std::lock_guard lock(mutex_);
    return calls_;
  }

private:
  mutable std::mutex mutex_;
  std::vector<task05::got_conn_info> calls_;
};

// Destroys a transport on a thread of its own and waits for it a bounded
// time: a destructor that never returns (joining a thread that never ends,
// say) is left running on a detached thread instead of hanging the tests.
inline void destroy_bounded(task05::transport* t)
{
  auto const outcome = workbook::call_bounded([t] {
    delete t;
    return true;
  }, patience);
  if (outcome.overran)
    std::cerr << "task-05 tests: ~transport() had not returned after " << patience.count()
              << " ms; it is left running on a detached thread\n";
}

// A transport that records into `log`.
inline std::shared_ptr<task05::transport> make_transport(task05::transport_options options,
                                                         std::shared_ptr<got_conn_log> log)
{
  options.request_timeout = request_timeout;
  options.on_got_conn = [log](task05::got_conn_info const& info) { log->add(info); };
  return std::shared_ptr<task05::transport>(new task05::transport(std::move(options)), destroy_bounded);
}

inline std::string describe(boost::system::error_code const& ec)
{
  if (!ec) return "no error";
  std::ostringstream s;
  s << "\"" << ec.message() << "\" (" << ec.category().name() << " " << ec.value() << ")";
  return s.str();
}

inline std::string describe(task05::response const& r)
{
  std::ostringstream s;
  s << "status " << r.status << ", error " << describe(r.error) << ", body \"" << r.body.substr(0, 60) << "\"";
  return s.str();
}

inline std::string describe(task05::got_conn_info const& i)
{
  std::ostringstream s;
  s << "{key " << i.key << ", reused " << (i.reused ? "true" : "false") << ", idle_for "
    << std::chrono::duration_cast<milliseconds>(i.idle_for).count() << " ms}";
  return s.str();
}

inline std::string describe(std::vector<task05::got_conn_info> const& calls)
{
  std::ostringstream s;
  s << calls.size() << " on_got_conn call(s):";
  for (auto const& c : calls) s << "\n  " << describe(c);
  return s.str();
}

// Runs f(transport) on a thread of its own; if it has not returned within
// `patience`, stops `servers` and fails the test. f must capture by value.
template <class F>
auto drive(std::shared_ptr<task05::transport> t, std::vector<workbook::test_server*> servers, F f)
{
  auto outcome = workbook::call_bounded([t, f]() mutable { return f(*t); }, patience, [servers] {
    for (auto* s : servers) s->stop();
  });
  if (outcome.overran)
    FAIL("the transport was still busy " << patience.count() << " ms after the test started it "
         "(its request timeout is " << request_timeout.count() << " ms), so the test stopped the "
         "server" << (outcome.returned_after_rescue ? "; only then did it return." : ", and even that did not end it.")
         << " A lock held while waiting for the network, or a wait without a deadline?");
  INFO("the transport threw: " << outcome.exception);
  REQUIRE(outcome.exception.empty());
  REQUIRE(outcome.value.has_value());
  return std::move(*outcome.value);
}

// transport.idle_connections(), and .idle_connections(key), bounded like every other call.
inline std::size_t idle_count(std::shared_ptr<task05::transport> t, std::vector<workbook::test_server*> servers)
{
  return drive(t, servers, [](task05::transport& tr) { return tr.idle_connections(); });
}

inline std::size_t idle_count(std::shared_ptr<task05::transport> t, std::vector<workbook::test_server*> servers,
                              std::string key)
{
  return drive(t, servers, [key](task05::transport& tr) { return tr.idle_connections(key); });
}

// "GET /batch/7 HTTP/1.1 ..." -> "/batch/7"
inline std::string target_of(std::string const& request)
{
  auto const first = request.find(' ');
  if (first == std::string::npos) return {};
  auto const second = request.find(' ', first + 1);
  return request.substr(first + 1, second == std::string::npos ? std::string::npos : second - first - 1);
}

// Holds each request of batch N until `width` requests of batch N have
// arrived, so that a batch really is `width` requests in flight at once,
// however the threads happen to be scheduled. A batch that does not fill
// up within `patience` breaks the gate: the test fails on that (the load
// tests REQUIRE held_every_batch()), the run stops sending batches, and the
// gate holds nothing more, so a failing test need not be slow about it.
// A pool that sends a batch together fills it in milliseconds; the
// patience is for a loaded machine, not for a pool that sends one request
// at a time.
class batch_gate {
public:
  explicit batch_gate(int width, milliseconds patience = 5s) : width_(width), patience_(patience) {}

  void arrive_and_wait(int batch)
  {
    std::unique_lock lock(mutex_);
    int const arrived = ++arrived_[batch];
    most_together_ = std::max(most_together_, arrived);
    cv_.notify_all();
    if (broken_) return;
    if (!cv_.wait_for(lock, patience_, [&] { return broken_ || arrived_[batch] >= width_; })) {
      broken_ = true;
      first_short_batch_ = batch;
      first_short_count_ = arrived_[batch];
      cv_.notify_all();
    }
  }

  // True when every batch had all its `width` requests in flight together.
  bool held_every_batch() const
  {
    std::lock_guard lock(mutex_);
    return !broken_;
  }

  std::string report() const
  {
    std::lock_guard lock(mutex_);
    std::ostringstream s;
    if (!broken_) s << "every batch had all " << width_ << " requests in flight at once (at most " << most_together_ << ")";
    else
      s << "batch " << first_short_batch_ << " had only " << first_short_count_ << " of " << width_
        << " requests in flight after " << patience_.count() << " ms: the requests of a batch reached "
           "the server one after another, not together";
    return s.str();
  }

private:
  int const width_;
  milliseconds const patience_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::map<int, int> arrived_;
  int most_together_ = 0;
  bool broken_ = false;
  int first_short_batch_ = -1;
  int first_short_count_ = 0;
};

// A server for GET /batch/N: "batch N\n", each answer held at `gate`.
// A new connection first costs `new_connection_cost` before its first
// request is read: the round trips of a TCP and TLS handshake to a server
// across a network, which a connection to 127.0.0.1 does not pay by itself.
inline workbook::test_server gated_server(std::shared_ptr<batch_gate> gate, milliseconds new_connection_cost = 0ms)
{
  return workbook::test_server::scripted([gate, new_connection_cost](workbook::peer& p) {
    if (new_connection_cost > 0ms && !p.pause(new_connection_cost)) return;
    for (;;) {
      auto const request = p.read_request(30s);
      if (request.empty()) return;
      auto const target = target_of(request);
      int batch = -1;
      if (target.rfind("/batch/", 0) == 0) batch = std::stoi(target.substr(7));
      if (batch < 0) {
        if (!p.write(workbook::http_response(400, "expected /batch/N\n"))) return;
        continue;
      }
      gate->arrive_and_wait(batch);
      if (!p.write(workbook::http_response(200, "batch " + std::to_string(batch) + "\n"))) return;
    }
  });
}

// A barrier whose waits are bounded: a worker stuck in get() delays the
// others by `patience` at most.
class bounded_barrier {
public:
  bounded_barrier(int count, milliseconds patience) : count_(count), patience_(patience) {}

  void arrive_and_wait()
  {
    std::unique_lock lock(mutex_);
    auto const generation = generation_;
    if (++waiting_ == count_) {
      waiting_ = 0;
      ++generation_;
      cv_.notify_all();
      return;
    }
    if (!cv_.wait_for(lock, patience_, [&] { return generation_ != generation; })) {
      // Give up on the missing ones and let everyone waiting go on.
      waiting_ = 0;
      ++generation_;
      cv_.notify_all();
    }
  }

private:
  int const count_;
  milliseconds const patience_;
  std::mutex mutex_;
  std::condition_variable cv_;
  int waiting_ = 0;
  unsigned generation_ = 0;
};

struct batch_run {
  int requests = 0;
  int answered = 0;                    // 200 with the right body
  std::vector<std::string> failures;   // the first few that were not
  // How long each get() took, in milliseconds, for the batches after the
  // first (the first opens every connection, whatever the pool).
  std::vector<double> later_latency_ms;
};

// `workers` threads each GET base_url + "/batch/N" once per batch, N = 0, 1,
// ...: every request of one batch has returned before any of the next is
// sent, and (with gated_server) the requests of a batch are all in flight
// at once. Once `gate` has broken, no further batch is sent.
inline batch_run run_batches(std::shared_ptr<task05::transport> t, std::string base_url, int workers,
                             int batches, workbook::test_server& server, std::shared_ptr<batch_gate> gate)
{
  return drive(t, {&server}, [base_url, workers, batches, gate](task05::transport& transport) {
    struct shared {
      std::mutex mutex;
      batch_run run;
    };
    auto state = std::make_shared<shared>();
    auto barrier = std::make_shared<bounded_barrier>(workers, 3s);
    std::vector<std::thread> threads;
    for (int w = 0; w < workers; ++w)
      threads.emplace_back([&transport, state, barrier, gate, base_url, batches] {
        for (int b = 0; b < batches; ++b) {
          barrier->arrive_and_wait();
          if (!gate->held_every_batch()) return;  // the test has failed; stop loading the server
          auto const started = std::chrono::steady_clock::now();
          auto const r = transport.get(base_url + "/batch/" + std::to_string(b));
          std::chrono::duration<double, std::milli> const took = std::chrono::steady_clock::now() - started;
          bool const ok = !r.error && r.status == 200 && r.body == "batch " + std::to_string(b) + "\n";
          std::lock_guard lock(state->mutex);
          ++state->run.requests;
          if (b > 0) state->run.later_latency_ms.push_back(took.count());
          if (ok) ++state->run.answered;
          else if (state->run.failures.size() < 5)
            state->run.failures.push_back("GET /batch/" + std::to_string(b) + ": " + describe(r));
        }
      });
    for (auto& th : threads) th.join();
    std::lock_guard lock(state->mutex);
    return state->run;
  });
}

// The p-th percentile (0 < p <= 100) of `values`, by nearest rank; 0 when empty.
inline double percentile(std::vector<double> values, double p)
{
  if (values.empty()) return 0.0;
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  rank = std::clamp<std::size_t>(rank, 1, values.size());
  auto const nth = values.begin() + static_cast<std::ptrdiff_t>(rank - 1);
  std::nth_element(values.begin(), nth, values.end());
  return *nth;
}

// Of the on_got_conn calls after the first `skip`, the fraction that were reused.
inline double reused_fraction(std::vector<task05::got_conn_info> const& calls, std::size_t skip)
{
  if (calls.size() <= skip) return 0.0;
  auto const reused = std::count_if(calls.begin() + static_cast<std::ptrdiff_t>(skip), calls.end(),
                                    [](auto const& c) { return c.reused; });
  return static_cast<double>(reused) / static_cast<double>(calls.size() - skip);
}

} // namespace task05_test
