// Task 19 · your retrier. Start with README.md; the steps there match the
// TODOs here. Run `grader task-19` after each step.
//
// As it stands the retrier sends each request once, through the inner
// round tripper, and hands back whatever comes back: it compiles, runs,
// and fails every criterion.
#include "retry.hpp"

#include <boost/asio.hpp>
#include <boost/beast/http.hpp>

#include <utility>

namespace task19 {

namespace http = boost::beast::http;
using workbook::client_request;
using workbook::client_response;

struct retrier::state {
  asio::any_io_executor executor;
  workbook::round_tripper& inner;
  retry_options options;
  // TODO (step 3): where the jitter comes from when options.random is
  // empty, and what makes the draws of calls that overlap on several
  // threads come one at a time.
};

// TODO (step 2): which requests may be sent twice, and which outcomes are
// worth another attempt? RFC 9110 §9.2.2 lists the methods; the contract
// adds a field. What is operation_aborted?

// TODO (step 3): the delay after attempt n: the ceiling min(cap,
// base × 2^(n−1)) for any n up to 100, then one draw of full jitter.

// TODO (step 5): the delay a 503's Retry-After asks for, in seconds or as
// an HTTP-date measured against options.now, scaled and capped; nothing
// when the value is neither.

retrier::retrier(asio::any_io_executor executor, workbook::round_tripper& inner, retry_options options)
    : state_(std::make_shared<state>(state{std::move(executor), inner, std::move(options)}))
{
}

retrier::~retrier() = default;

void retrier::do_round_trip(client_request request, workbook::round_trip_handler handler)
{
  // TODO (step 1): run the call as a sequence of attempts of your own (a
  // coroutine with asio::co_spawn, or a small operation object with
  // callbacks) on state_->executor, completing `handler` on its associated
  // executor. Before the first attempt consumes the request, keep what a
  // later attempt needs of it.
  // TODO (step 2): after each attempt, decide: complete, or try again?
  // TODO (step 4): sleep between attempts on an asio::steady_timer that the
  // caller's cancellation slot can interrupt, and once the caller has
  // cancelled, start nothing more.
  // TODO (step 6): a later attempt's body comes from request.body_factory;
  // without one, a body can be sent only once.
  // TODO (step 7): every attempt goes out as the caller asked, kept alive.
  state_->inner.async_round_trip(std::move(request), std::move(handler));
}

} // namespace task19
