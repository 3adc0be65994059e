// Task 19 · test helpers: upstreams that answer from a script (a real one
// on 127.0.0.1 behind the harness's plain_transport, and a fake inner round
// tripper without a network, for outcomes a server cannot stage on cue),
// random sources the tests control, a log of the retries your retrier
// announces through on_retry, and a rig that runs your retrier on an
// io_context of its own and starts calls that the test can wait for, with
// a bound, and cancel.
#pragma once

#include "retry.hpp"

#include <workbook/elapsed.hpp>
#include <workbook/eventually.hpp>
#include <workbook/http.hpp>
#include <workbook/io_threads.hpp>
#include <workbook/round_tripper.hpp>
#include <workbook/test_server.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <future>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace task19_test {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;
using std::chrono::milliseconds;
using task19::microseconds;
using clock_type = std::chrono::steady_clock;
using workbook::since;

inline microseconds micros_between(clock_type::time_point a, clock_type::time_point b)
{
  return std::chrono::duration_cast<microseconds>(b - a);
}

// ---------------------------------------------------------------- answers

// What the upstream answers one attempt: a status with fields, or (the fake
// inner only) a transport failure.
struct answer {
  int status = 200;
  workbook::header_list headers;
  error_code failure;
};

inline answer status(int s, workbook::header_list headers = {}) { return {s, std::move(headers), {}}; }
inline answer failure(error_code ec) { return {0, {}, ec}; }

// The body of the answer to the upstream's request n (1, 2, ...), so that a
// test sees which attempt's answer came back.
inline std::string answer_body(int n) { return "answer to request " + std::to_string(n); }

// The n-th (1, 2, ...) answer of a script; the last one repeats for ever.
inline answer const& nth(std::vector<answer> const& script, int n)
{
  return script[static_cast<std::size_t>(std::min<int>(n, static_cast<int>(script.size())) - 1)];
}

// ---------------------------------------------------------------- a real upstream

// One request as the upstream received it.
struct seen_request {
  std::string method;
  std::string target;
  std::string body;
  workbook::header_list headers;
  clock_type::time_point at;

  std::optional<std::string> header(std::string_view name) const
  {
    for (auto const& [k, v] : headers)
      if (workbook::iequals(k, name)) return v;
    return std::nullopt;
  }
};

// An HTTP/1.1 server on 127.0.0.1 (the harness's test_server, keep-alive)
// that answers its n-th request with script[n-1], the last entry repeating,
// and the body answer_body(n); it keeps every request it reads.
class scripted_upstream {
public:
  explicit scripted_upstream(std::vector<answer> script)
      : record_(std::make_shared<record>(std::move(script))), server_(workbook::test_server::serving(
                                                                  [r = record_](workbook::request const& req) {
                                                                    return r->on_request(req);
                                                                  }))
  {
  }

  unsigned short port() const { return server_.port(); }
  int requests() const { return server_.requests(); }
  int accepted() const { return server_.accepted(); }

  std::vector<seen_request> seen() const
  {
    std::lock_guard lock(record_->mutex);
    return record_->seen;
  }

private:
  struct record {
    explicit record(std::vector<answer> s) : script(std::move(s)) {}
    workbook::response on_request(workbook::request const& req)
    {
      std::lock_guard lock(mutex);
      seen.push_back({req.method, req.target, req.body, req.headers, clock_type::now()});
      int const n = static_cast<int>(seen.size());
      auto const& a = nth(script, n);
      return workbook::response{a.status, "", a.headers, answer_body(n), ""};
    }
    std::vector<answer> const script;
    mutable std::mutex mutex;
    std::vector<seen_request> seen;
  };
  std::shared_ptr<record> record_;
  workbook::test_server server_;
};

// ---------------------------------------------------------------- a fake inner round tripper

// A round tripper without a network: attempt n gets script[n-1] (the last
// entry repeating), answered on `executor` a moment after the call, with
// the body answer_body(n). It keeps every call, and it does not answer
// cancellation: what it is told, it finishes. A hook can run on the io
// thread just before attempt n is answered.
class scripted_inner : public workbook::round_tripper {
public:
  struct call {
    clock_type::time_point at;
    http::verb method;
    std::string target;
    std::string body;
    bool keep_alive;
  };

