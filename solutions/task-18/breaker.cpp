// Task 18 · the reference circuit breaker.
//
// One mutex guards the whole state machine: the state, the failure count,
// when the breaker opened, whether a probe is out, and a generation number
// that changes with every transition. A call takes it twice, briefly: once
// to be admitted (or refused), once to have its outcome counted. Neither
// the upstream call nor the caller's handler ever runs under it.
#include "breaker.hpp"

#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/status.hpp>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>

namespace task18 {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

// ---------------------------------------------------------------- the error

namespace {

class breaker_error_category : public boost::system::error_category {
public:
  char const* name() const noexcept override { return "task18.breaker"; }

  std::string message(int ev) const override
  {
    switch (static_cast<breaker_errc>(ev)) {
    case breaker_errc::open: return "circuit breaker open: the call was refused without reaching the upstream";
    }
    return "task18.breaker error";
  }
};

} // namespace

boost::system::error_category const& breaker_category() noexcept
{
  // One object for the program: error codes compare their categories by address.
  static breaker_error_category const category;
  return category;
}

// ---------------------------------------------------------------- judging an outcome

namespace {

enum class verdict { failure, success, neither };

verdict judge(error_code ec, workbook::client_response const& response)
{
  // The caller gave up; the upstream did not fail. Counting it would let a
  // caller with a short deadline open the breaker on a healthy upstream.
  if (ec == asio::error::operation_aborted) return verdict::neither;
  if (ec) return verdict::failure;
  // The number, not result(): result() turns a status Beast has no name for
  // (520, 418) into status::unknown, whose class is unknown.
  switch (http::to_status_class(response.result_int())) {
  case http::status_class::server_error: return verdict::failure;
  case http::status_class::client_error: return verdict::neither;  // the caller's mistake, not the upstream's health
  default: return verdict::success;
  }
}

} // namespace

// ---------------------------------------------------------------- the state machine

struct circuit_breaker::impl {
  asio::any_io_executor executor;
  workbook::round_tripper& inner;
  breaker_options options;

  // What admit() hands a call that may go through: the generation it was
  // admitted in. Its outcome counts only if the breaker is still in that
  // generation when it completes.
  struct ticket {
    bool admitted = false;
    std::uint64_t generation = 0;
  };

  std::mutex mutex;
  // Written only under `mutex`; atomic so that state() can read it without
  // the lock (from on_state_change too, which runs under it).
  std::atomic<breaker_state> current{breaker_state::closed};
  unsigned failures = 0;              // consecutive failures, while closed
  clock_type::time_point opened_at{}; // when the breaker last opened
  bool probe_out = false;             // half_open: the probe is in flight
  std::uint64_t generation = 0;       // one more at every transition

  impl(asio::any_io_executor ex, workbook::round_tripper& in, breaker_options o)
      : executor(std::move(ex)), inner(in), options(std::move(o))
  {
  }

  // Decides whether a call goes through. The check and the claim happen in
  // one critical section: two callers cannot both see "open, period over"
  // and both become the probe.
  ticket admit()
  {
    std::lock_guard lock(mutex);
    switch (current.load(std::memory_order_relaxed)) {
    case breaker_state::closed:
      return {true, generation};
    case breaker_state::open:
      if (options.clock() - opened_at < options.reset_period) return {};
      move_to(breaker_state::half_open);
      probe_out = true;
      return {true, generation};
    case breaker_state::half_open:
      if (probe_out) return {};
      probe_out = true;  // the last probe decided nothing (a 4xx, a cancel): this call is the next one
      return {true, generation};
    }
    return {};
  }

  // Counts a call's outcome.
  void record(ticket t, verdict v)
  {
    std::lock_guard lock(mutex);
    // Admitted before the last transition: its outcome is about a state the
    // breaker has left. A success that began before the breaker opened must
    // not close it, and a failure from before the probe must not override
    // the probe.
    if (t.generation != generation) return;
    switch (current.load(std::memory_order_relaxed)) {
    case breaker_state::closed:
      if (v == verdict::success) failures = 0;
      else if (v == verdict::failure && ++failures >= options.failure_threshold) open_now();
      break;
    case breaker_state::half_open:  // in this generation only the probe went through
      probe_out = false;
      if (v == verdict::success) move_to(breaker_state::closed);
      else if (v == verdict::failure) open_now();
      break;
    case breaker_state::open:  // no call is admitted in open, so no ticket of this generation exists
      break;
    }
  }

  // Under the lock.
  void open_now()
  {
    opened_at = options.clock();  // the period runs from this failure, the probe's included
    move_to(breaker_state::open);
  }

  // Under the lock: so transitions are reported one at a time, in the order
  // they happen, and state() already says `to` when the callback runs.
  void move_to(breaker_state to)
  {
    breaker_state const from = current.load(std::memory_order_relaxed);
    current.store(to, std::memory_order_release);
    ++generation;
    failures = 0;
    if (options.on_state_change) options.on_state_change(from, to);
  }
};

circuit_breaker::circuit_breaker(asio::any_io_executor executor, workbook::round_tripper& inner,
                                 breaker_options options)
    : impl_(std::make_shared<impl>(std::move(executor), inner, std::move(options)))
{
}

circuit_breaker::~circuit_breaker() = default;

breaker_state circuit_breaker::state() const { return impl_->current.load(std::memory_order_acquire); }

void circuit_breaker::do_round_trip(workbook::client_request request, workbook::round_trip_handler handler)
{
  auto const ticket = impl_->admit();

  if (!ticket.admitted) {
    // Refused: the upstream is not asked. The handler still runs on its own
    // executor, and later, never inside this call: post queues it on the
    // breaker's executor, from where it is dispatched to the handler's. A
    // caller that holds a lock while it calls, or calls again from its
    // handler, must not find itself re-entered.
    asio::post(impl_->executor,
               asio::append(std::move(handler), make_error_code(breaker_errc::open), workbook::client_response{}));
    return;
  }

  // Through: the inner call completes our handler, which counts the outcome
  // and then hands it on unchanged. It carries the caller's executor (so the
  // inner call completes there) and the caller's cancellation slot (so
  // cancelling the caller cancels the inner call): a plain lambda would have
  // neither, and the inner call would complete on its own executor and
  // never hear of a cancellation.
  auto const executor = asio::get_associated_executor(handler, impl_->executor);
  auto const slot = asio::get_associated_cancellation_slot(handler);
  impl_->inner.async_round_trip(
      std::move(request),
      asio::bind_executor(executor, asio::bind_cancellation_slot(
          slot, [self = impl_, ticket, handler = std::move(handler)](error_code ec,
                                                                     workbook::client_response response) mutable {
            self->record(ticket, judge(ec, response));    // takes and releases the lock
            std::move(handler)(ec, std::move(response));  // outside it
          })));
}

} // namespace task18
