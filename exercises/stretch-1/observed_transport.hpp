// Stretch 1 · the contract between your observable transport, the tests and
// the reference. Do not change this file: the tests are compiled against it.
//
// This stretch links your breaker.cpp (task 18) and retry.cpp (task 19):
// see task.cmake.
#pragma once

#include "breaker.hpp"
#include "retry.hpp"

#include <workbook/round_tripper.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <syncstream>
#include <system_error>

namespace stretch1 {

namespace net = boost::asio;
using clock_type = std::chrono::steady_clock;
using wall_clock_type = std::chrono::system_clock;

// ---------------------------------------------------------------- trace context

// One W3C traceparent (Trace Context Level 1, section 3.2), decoded.
struct trace_context {
  std::array<std::uint8_t, 16> trace_id{};
  std::array<std::uint8_t, 8> parent_id{};
  std::uint8_t flags = 0;  // bit 0: sampled
  bool sampled() const noexcept { return (flags & 0x01) != 0; }
};

// Yours. The header's value, decoded, or nullopt when it is not valid:
//   - the version is two lower-case hex digits, and not "ff";
//   - version 00 is exactly "00-" 32 hex "-" 16 hex "-" 2 hex: 55 characters;
//   - a higher version starts with the same 55 characters, then either ends
//     or goes on with a "-" and anything (the fields a later version adds);
//   - hex digits are lower-case only; an all-zero trace id or parent id is
//     invalid.
std::optional<trace_context> parse_traceparent(std::string_view value);

// Yours. Always version 00, lower-case: "00-<32 hex>-<16 hex>-<2 hex>".
std::string format_traceparent(trace_context const& context);

// Where ids come from: fills `out` with random bytes. May be called from
// several threads at once.
using random_source = std::function<void(std::span<std::uint8_t> out)>;

// getrandom(2); throws std::system_error when the kernel refuses. (Given.)
inline void os_random(std::span<std::uint8_t> out)
{
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t const n = ::getrandom(out.data() + done, out.size() - done, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::system_error(errno, std::generic_category(), "getrandom");
    done += static_cast<std::size_t>(n);
  }
}

// ---------------------------------------------------------------- latency

// Yours. A quantile sketch of durations whose answers are within 1 % of the
// truth: for 0 < q <= 1 and n samples between 1 µs and 1 h, quantile(q) is
// within 1 % of the nearest-rank value (the sample at rank ceil(q × n),
// counted from 1, in sorted order). Its memory does not grow with the
// number of samples. A value below 1 µs or above 1 h is placed as 1 µs or
// 1 h (count and sum keep the value as given). Safe to call from any number
// of threads at once.
class latency_sketch {
public:
  latency_sketch();
  ~latency_sketch();
  latency_sketch(latency_sketch const&) = delete;
  latency_sketch& operator=(latency_sketch const&) = delete;

  void record(std::chrono::nanoseconds d);
  std::uint64_t count() const;
  std::chrono::nanoseconds sum() const;               // exact
  std::chrono::nanoseconds quantile(double q) const;  // 0 when empty

  struct state;  // yours
private:
  std::unique_ptr<state> state_;
};

// ---------------------------------------------------------------- metrics

// Yours. What the transport counts, written by exposition() in the
// Prometheus text format 0.0.4:
//
//   http_client_requests_total{client,host,method,status}        counter
//       attempts that ended: status is the response's three digits
//       (result_int(): a 520 is "520"), "error" for a transport failure,
//       "cancelled" for an attempt its caller cancelled
//   http_client_requests_in_flight{client,host}                  gauge
//       attempts started and not yet ended
//   http_client_request_duration_seconds{client,host,quantile}   summary
//       quantile "0.5", "0.95", "0.99", then _sum and _count: the attempts
//       that ended with a response or a transport failure (not cancelled),
//       timed by options.clock
//   http_client_connections_total{client,host,reused}            counter
//       reused "true" or "false", from the transport's client_trace reports
//   http_client_connection_reuse_ratio{client,host}              gauge
//       reused / (reused + opened); no sample while both are 0
//   http_client_retries_total{client}                            counter
//   http_client_breaker_refusals_total{client}                   counter
//   http_client_breaker_state{client,state}                      gauge
//       state "closed", "open", "half_open": 1 for the current one, 0 for
//       the others
//
// `host` is the request's Host field as sent ("" when it has none). A series
// is written from the first time something is counted in it (an in-flight
// gauge from its first attempt, even once back to 0), never before. A family
// is written once it has a sample: one "# HELP" and one "# TYPE" line, then
// all its samples together. Label values escape \, " and line feed. Numbers
// are written in the shortest form that reads back as the same double
// (std::to_chars). The retry and breaker families appear once their option
// is set. Safe to use from any thread.
class metrics_registry {
public:
  metrics_registry();
  ~metrics_registry();
  metrics_registry(metrics_registry const&) = delete;
  metrics_registry& operator=(metrics_registry const&) = delete;

  std::string exposition() const;

