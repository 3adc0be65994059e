// Task 18 · the contract between your circuit breaker, the tests and the
// reference. Do not change this file: the tests are compiled against it.
#pragma once

#include <workbook/round_tripper.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/is_error_code_enum.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <type_traits>

namespace task18 {

// ---------------------------------------------------------------- the states

enum class breaker_state {
  closed,     // calls go through; consecutive failures are counted
  open,       // calls are refused at once, without reaching the upstream
  half_open,  // one call, the probe, goes through; its result decides
};

inline char const* to_string(breaker_state s)
{
  switch (s) {
  case breaker_state::closed: return "closed";
  case breaker_state::open: return "open";
  case breaker_state::half_open: return "half_open";
  }
  return "?";
}

// ---------------------------------------------------------------- the error

// What a refused call completes with: an error of the breaker's own, so a
// caller tells "the breaker refused" (the upstream was not asked) from "the
// upstream failed" (an Asio or Beast error, or a 5xx).
enum class breaker_errc {
  open = 1,  // the circuit is open: the call was refused without reaching the upstream
};

// Yours to define in breaker.cpp: the category of breaker_errc, one object
// for the whole program. Its name() is the breaker's own (not "generic" or
// "system"), and message(1) says that the circuit is open.
boost::system::error_category const& breaker_category() noexcept;

inline boost::system::error_code make_error_code(breaker_errc e) noexcept
{
  return {static_cast<int>(e), breaker_category()};
}

} // namespace task18

// So that `ec == task18::breaker_errc::open` compiles, and means "this error
// of this category".
template <>
struct boost::system::is_error_code_enum<task18::breaker_errc> : std::true_type {};

namespace task18 {

// ---------------------------------------------------------------- the options

using clock_type = std::chrono::steady_clock;

struct breaker_options {
  // Consecutive failures that open the breaker (at least 1).
  unsigned failure_threshold = 5;
  // How long the breaker stays open before it lets one probe through.
  clock_type::duration reset_period = std::chrono::seconds(30);
  // Where the breaker reads the time, every time it needs it. The tests
  // pass a clock that moves only when they say so.
  std::function<clock_type::time_point()> clock = &clock_type::now;
  // Called once for each transition, in the order they happen, with the
  // state left and the state entered. Not called when nothing changes. It
  // may call state(), which then returns `to`; it must not throw, and must
  // not call async_round_trip. (Say in NOTES.md on which thread it runs in
  // your breaker, and whether under a lock.)
  std::function<void(breaker_state from, breaker_state to)> on_state_change;
};

// ---------------------------------------------------------------- the breaker

// A round tripper that wraps another (`inner`: a transport, a retrier,
// another breaker) and stops calling it while it is failing.
//
// Every call's outcome is judged by what the inner call completed with:
//   - a failure:  an error (connection refused, a timeout, a reset...), other
//                 than operation_aborted; or a response whose status is a 5xx
//                 (http::to_status_class says server_error);
//   - neither:    a response with a 4xx (the caller's mistake says nothing
//                 about the upstream's health); or operation_aborted (the
//                 call was cancelled by its caller, who gave up: the upstream
//                 did not fail);
//   - a success:  a response with any other status.
//
// closed     Every call goes to `inner`. A failure adds one to a count of
//            consecutive failures, a success sets the count back to 0, and
//            "neither" leaves it as it is. The failure that brings the count
//            to failure_threshold opens the breaker, at that moment by
//            options.clock.
// open       Every call completes with breaker_errc::open and never reaches
//            `inner`, until reset_period has passed since the breaker opened
//            (opened + reset_period <= clock(): then, not a moment before).
//            The first call after that moves the breaker to half_open and
//            is the probe: it goes to `inner`. (The move is made by that
//            call, when it arrives: no timer. Until a call arrives, state()
//            says open, however long ago the period ended.)
// half_open  Exactly one call is in flight to `inner`, the probe; every
//            other call completes with breaker_errc::open, however many
//            arrive at once, from however many threads. The probe's outcome
//            decides: a success closes the breaker (the count starts again
//            from 0); a failure opens it again, with reset_period counted
//            from the moment of that failure; "neither" (a 4xx, a cancelled
//            probe) decides nothing: the breaker stays half_open and the next
//            call is the probe.
//
// Only the outcome of a call made in the current state counts: a call that
// went through while the breaker was closed and completes after it opened
// (or after it was half-open, or closed again) changes nothing.
//
// A call that goes through completes with exactly what `inner` completed
// with (the error, or the response: status, fields, body), and its outcome
// has been counted by the time its handler runs: a handler that sees the
// failure that opened the breaker sees state() == open. The caller's handler
// runs on its own associated executor (or on `executor` when it has none),
// never inside async_round_trip, never under a lock of the breaker: it may
// call the breaker again. Cancelling a call through its handler's
// cancellation slot cancels the inner call.
//
// Safe to call from any number of threads at once. `inner` must outlive the
// breaker and every call made through it; the breaker itself may be
// destroyed while calls are in flight.
class circuit_breaker : public workbook::round_tripper {
public:
  circuit_breaker(boost::asio::any_io_executor executor, workbook::round_tripper& inner,
                  breaker_options options = {});
  ~circuit_breaker() override;
  circuit_breaker(circuit_breaker const&) = delete;
  circuit_breaker& operator=(circuit_breaker const&) = delete;

  // The state now. Safe to call from any thread, and from on_state_change.
  breaker_state state() const;

  // Yours to define in breaker.cpp: what the breaker keeps.
  struct impl;

protected:
  void do_round_trip(workbook::client_request request, workbook::round_trip_handler handler) override;

private:
  std::shared_ptr<impl> impl_;  // shared with the calls in flight
};

} // namespace task18