  scripted_inner(asio::any_io_executor executor, std::vector<answer> script)
      : executor_(std::move(executor)), script_(std::move(script))
  {
  }

  // Set before the first call.
  void before_answer(std::function<void(int n)> hook) { hook_ = std::move(hook); }

  int count() const
  {
    std::lock_guard lock(mutex_);
    return static_cast<int>(calls_.size());
  }

  std::vector<call> calls() const
  {
    std::lock_guard lock(mutex_);
    return calls_;
  }

protected:
  void do_round_trip(workbook::client_request request, workbook::round_trip_handler handler) override
  {
    int n = 0;
    {
      std::lock_guard lock(mutex_);
      auto const& m = request.message;
      calls_.push_back({clock_type::now(), m.method(), std::string(m.target()), m.body(), m.keep_alive()});
      n = static_cast<int>(calls_.size());
    }
    asio::post(executor_, [this, n, a = nth(script_, n), handler = std::move(handler)]() mutable {
      if (hook_) hook_(n);
      if (a.failure) return std::move(handler)(a.failure, workbook::client_response{});
      workbook::client_response response;
      response.version(11);
      response.result(static_cast<unsigned>(a.status));
      for (auto const& [k, v] : a.headers) response.insert(k, v);
      // 1xx, 204 and 304 answers cannot carry a body.
      if (a.status >= 200 && a.status != 204 && a.status != 304) response.body() = answer_body(n);
      response.prepare_payload();
      std::move(handler)(error_code{}, std::move(response));
    });
  }

private:
  asio::any_io_executor executor_;
  std::vector<answer> const script_;
  std::function<void(int)> hook_;
  mutable std::mutex mutex_;
  std::vector<call> calls_;
};

// ---------------------------------------------------------------- random sources

// How often a source was called, and whether two callers were ever inside
// it at the same time.
struct draw_counter {
  std::atomic<int> calls{0};
  std::atomic<int> inside{0};
  std::atomic<bool> overlapped{false};
};

// Returns values[0], values[1], ..., then the last value for ever. Safe to
// call from several threads (only atomics), so that a retrier that calls it
// unserialised is caught by the count and the overlap, not by a crash.
inline std::function<double()> sequence(std::vector<double> values,
                                        std::shared_ptr<draw_counter> counter = std::make_shared<draw_counter>(),
                                        microseconds stay_inside = microseconds(0))
{
  return [values = std::move(values), counter, stay_inside] {
    if (counter->inside.fetch_add(1) != 0) counter->overlapped = true;
    auto const i = static_cast<std::size_t>(counter->calls.fetch_add(1));
    // A slow source (one that reads /dev/urandom, say). It sleeps rather
    // than spins: a second, unserialised caller then gets the CPU and comes
    // in meanwhile even when every core is busy with other work.
    if (stay_inside.count() > 0) std::this_thread::sleep_for(stay_inside);
    counter->inside.fetch_sub(1);
    return values[std::min(i, values.size() - 1)];
  };
}

inline std::function<double()> constant(double u) { return sequence({u}); }

// A seeded pseudo-random source, as a caller would inject one: a
// std::mt19937_64, its top 53 bits as a double in [0, 1). Two sources with
// the same seed return the same numbers. Not thread-safe, like the engine.
inline std::function<double()> seeded(std::uint64_t seed)
{
  auto engine = std::make_shared<std::mt19937_64>(seed);
  return [engine] { return static_cast<double>((*engine)() >> 11) * 0x1.0p-53; };
}

// The first `n` numbers of seeded(seed).
inline std::vector<double> draws_of(std::uint64_t seed, int n)
{
  auto source = seeded(seed);
  std::vector<double> out;
  for (int i = 0; i < n; ++i) out.push_back(source());
  return out;
}

// ---------------------------------------------------------------- the formula