  struct state;  // yours
  // For your transport; the tests never call it.
  state& internals() const noexcept { return *state_; }

private:
  std::shared_ptr<state> state_;
};

// ---------------------------------------------------------------- spans and logs

// One finished span, as OpenTelemetry's HTTP client conventions shape it: a
// call span for what the caller asked, and an attempt span, its child, for
// each request sent upstream.
struct span_record {
  enum class kind_type { call, attempt };
  kind_type kind = kind_type::call;
  std::string trace_id;        // 32 lower-case hex digits
  std::string span_id;         // 16
  std::string parent_span_id;  // 16, or "" for the call span of a new trace
  std::uint8_t flags = 0;
  clock_type::time_point start{}, end{};  // options.clock
  std::string method;
  std::string host;
  int status = 0;  // the response's status; 0 without one
  // "" below 500; else the status ("503"), "cancelled", "breaker_open", or
  // "<category name>:<value>" of a transport error ("system:111").
  std::string error_type;
  int resend_count = 0;  // attempt spans: 0 for a call's first attempt
  int attempts = 0;      // call spans: attempts sent (0 when refused)
};

// Each called once per span or line. May be called from several threads at
// once; a log line comes without its line feed.
using span_sink = std::function<void(span_record const&)>;
using log_sink = std::function<void(std::string_view line)>;

// The default log sink: one whole line on std::clog, whatever other threads
// write at the same time. (Given.)
inline void clog_sink(std::string_view line) { std::osyncstream(std::clog) << line << '\n'; }

struct observe_options {
  std::string client = "default";            // the `client` label of every series
  std::shared_ptr<metrics_registry> registry;  // null: a registry of the transport's own
  std::function<clock_type::time_point()> clock = &clock_type::now;
  std::function<wall_clock_type::time_point()> wall_clock = &wall_clock_type::now;
  random_source random = os_random;
  log_sink log = clog_sink;                  // empty: no log lines
  // Empty: each span goes to `log` as a JSON object with "msg":"span" and
  // the record's fields, so the default options give logs and traces both.
  span_sink on_span;
  std::optional<task18::breaker_options> breaker;  // a breaker, outside the retrier
  std::optional<task19::retry_options> retry;      // a retrier, inside the breaker
};

// Yours. A round tripper that observes every call and every attempt:
//
//   caller → call layer → [breaker] → [retrier] → attempt layer → inner
//
// The call layer decides the call's trace. When the request has exactly one
// traceparent field and it is valid, the call span continues it (the same
// trace id, the header's parent id as its parent, the sampled bit of its
// flags and no other) and a tracestate field is passed on unchanged;
// otherwise the call starts a new trace (ids from `random`, an all-zero draw
// drawn again, flags 01) and any tracestate is removed. It writes the call
// span's context into the request's traceparent for the layers below. When
// the call ends, it exports the call span (sampled calls only) and writes
// one log line.
//
// Ids: each one draw of `random` of its own size (16 bytes for a trace id, 8
// for a span id), a new trace's id before its call span's; any all-zero draw
// is drawn again.
//
// The attempt layer, for every request sent to `inner`: a span id of its own
// from `random`; traceparent set to (the trace id, its span id, the flags),
// replacing the call layer's; a client_trace on the request that reports
// the connection; when the attempt ends, it is counted (status, latency,
// connection) and its span exported (sampled calls only).
//
// The log line, one JSON object: time (RFC 3339, UTC, to the millisecond,
// truncated, from wall_clock: "2026-11-30T09:29:00.123Z"), level ("info" below 500, "warn"
// for a 5xx or a breaker's refusal, "error" for a transport failure; a
// cancelled call is "info"), msg ("http client call"), client, method, host,
// path (the target without its query), status (a number; only when there
// was a response), error (the error's message; only when there was none),
// outcome ("response", "error", "cancelled", "refused"), attempts,
// duration_ms (options.clock, the whole call, a number with its fraction:
// 40.5), trace_id, span_id
// (the call span's). Nothing else from the request: no query, no fields.
//
// Everything a call produces is recorded before the caller's handler runs.
// The handler runs on its own associated executor (or on `executor`), never
// inside async_round_trip, never under a lock of yours; cancelling through
// its slot cancels whatever is pending (an attempt, a retry's sleep) and the
// call completes with operation_aborted. Safe to call from any thread.
// `inner` must outlive the transport; destroy the transport once no call is
// in flight (the retrier's rule, task 19).
class observed_transport : public workbook::round_tripper {
public:
  observed_transport(net::any_io_executor executor, workbook::round_tripper& inner, observe_options options = {});
  // Owns a workbook::plain_transport to `upstream`: plain_transport's own
  // parameters first, so that one type can replace the other.
  observed_transport(net::any_io_executor executor, net::ip::tcp::endpoint upstream, observe_options options = {});
  ~observed_transport() override;
  observed_transport(observed_transport const&) = delete;
  observed_transport& operator=(observed_transport const&) = delete;

  metrics_registry& metrics() const;
  std::shared_ptr<metrics_registry> shared_metrics() const;

  struct impl;  // yours

protected:
  void do_round_trip(workbook::client_request request, workbook::round_trip_handler handler) override;

private:
  std::shared_ptr<impl> impl_;
};

// Yours. GET /metrics over HTTP/1.1, keep-alive: 200 with Content-Type
// "text/plain; version=0.0.4; charset=utf-8" and the registry's
// exposition(); any other target 404; any other method on /metrics 405 with
// "Allow: GET". Listens on a loopback address only (ip::address::is_loopback:
// 127.0.0.0/8, ::1): any other address throws std::invalid_argument before
// anything is bound. Keeps the registry
// alive.
class metrics_endpoint {
public:
  metrics_endpoint(net::any_io_executor executor, std::shared_ptr<metrics_registry const> registry,
                   net::ip::tcp::endpoint listen_on);
  ~metrics_endpoint();  // stops accepting and closes its connections
  metrics_endpoint(metrics_endpoint const&) = delete;
  metrics_endpoint& operator=(metrics_endpoint const&) = delete;

  net::ip::tcp::endpoint local_endpoint() const;  // with the real port

  struct state;  // yours
private:
  std::shared_ptr<state> state_;
};

} // namespace stretch1
