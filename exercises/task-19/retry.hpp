// Task 19 · the contract between your retrier, the tests and the reference.
// Do not change this file: the tests are compiled against it.
//
// A retrier is a round_tripper (workbook/round_tripper.hpp) that wraps
// another one and sends a request again when the answer says that trying
// again may help: a transport failure, or a 5xx. It is the C++ form of Go's
// retrying http.RoundTripper, and it composes like one: around a
// plain_transport, around task 18's breaker, around another retrier.
#pragma once

#include <workbook/round_tripper.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>

namespace task19 {

namespace asio = boost::asio;
using boost::system::error_code;
using std::chrono::microseconds;

// ---------------------------------------------------------------- the errors

// The retrier's own failures, in a category of their own, so that a caller
// can tell them from the transport's.
enum class retry_error {
  // The request has a body and no body_factory, and its first attempt
  // failed in a way that would be retried: the body was consumed by that
  // attempt and cannot be sent again.
  body_not_replayable = 1,
};

class retry_category_impl : public boost::system::error_category {
public:
  char const* name() const noexcept override { return "task19.retry"; }
  std::string message(int ev) const override
  {
    switch (static_cast<retry_error>(ev)) {
    case retry_error::body_not_replayable:
      return "the request body cannot be sent again: give the request a body_factory";
    }
    return "unknown retry error";
  }
};

inline boost::system::error_category const& retry_category() noexcept
{
  static retry_category_impl const category;
  return category;
}

inline error_code make_error_code(retry_error e) noexcept { return {static_cast<int>(e), retry_category()}; }

} // namespace task19

template <>
struct boost::system::is_error_code_enum<task19::retry_error> : std::true_type {};

namespace task19 {

// ---------------------------------------------------------------- what happens

// One retry, as the retrier decided it: handed to options.on_retry once the
// delay is chosen and before the sleep begins.
struct retry_event {
  int attempt = 0;            // the attempt that failed: 1 for the first
  microseconds delay{0};      // the sleep before attempt + 1
  int status = 0;             // the failed attempt's status (a 5xx), or 0 for a transport failure
  error_code error;           // the transport failure, or none for a 5xx
  bool from_retry_after = false;  // the delay came from the response's Retry-After
};

// ---------------------------------------------------------------- the options

struct retry_options {
  // Attempts in all, the first included: 3 sends a request at most three
  // times. Below 1 counts as 1.
  int max_attempts = 3;

  // The backoff. After attempt n fails (n = 1, 2, ...) the retrier sleeps
  //
  //     delay = floor(u × min(cap, base × 2^(n−1)))   in microseconds,
  //
  // u being the next draw of `random`: "full jitter", uniform over
  // [0, ceiling), the ceiling doubling from `base` until it reaches `cap`.
  // (Counted from 0, as the seed writes it: the k-th retry sleeps
  // uniform(0, min(cap, base·2^k)).) base × 2^(n−1) is meant as a number,
  // not as a machine word: a large n (max_attempts may be 100) gives the
  // cap, never a wrapped or negative ceiling.
  microseconds base = std::chrono::milliseconds(100);
  microseconds cap = std::chrono::seconds(2);

  // Where the jitter comes from: each call returns a number in [0, 1),
  // uniformly distributed. The retrier draws exactly once for each
  // jittered delay, in the order of its retries, and from nothing else: two
  // retriers given sources that return the same numbers sleep the same
  // delays, and two given different sources do not retry in lockstep. It
  // is called by one caller at a time (a source need not be thread-safe;
  // the retrier serialises its calls, whatever threads its calls run on).
  // Empty: a source of the retrier's own, seeded from std::random_device.
  std::function<double()> random;

