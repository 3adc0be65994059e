// Task 19 · reference.
//
// One call is one coroutine, from the first attempt to the last, so the
// rules read in the order they apply: send, look at what came back, decide
// whether another attempt may help and is allowed, choose the delay, sleep,
// send again. The coroutine runs on the retrier's executor with the
// caller's cancellation slot wired in, so a cancellation reaches whatever
// it is waiting for, the attempt or the sleep, and the coroutine checks
// after every wait whether the caller has cancelled before it does anything
// more. What the delay is made of (the draw, the ceiling, Retry-After) is a
// handful of small functions above it, each one line of the contract.
#include "retry.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <random>
#include <string_view>
#include <tuple>
#include <utility>

namespace task19 {

namespace http = boost::beast::http;
using workbook::client_request;
using workbook::client_response;
using system_time = std::chrono::system_clock::time_point;

struct retrier::state {
  state(asio::any_io_executor ex, workbook::round_tripper& in, retry_options o)
      : executor(std::move(ex)), inner(in), options(std::move(o))
  {
    if (!options.random) engine.seed(std::random_device{}());
  }

  asio::any_io_executor executor;
  workbook::round_tripper& inner;
  retry_options const options;

  // The jitter's one source. Calls overlap on several threads, and neither
  // a std::mt19937_64 nor the function a caller injects is safe to call
  // from two threads at once, so every draw takes the lock.
  double draw()
  {
    std::lock_guard lock(random_mutex);
    if (options.random) return options.random();
    // The top 53 bits of the engine's output, as a double in [0, 1).
    return static_cast<double>(engine() >> 11) * 0x1.0p-53;
  }

private:
  std::mutex random_mutex;
  std::mt19937_64 engine;  // only when options.random is empty
};

namespace {

// ---------------------------------------------------------------- what may be retried

// RFC 9110 §9.2.2: sending one of these twice has the effect of sending it
// once. A request of another method is idempotent only when its sender
// says so, with a key the server uses to recognise the repetition.
bool idempotent(http::request_header<> const& request)
{
  switch (request.method()) {
  case http::verb::get:
  case http::verb::head:
  case http::verb::options:
  case http::verb::trace:
  case http::verb::put:
  case http::verb::delete_: return true;
  default: return request.find("Idempotency-Key") != request.end();
  }
}

// A transport failure, or a 5xx: the next attempt may fare better. A 4xx
// is the request's own fault and will fail the same way again, and
// operation_aborted means someone asked the attempt to stop.
bool worth_retrying(error_code ec, client_response const& response)
{
  if (ec) return ec != asio::error::operation_aborted;
  return http::to_status_class(response.result_int()) == http::status_class::server_error;
}

// ---------------------------------------------------------------- the delay

// min(cap, base × 2^(n−1)), doubling only while the ceiling is below the
// cap: a product that would pass the cap is never formed, so a hundred
// attempts cannot overflow it into a negative or wrapped duration.
microseconds ceiling(retry_options const& o, int n)
{
  microseconds c = std::min(o.base, o.cap);
  for (int i = 1; i < n && c < o.cap; ++i) c = c > o.cap / 2 ? o.cap : c * 2;
  return c;
}

// Full jitter: anywhere in [0, ceiling), so that clients that failed
// together spread their retries over the whole window instead of coming
// back at the same instant.
microseconds jittered(double u, microseconds ceiling)
{
  return microseconds(static_cast<microseconds::rep>(u * static_cast<double>(ceiling.count())));
}

// s seconds of Retry-After, in this retrier's time, at most the cap.
microseconds scaled(double seconds, retry_options const& o)
{
  double const us = std::max(0.0, seconds) * static_cast<double>(o.retry_after_unit.count());
  if (us >= static_cast<double>(o.cap.count())) return o.cap;
  return microseconds(static_cast<microseconds::rep>(us));
}

// A field of a date: decimal digits only, all of them.
std::optional<int> digits(std::string_view s)
{
  int value = 0;
  auto const [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size() || s.empty() || s.front() == '-') return std::nullopt;
  return value;
}

// IMF-fixdate, the form of HTTP-date a sender must use (RFC 9110 §5.6.7):
// "Sun, 06 Nov 1994 08:49:37 GMT", always 29 characters. The two obsolete
// forms a recipient may accept are refused here, which the contract allows.
std::optional<system_time> parse_imf_fixdate(std::string_view v)
{
  using namespace std::chrono;
  static constexpr std::array<std::string_view, 7> day_names{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr std::array<std::string_view, 12> month_names{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (v.size() != 29 || v.substr(3, 2) != ", " || v[7] != ' ' || v[11] != ' ' || v[16] != ' ' || v[19] != ':' ||
      v[22] != ':' || v.substr(25) != " GMT")
    return std::nullopt;
  if (std::find(day_names.begin(), day_names.end(), v.substr(0, 3)) == day_names.end()) return std::nullopt;
  auto const month = std::find(month_names.begin(), month_names.end(), v.substr(8, 3));
  auto const d = digits(v.substr(5, 2)), y = digits(v.substr(12, 4));
  auto const h = digits(v.substr(17, 2)), m = digits(v.substr(20, 2)), s = digits(v.substr(23, 2));
  if (month == month_names.end() || !d || !y || !h || !m || !s || *h > 23 || *m > 59 || *s > 60) return std::nullopt;
  year_month_day const date{year{*y}, std::chrono::month{static_cast<unsigned>(month - month_names.begin() + 1)},
                            day{static_cast<unsigned>(*d)}};
  if (!date.ok()) return std::nullopt;
  return sys_days{date} + hours{*h} + minutes{*m} + seconds{*s};
}

// The delay a 503's Retry-After asks for (RFC 9110 §10.2.3), or nothing
// when there is none to honour and the delay is jittered.
std::optional<microseconds> retry_after(client_response const& response, retry_options const& o)
{
  if (response.result() != http::status::service_unavailable) return std::nullopt;
  auto const field = response.find(http::field::retry_after);
  if (field == response.end()) return std::nullopt;
  std::string_view const value = field->value();

  // delta-seconds: 1*DIGIT. A number too large for any type is still a
  // valid, very long wait: the cap.
  if (!value.empty() && std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::uint64_t s = 0;
    auto const [end, ec] = std::from_chars(value.data(), value.data() + value.size(), s);
    if (ec == std::errc::result_out_of_range) return o.cap;
    return scaled(static_cast<double>(s), o);
  }
  // An HTTP-date, measured against the injected clock: the tests fix
  // "now", so the delay a date gives is known without looking at a watch.
  if (auto const date = parse_imf_fixdate(value)) {
    auto const now = o.now ? o.now() : std::chrono::system_clock::now();
    return scaled(std::chrono::duration<double>(*date - now).count(), o);
  }
  return std::nullopt;
}

// ---------------------------------------------------------------- the call

using outcome = std::tuple<error_code, client_response>;

outcome aborted() { return {asio::error::operation_aborted, client_response{}}; }

asio::awaitable<outcome> run(std::shared_ptr<retrier::state> self, client_request request)
{
  auto const& o = self->options;
  int const attempts = std::max(1, o.max_attempts);
  // The inner round tripper consumes the message. What later attempts need
  // of it is kept now: the header as it is (method, target, version and
  // every field, Connection included, so a retry goes out kept-alive like
  // the first attempt) and the factory that makes the body again.
  http::request_header<> const header = request.message.base();
  bool const may_retry = idempotent(header);
  bool const has_body = !request.message.body().empty();
  auto const factory = request.body_factory;
  asio::steady_timer timer(co_await asio::this_coro::executor);

  // Whether the caller has cancelled is a decision this loop makes itself,
  // after every wait, and answers with an error code: Asio's default would
  // throw operation_aborted at the next co_await instead. The state
  // remembers a cancellation after the operation it interrupted has
  // completed, and also one that interrupted nothing: a 500 can arrive in
  // the same instant as the cancellation, and must not start another
  // attempt.
  co_await asio::this_coro::throw_if_cancelled(false);
  auto const cancellation = co_await asio::this_coro::cancellation_state;
  auto const cancelled = [&cancellation] { return cancellation.cancelled() != asio::cancellation_type::none; };

  for (int attempt = 1;; ++attempt) {
    auto [ec, response] =
        co_await self->inner.async_round_trip(std::move(request), asio::as_tuple(asio::use_awaitable));
    if (cancelled()) co_return aborted();
    if (!may_retry || attempt == attempts || !worth_retrying(ec, response)) co_return outcome{ec, std::move(response)};
    if (has_body && !factory) co_return outcome{retry_error::body_not_replayable, client_response{}};

    // The delay: the server's, if a 503 names one, else full jitter.
    retry_event event;
    event.attempt = attempt;
    event.status = ec ? 0 : static_cast<int>(response.result_int());
    event.error = ec;
    auto const asked = ec ? std::nullopt : retry_after(response, o);
    event.from_retry_after = asked.has_value();
    event.delay = asked ? *asked : jittered(self->draw(), ceiling(o, attempt));
    if (o.on_retry) o.on_retry(event);

    // The sleep is an asynchronous wait, so a cancellation ends it at once
    // (operation_aborted), and the thread serves other calls meanwhile.
    timer.expires_after(event.delay);
    auto [waited] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (waited || cancelled()) co_return aborted();

    request = client_request{http::request<http::string_body>(header), factory};
    if (factory) request.message.body() = factory();
  }
}

} // namespace

retrier::retrier(asio::any_io_executor executor, workbook::round_tripper& inner, retry_options options)
    : state_(std::make_shared<state>(std::move(executor), inner, std::move(options)))
{
}

retrier::~retrier() = default;

void retrier::do_round_trip(client_request request, workbook::round_trip_handler handler)
{
  // The coroutine runs on the retrier's executor; the caller hears back on
  // its handler's executor, and its cancellation slot, taken from the
  // handler before the handler is moved into the completion, is bound to
  // the completion so that co_spawn connects it to the coroutine.
  auto slot = asio::get_associated_cancellation_slot(handler);
  auto handler_executor = asio::get_associated_executor(handler, state_->executor);
  auto complete = [handler = std::move(handler)](std::exception_ptr e, outcome result) mutable {
    // Only a body_factory or an on_retry that throws gets here with e.
    if (e) return std::move(handler)(asio::error::fault, client_response{});
    auto& [ec, response] = result;
    std::move(handler)(ec, std::move(response));
  };
  asio::co_spawn(state_->executor, run(state_, std::move(request)),
                 asio::bind_executor(handler_executor, asio::bind_cancellation_slot(slot, std::move(complete))));
}

} // namespace task19