// min(cap, base × 2^(n−1)), worked out in long double, so that it never
// overflows (written apart from any retrier's code).
inline microseconds expected_ceiling(microseconds base, microseconds cap, int n)
{
  long double const c = static_cast<long double>(base.count()) * std::pow(2.0L, n - 1);
  return c >= static_cast<long double>(cap.count()) ? cap : microseconds(static_cast<microseconds::rep>(c));
}

// floor(u × ceiling) in microseconds.
inline microseconds expected_delay(double u, microseconds base, microseconds cap, int n)
{
  return microseconds(
      static_cast<microseconds::rep>(u * static_cast<double>(expected_ceiling(base, cap, n).count())));
}

// Equal to the microsecond, give or take one for rounding.
inline bool same_delay(microseconds a, microseconds b) { return a - b <= microseconds(1) && b - a <= microseconds(1); }

// ---------------------------------------------------------------- what the retrier announced

// The retry_events a retrier hands its on_retry, kept in order. Copies
// share the log, so the observer stays valid as long as any copy lives.
class retry_log {
public:
  std::function<void(task19::retry_event const&)> observer() const
  {
    return [s = shared_](task19::retry_event const& e) {
      std::lock_guard lock(s->mutex);
      s->events.push_back(e);
    };
  }

  std::vector<task19::retry_event> events() const
  {
    std::lock_guard lock(shared_->mutex);
    return shared_->events;
  }

  std::size_t size() const { return events().size(); }

  std::vector<microseconds> delays() const
  {
    std::vector<microseconds> out;
    for (auto const& e : events()) out.push_back(e.delay);
    return out;
  }

  // "retry after attempt 1 (500): 500 us; ...", for failure messages.
  std::string describe() const
  {
    auto const all = events();
    if (all.empty()) return "no retry was announced through on_retry";
    std::ostringstream out;
    out << all.size() << " retries announced:";
    for (auto const& e : all) {
      out << "\n  after attempt " << e.attempt << " (";
      if (e.status) out << e.status;
      else out << "transport failure: " << e.error.message();
      out << "): sleep " << e.delay.count() << " us" << (e.from_retry_after ? ", from Retry-After" : "");
    }
    return out.str();
  }

private:
  struct state {
    std::mutex mutex;
    std::vector<task19::retry_event> events;
  };
  std::shared_ptr<state> shared_ = std::make_shared<state>();
};

// The options most tests start from: three attempts, delays of a few
// milliseconds, Retry-After in milliseconds, a constant draw of 0.5, and
// every retry announced to `log`.
inline task19::retry_options test_options(retry_log const& log, std::function<double()> random = constant(0.5))
{
  using namespace std::chrono_literals;
  task19::retry_options o;
  o.max_attempts = 3;
  o.base = 1ms;
  o.cap = 8ms;
  o.random = std::move(random);
  o.retry_after_unit = 1ms;
  o.on_retry = log.observer();
  return o;
}

// ---------------------------------------------------------------- requests

inline workbook::client_request make_request(http::verb method, std::string const& target = "/",
                                             std::string body = {}, std::function<std::string()> factory = {})
{
  workbook::client_request r;
  r.message = {method, target, 11};
  r.message.set(http::field::host, "127.0.0.1");
  r.message.body() = std::move(body);
  r.message.prepare_payload();
  r.body_factory = std::move(factory);
  return r;
}

inline workbook::client_request get(std::string const& target = "/") { return make_request(http::verb::get, target); }

// ---------------------------------------------------------------- the rig