  // Retry-After (RFC 9110 §10.2.3), on a 503 only. Its value, a number of
  // seconds (`120`) or an HTTP-date in its preferred form
  // (`Sun, 06 Nov 1994 08:49:37 GMT`, §5.6.7), replaces the jittered delay:
  //
  //     delay = min(cap, s × retry_after_unit)
  //
  // s being the seconds given, or the time from now() to the date (0 for a
  // date that has passed). A number too large for any duration is the cap.
  // A value that is neither (`soon`, `-5`, `1.5`, an obsolete date format)
  // is ignored: the delay is jittered as if the field were absent. On any
  // other status, Retry-After is ignored. (Whether the retrier also draws
  // from `random` for such a delay is yours to decide.)
  //
  // retry_after_unit is what one second of Retry-After lasts here: 1 s in
  // production; the tests make it 1 ms, so that `Retry-After: 7` is 7 ms.
  microseconds retry_after_unit = std::chrono::seconds(1);

  // The clock an HTTP-date is measured against. Empty: the system clock.
  std::function<std::chrono::system_clock::time_point()> now;

  // Told of each retry (see retry_event), on the thread that runs the call,
  // before its sleep. Calls to it overlap when the retrier's calls overlap
  // on several threads. Empty: nobody is told.
  std::function<void(retry_event const&)> on_retry;
};

// ---------------------------------------------------------------- the retrier

// Sends each request through `inner`, and again after a failure that may
// pass, until it succeeds, the attempts run out, or the caller cancels.
//
// What is retried (each rule is tested):
//   - Only an idempotent request: GET, HEAD, OPTIONS, TRACE, PUT and DELETE
//     (RFC 9110 §9.2.2), and a request of any method that carries an
//     `Idempotency-Key` field. Any other request (POST, PATCH, ...) is sent
//     once, whatever comes back.
//   - A transport failure (the inner round tripper completed with an
//     error), except operation_aborted, and a 5xx answer (500 to 599).
//     Never a 1xx to 4xx answer: the retrier completes with it.
//   - At most max_attempts attempts. When they run out, the call completes
//     with the last attempt's outcome as it came: a 5xx as a response (a
//     success, as from any round tripper), a transport failure as its error.
//
// Between two attempts the retrier sleeps the delay described in
// retry_options, on an asio::steady_timer that runs on `executor`. The
// sleep, like the attempt in flight, answers the caller's cancellation
// slot: a terminal cancellation ends the call at once with
// asio::error::operation_aborted, and nothing more is sent. Once the caller
// has cancelled, no attempt is started and no answer retried, even one that
// arrived in the same instant as the cancellation: the call completes with
// operation_aborted. (Emit the signal on `executor`, e.g. with asio::post;
// on an io_context run by several threads, make `executor` a strand.)
//
// The body: the inner round tripper consumes the message it is given, body
// included. Attempt 1 sends the request's own message; every later attempt
// sends the same method, target, version and fields, with the body made
// again by the request's body_factory (called once per later attempt). A
// request whose body is not empty and that has no body_factory can be sent
// only once: if its first attempt fails in a way that would be retried, the
// call completes with retry_error::body_not_replayable, and the upstream
// has seen one request.
//
// A retry costs no connection: the retrier sends every attempt as the
// request asked to be sent (keep-alive included), so that over a keep-alive
// transport such as plain_transport, 500, 500, 200 reaches the upstream on
// one connection.
//
// The call completes on the handler's associated executor (by default,
// `executor`). The retrier is safe to call from any thread, with any
// number of calls in flight. Destroy it (and `inner`, which must outlive
// it) only once no call is in flight, or once whatever runs `executor` has
// stopped for good.
class retrier : public workbook::round_tripper {
public:
  retrier(asio::any_io_executor executor, workbook::round_tripper& inner, retry_options options = {});
  ~retrier() override;
  retrier(retrier const&) = delete;
  retrier& operator=(retrier const&) = delete;

  // Yours to define in retry.cpp: what the retrier keeps.
  struct state;

protected:
  void do_round_trip(workbook::client_request request, workbook::round_trip_handler handler) override;

private:
  std::shared_ptr<state> state_;  // shared with the calls in flight
};

} // namespace task19