// Your retrier on an io_context of its own, run by `threads` threads,
// around either a plain_transport to 127.0.0.1:port or a scripted_inner.
// Destroyed bottom-up: the threads stop before anything they use goes, and
// the cancellation signals outlive every operation that holds their slots.
class rig {
public:
  rig(unsigned short port, task19::retry_options options, int threads = 1)
  {
    auto t = std::make_unique<workbook::plain_transport>(
        ioc_.get_executor(), asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    transport_ = t.get();
    inner_ = std::move(t);
    start(std::move(options), threads);
  }

  rig(std::vector<answer> script, task19::retry_options options, int threads = 1)
  {
    auto f = std::make_unique<scripted_inner>(ioc_.get_executor(), std::move(script));
    fake_ = f.get();
    inner_ = std::move(f);
    start(std::move(options), threads);
  }

  ~rig() { io_.reset(); }
  rig(rig const&) = delete;
  rig& operator=(rig const&) = delete;

  task19::retrier& retrier() { return *retrier_; }
  workbook::plain_transport& transport() { return *transport_; }  // a rig over a port
  scripted_inner& fake() { return *fake_; }                      // a rig over a script
  asio::io_context& ioc() { return ioc_; }

  // A signal whose slot a call can be bound to; it lives as long as the rig.
  asio::cancellation_signal& new_signal() { return signals_.emplace_back(); }

  // Emits a terminal cancellation on the io_context, where the call runs.
  void cancel(asio::cancellation_signal& signal)
  {
    asio::post(ioc_, [&signal] { signal.emit(asio::cancellation_type::terminal); });
  }

private:
  void start(task19::retry_options options, int threads)
  {
    retrier_.emplace(ioc_.get_executor(), *inner_, std::move(options));
    io_.emplace(ioc_, threads);
  }

  std::list<asio::cancellation_signal> signals_;
  asio::io_context ioc_;
  std::unique_ptr<workbook::round_tripper> inner_;
  workbook::plain_transport* transport_ = nullptr;
  scripted_inner* fake_ = nullptr;
  std::optional<task19::retrier> retrier_;
  std::optional<workbook::io_threads> io_;
};

// ---------------------------------------------------------------- calls

struct result {
  error_code ec;
  workbook::client_response response;
  clock_type::time_point at;  // when the handler ran
};

// One call through the rig's retrier, started at once, its handler bound
// to a cancellation signal of the rig's.
class call {
public:
  call(rig& r, workbook::client_request request) : call(r, std::move(request), r.new_signal()) {}

  call(rig& r, workbook::client_request request, asio::cancellation_signal& signal)
      : rig_(r), signal_(signal), started(clock_type::now())
  {
    auto done = std::make_shared<std::promise<result>>();
    future_ = done->get_future();
    r.retrier().async_round_trip(std::move(request),
                                 asio::bind_cancellation_slot(signal.slot(), [done](error_code ec, workbook::client_response res) {
                                   done->set_value(result{ec, std::move(res), clock_type::now()});
                                 }));
  }

  // True once the handler has run (within `timeout`).
  bool wait(milliseconds timeout)
  {
    if (result_) return true;
    if (future_.wait_for(timeout) != std::future_status::ready) return false;
    result_ = future_.get();
    return true;
  }
  bool done() { return wait(milliseconds(0)); }
  result const& get() const { return *result_; }

  void cancel() { rig_.cancel(signal_); }

  // What came back, for failure messages.
  std::string describe() const
  {
    if (!result_) return "the call has not completed";
    std::ostringstream out;
    if (result_->ec)
      out << "the call completed with the error \"" << result_->ec.message() << "\" (" << result_->ec.category().name()
          << ":" << result_->ec.value() << ")";
    else
      out << "the call completed with " << result_->response.result_int() << " \"" << result_->response.body() << "\"";
    out << " after " << std::chrono::duration_cast<milliseconds>(result_->at - started).count() << " ms";
    return out.str();
  }

private:
  rig& rig_;
  asio::cancellation_signal& signal_;
  std::future<result> future_;
  std::optional<result> result_;

public:
  clock_type::time_point const started;
};

// Calls and waits up to `timeout` for the answer; an empty result when
// the call did not complete.
inline std::optional<result> round_trip(rig& r, workbook::client_request request,
                                        milliseconds timeout = milliseconds(3000))
{
  call c(r, std::move(request));
  if (!c.wait(timeout)) return std::nullopt;
  return c.get();
}

inline std::string describe(std::optional<result> const& r)
{
  if (!r) return "the call did not complete";
  std::ostringstream out;
  if (r->ec) out << "the call completed with the error \"" << r->ec.message() << "\" (" << r->ec.category().name() << ")";
  else out << "the call completed with " << r->response.result_int() << " \"" << r->response.body() << "\"";
  return out.str();
}

} // namespace task19_test
