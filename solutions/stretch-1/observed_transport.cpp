// Stretch 1 · reference: an observable transport.
//
// Read it top to bottom: the trace context (pure functions), the latency
// sketch, the registry and its exposition, then the two layers that record
// into them, and the transport that stacks the layers in the contract's
// order:
//
//   caller → call layer → [breaker] → [retrier] → attempt layer → inner
//
// Each layer stands between two handlers and records before it hands the
// outcome on, so that whatever a call produced is there when the caller's
// handler runs.
#include "observed_transport.hpp"

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <tuple>
#include <unordered_map>
#include <utility>

namespace stretch1 {

namespace http = boost::beast::http;
using boost::system::error_code;
using workbook::client_request;
using workbook::client_response;

// ---------------------------------------------------------------- trace context

namespace {

// Lower-case only: the specification refuses "AB" where it means "ab".
int hex_value(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

template <std::size_t N>
bool parse_hex(std::string_view text, std::array<std::uint8_t, N>& out)
{
  for (std::size_t i = 0; i < N; ++i) {
    int const high = hex_value(text[2 * i]), low = hex_value(text[2 * i + 1]);
    if (high < 0 || low < 0) return false;
    out[i] = static_cast<std::uint8_t>(high * 16 + low);
  }
  return true;
}

template <std::size_t N>
bool all_zero(std::array<std::uint8_t, N> const& id)
{
  return std::all_of(id.begin(), id.end(), [](std::uint8_t b) { return b == 0; });
}

template <class Bytes>
std::string to_hex(Bytes const& bytes)
{
  static constexpr char digits[] = "0123456789abcdef";
  std::string text;
  for (std::uint8_t b : bytes) {
    text += digits[b >> 4];
    text += digits[b & 0x0f];
  }
  return text;
}

} // namespace

std::optional<trace_context> parse_traceparent(std::string_view value)
{
  // "vv-<32>-<16>-ff": the dashes at 2, 35 and 52.
  constexpr std::size_t length = 55;
  if (value.size() < length) return std::nullopt;
  std::array<std::uint8_t, 1> version{}, flags{};
  if (!parse_hex(value.substr(0, 2), version) || version[0] == 0xff) return std::nullopt;
  if (version[0] == 0 && value.size() != length) return std::nullopt;
  if (value.size() > length && value[length] != '-') return std::nullopt;
  if (value[2] != '-' || value[35] != '-' || value[52] != '-') return std::nullopt;
  trace_context context;
  if (!parse_hex(value.substr(3, 32), context.trace_id) || !parse_hex(value.substr(36, 16), context.parent_id) ||
      !parse_hex(value.substr(53, 2), flags))
    return std::nullopt;
  if (all_zero(context.trace_id) || all_zero(context.parent_id)) return std::nullopt;
  context.flags = flags[0];
  return context;
}

std::string format_traceparent(trace_context const& context)
{
  return "00-" + to_hex(context.trace_id) + "-" + to_hex(context.parent_id) + "-" +
         to_hex(std::array<std::uint8_t, 1>{context.flags});
}

// ---------------------------------------------------------------- latency

// Buckets at powers of gamma = (1 + a) / (1 - a): every value of bucket i,
// (gamma^(i-1), gamma^i] µs, lies within a of the bucket's estimate
// 2 gamma^i / (gamma + 1) (DDSketch). a is a little under the contract's 1 %,
// leaving room for the rounding of the logarithm and of the estimate to a
// whole nanosecond.
namespace {

constexpr double accuracy = 0.0095;
double const gamma_ = (1 + accuracy) / (1 - accuracy);
double const log_gamma = std::log(gamma_);
constexpr double lowest_ns = 1e3;           // 1 µs
constexpr double highest_ns = 3600e9;       // 1 h
std::size_t const bucket_count = static_cast<std::size_t>(std::ceil(std::log(highest_ns / lowest_ns) / log_gamma)) + 1;

std::size_t bucket_of(std::chrono::nanoseconds d)
{
  double const ns = std::clamp(static_cast<double>(d.count()), lowest_ns, highest_ns);
  auto const i = static_cast<std::size_t>(std::max(0.0, std::ceil(std::log(ns / lowest_ns) / log_gamma)));
  return std::min(i, bucket_count - 1);
}

std::chrono::nanoseconds estimate_of(std::size_t bucket)
{
  double const upper = lowest_ns * std::pow(gamma_, static_cast<double>(bucket));
  return std::chrono::nanoseconds(std::llround(2 * upper / (gamma_ + 1)));
}

} // namespace

struct latency_sketch::state {
  mutable std::mutex mutex;  // count and sum are read together with the buckets
  std::vector<std::uint64_t> buckets = std::vector<std::uint64_t>(bucket_count);
  std::uint64_t count = 0;
  std::chrono::nanoseconds sum{};
};

latency_sketch::latency_sketch() : state_(std::make_unique<state>()) {}
latency_sketch::~latency_sketch() = default;

void latency_sketch::record(std::chrono::nanoseconds d)
{
  std::size_t const bucket = bucket_of(d);
  std::lock_guard lock(state_->mutex);
  ++state_->buckets[bucket];
  ++state_->count;
  state_->sum += d;
}

std::uint64_t latency_sketch::count() const
{
  std::lock_guard lock(state_->mutex);
  return state_->count;
}

std::chrono::nanoseconds latency_sketch::sum() const
{
  std::lock_guard lock(state_->mutex);
  return state_->sum;
}

std::chrono::nanoseconds latency_sketch::quantile(double q) const
{
  std::lock_guard lock(state_->mutex);
  if (state_->count == 0) return {};
  // The nearest rank, counted from 1.
  auto const rank = std::clamp<std::uint64_t>(
      static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(state_->count))), 1, state_->count);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < state_->buckets.size(); ++i) {
    seen += state_->buckets[i];
    if (seen >= rank) return estimate_of(i);
  }
  return estimate_of(state_->buckets.size() - 1);
}

// ---------------------------------------------------------------- metrics

// What the layers record, under one lock: a scrape sees a whole call or none of it.
struct metrics_registry::state {
  using host_key = std::pair<std::string, std::string>;  // client, host
  std::mutex mutex;
  std::map<std::tuple<std::string, std::string, std::string, std::string>, std::uint64_t> requests;  // + method, status
  std::map<host_key, std::int64_t> in_flight;
  std::map<host_key, std::unique_ptr<latency_sketch>> durations;
  std::map<std::tuple<std::string, std::string, bool>, std::uint64_t> connections;  // + reused
  std::map<std::string, std::uint64_t> retries;
  std::map<std::string, std::uint64_t> refusals;
  std::map<std::string, task18::breaker_state> breaker_states;
};

metrics_registry::metrics_registry() : state_(std::make_shared<state>()) {}
metrics_registry::~metrics_registry() = default;

namespace {

std::string escape_label(std::string_view value)
{
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

using labels = std::vector<std::pair<std::string_view, std::string_view>>;

std::string number(double v)
{
  std::array<char, 32> buffer{};
  auto const end = std::to_chars(buffer.data(), buffer.data() + buffer.size(), v).ptr;
  return std::string(buffer.data(), end);
}

double seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

// One family: its two comment lines, then its samples, together.
class family_writer {
public:
  family_writer(std::string& out, std::string_view name, std::string_view type, std::string_view help)
      : out_(out)
  {
    out_ += "# HELP " + std::string(name) + " " + std::string(help) + "\n";
    out_ += "# TYPE " + std::string(name) + " " + std::string(type) + "\n";
  }
  void sample(std::string_view name, labels const& l, std::string_view value)
  {
    out_ += name;
    char separator = '{';
    for (auto const& [key, v] : l) {
      out_ += separator;
      out_ += std::string(key) + "=\"" + escape_label(v) + "\"";
      separator = ',';
    }
    if (!l.empty()) out_ += '}';
    out_ += " " + std::string(value) + "\n";
  }

private:
  std::string& out_;
};

void write_requests(std::string& out, metrics_registry::state const& s)
{
  if (s.requests.empty()) return;
  family_writer f(out, "http_client_requests_total", "counter", "Requests sent upstream, by how each ended.");
  for (auto const& [key, n] : s.requests) {
    auto const& [client, host, method, status] = key;
    f.sample("http_client_requests_total", {{"client", client}, {"host", host}, {"method", method}, {"status", status}},
             std::to_string(n));
  }
}

void write_in_flight(std::string& out, metrics_registry::state const& s)
{
  if (s.in_flight.empty()) return;
  family_writer f(out, "http_client_requests_in_flight", "gauge", "Requests sent upstream and not yet ended.");
  for (auto const& [key, n] : s.in_flight)
    f.sample("http_client_requests_in_flight", {{"client", key.first}, {"host", key.second}}, std::to_string(n));
}

void write_durations(std::string& out, metrics_registry::state const& s)
{
  if (s.durations.empty()) return;
  constexpr std::string_view name = "http_client_request_duration_seconds";
  family_writer f(out, name, "summary", "Time from sending a request to its answer or failure.");
  for (auto const& [key, sketch] : s.durations) {
    static constexpr std::array<std::pair<double, char const*>, 3> quantiles{{{0.5, "0.5"}, {0.95, "0.95"}, {0.99, "0.99"}}};
    for (auto const& [q, text] : quantiles)
      f.sample(name, {{"client", key.first}, {"host", key.second}, {"quantile", text}},
               number(seconds(sketch->quantile(q))));
    f.sample(std::string(name) + "_sum", {{"client", key.first}, {"host", key.second}}, number(seconds(sketch->sum())));
    f.sample(std::string(name) + "_count", {{"client", key.first}, {"host", key.second}},
             std::to_string(sketch->count()));
  }
}

void write_connections(std::string& out, metrics_registry::state const& s)
{
  if (s.connections.empty()) return;
  {
    family_writer f(out, "http_client_connections_total", "counter", "Connections that carried a request, by reuse.");
    for (auto const& [key, n] : s.connections) {
      auto const& [client, host, reused] = key;
      f.sample("http_client_connections_total",
               {{"client", client}, {"host", host}, {"reused", reused ? "true" : "false"}}, std::to_string(n));
    }
  }
  family_writer f(out, "http_client_connection_reuse_ratio", "gauge", "Share of requests sent on a reused connection.");
  for (auto it = s.connections.begin(); it != s.connections.end();) {
    auto const& [client, host, reused] = it->first;
    std::uint64_t opened = 0, kept = 0;
    for (; it != s.connections.end() && std::get<0>(it->first) == client && std::get<1>(it->first) == host; ++it)
      (std::get<2>(it->first) ? kept : opened) += it->second;
    f.sample("http_client_connection_reuse_ratio", {{"client", client}, {"host", host}},
             number(static_cast<double>(kept) / static_cast<double>(kept + opened)));
  }
}

void write_per_client(std::string& out, std::map<std::string, std::uint64_t> const& counts, std::string_view name,
                      std::string_view help)
{
  if (counts.empty()) return;
  family_writer f(out, name, "counter", help);
  for (auto const& [client, n] : counts) f.sample(name, {{"client", client}}, std::to_string(n));
}

void write_breaker_states(std::string& out, metrics_registry::state const& s)
{
  if (s.breaker_states.empty()) return;
  family_writer f(out, "http_client_breaker_state", "gauge", "The circuit breaker's state: 1 for the current one.");
  for (auto const& [client, current] : s.breaker_states)
    for (auto each : {task18::breaker_state::closed, task18::breaker_state::open, task18::breaker_state::half_open})
      f.sample("http_client_breaker_state", {{"client", client}, {"state", task18::to_string(each)}},
               each == current ? "1" : "0");
}

} // namespace

std::string metrics_registry::exposition() const
{
  std::lock_guard lock(state_->mutex);
  std::string out;
  write_requests(out, *state_);
  write_in_flight(out, *state_);
  write_durations(out, *state_);
  write_connections(out, *state_);
  write_per_client(out, state_->retries, "http_client_retries_total", "Attempts the retrier sent again.");
  write_per_client(out, state_->refusals, "http_client_breaker_refusals_total",
                   "Calls the circuit breaker refused without sending them.");
  write_breaker_states(out, *state_);
  return out;
}

// ---------------------------------------------------------------- spans and logs

namespace {

std::string rfc3339(wall_clock_type::time_point t)
{
  auto const ms = std::chrono::floor<std::chrono::milliseconds>(t);
  std::time_t const secs = wall_clock_type::to_time_t(std::chrono::floor<std::chrono::seconds>(ms));
  std::tm utc{};
  ::gmtime_r(&secs, &utc);
  std::array<char, 40> text{};
  std::snprintf(text.data(), text.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>((ms.time_since_epoch() % std::chrono::seconds(1)).count()));
  return text.data();
}

// How an exchange ended, as the spans, the metrics and the log line say it.
struct outcome {
  enum kind_type { response, error, cancelled, refused } kind;
  int status = 0;
  std::string error_type;  // the span's
  std::string message;     // the log line's "error"

  static outcome of(error_code ec, client_response const& r)
  {
    if (ec == boost::asio::error::operation_aborted) return {cancelled, 0, "cancelled", ec.message()};
    if (ec == task18::breaker_errc::open) return {refused, 0, "breaker_open", ec.message()};
    if (ec) return {error, 0, std::string(ec.category().name()) + ":" + std::to_string(ec.value()), ec.message()};
    int const status = static_cast<int>(r.result_int());
    return {response, status, status >= 500 ? std::to_string(status) : "", ""};
  }
  // The requests_total label: the three digits, whatever the enum makes of them.
  std::string status_label() const
  {
    switch (kind) {
    case response: return std::to_string(status);
    case cancelled: return "cancelled";
    default: return "error";
    }
  }
};

// The fields a call span and an attempt span fill alike. `own` is the
// span's context: its parent_id is the span's own id.
span_record finished_span(span_record::kind_type kind, trace_context const& own, std::string parent_span_id,
                          clock_type::time_point start, clock_type::time_point end, std::string method,
                          std::string host, outcome const& how)
{
  span_record span;
  span.kind = kind;
  span.trace_id = to_hex(own.trace_id);
  span.span_id = to_hex(own.parent_id);
  span.parent_span_id = std::move(parent_span_id);
  span.flags = own.flags;
  span.start = start;
  span.end = end;
  span.method = std::move(method);
  span.host = std::move(host);
  span.status = how.status;
  span.error_type = how.error_type;
  return span;
}

std::string span_line(span_record const& s)
{
  boost::json::object o;
  o["msg"] = "span";
  o["kind"] = s.kind == span_record::kind_type::call ? "call" : "attempt";
  o["trace_id"] = s.trace_id;
  o["span_id"] = s.span_id;
  o["parent_span_id"] = s.parent_span_id;
  o["flags"] = s.flags;
  o["duration_ms"] = std::chrono::duration<double, std::milli>(s.end - s.start).count();
  o["method"] = s.method;
  o["host"] = s.host;
  if (s.status != 0) o["status"] = s.status;
  if (!s.error_type.empty()) o["error_type"] = s.error_type;
  if (s.kind == span_record::kind_type::call) o["attempts"] = s.attempts;
  else o["resend_count"] = s.resend_count;
  return boost::json::serialize(o);
}

} // namespace

// ---------------------------------------------------------------- the layers

namespace {

struct call_state {
  trace_context context;  // the call span's: parent_id is its own span id
  std::string parent_span_id;
  std::atomic<int> attempts{0};
};

} // namespace

struct observed_transport::impl : std::enable_shared_from_this<impl> {
  // Every request sent to `inner`: counted, timed, traced.
  class attempt_layer : public workbook::round_tripper {
  public:
    explicit attempt_layer(impl& owner) : owner_(owner) {}

  protected:
    void do_round_trip(client_request request, workbook::round_trip_handler handler) override
    {
      owner_.send_attempt(std::move(request), std::move(handler));
    }

  private:
    impl& owner_;
  };

  net::any_io_executor executor;
  std::unique_ptr<workbook::plain_transport> owned;
  workbook::round_tripper* inner = nullptr;
  observe_options options;
  std::shared_ptr<metrics_registry> registry;
  metrics_registry::state& metrics;

  attempt_layer attempts{*this};
  std::optional<task19::retrier> retrier;
  std::optional<task18::circuit_breaker> breaker;
  workbook::round_tripper* below_calls = &attempts;

  // The calls in flight, by the call span's id: how an attempt, which the
  // retrier built from the call's fields alone, finds the call it belongs to.
  std::mutex calls_mutex;
  std::unordered_map<std::string, std::shared_ptr<call_state>> calls;

  impl(net::any_io_executor ex, workbook::round_tripper* below, std::unique_ptr<workbook::plain_transport> own,
       observe_options o)
      : executor(std::move(ex)), owned(std::move(own)), inner(owned ? owned.get() : below), options(std::move(o)),
        registry(options.registry ? options.registry : std::make_shared<metrics_registry>()),
        metrics(registry->internals())
  {
    build_layers();
  }

  void build_layers();
  void send_attempt(client_request request, workbook::round_trip_handler handler);
  void start_call(client_request request, workbook::round_trip_handler handler);

  template <std::size_t N>
  std::array<std::uint8_t, N> fresh_id()
  {
    std::array<std::uint8_t, N> id{};
    do options.random(id);
    while (all_zero(id));
    return id;
  }

  void export_span(span_record const& span)
  {
    if (!(span.flags & 0x01)) return;
    if (options.on_span) options.on_span(span);
    else if (options.log) options.log(span_line(span));
  }

  std::shared_ptr<call_state> find_call(std::string const& span_id)
  {
    std::lock_guard lock(calls_mutex);
    auto it = calls.find(span_id);
    return it == calls.end() ? nullptr : it->second;
  }
};

// The breaker outside the retrier: a refusal is never retried, and a call
// the retrier rescued is one success to the breaker. Our hooks first, then
// the caller's.
void observed_transport::impl::build_layers()
{
  std::string const& client = options.client;
  workbook::round_tripper* below = &attempts;
  if (options.retry) {
    task19::retry_options r = *options.retry;
    {
      std::lock_guard lock(metrics.mutex);
      metrics.retries[client];
    }
    r.on_retry = [&metrics = metrics, client, theirs = r.on_retry](task19::retry_event const& e) {
      {
        std::lock_guard lock(metrics.mutex);
        ++metrics.retries[client];
      }
      if (theirs) theirs(e);
    };
    retrier.emplace(executor, *below, std::move(r));
    below = &*retrier;
  }
  if (options.breaker) {
    task18::breaker_options b = *options.breaker;
    {
      std::lock_guard lock(metrics.mutex);
      metrics.refusals[client];
      metrics.breaker_states[client] = task18::breaker_state::closed;
    }
    b.on_state_change = [&metrics = metrics, client, theirs = b.on_state_change](task18::breaker_state from,
                                                                                  task18::breaker_state to) {
      {
        std::lock_guard lock(metrics.mutex);
        metrics.breaker_states[client] = to;
      }
      if (theirs) theirs(from, to);
    };
    breaker.emplace(executor, *below, std::move(b));
    below = &*breaker;
  }
  below_calls = below;
}

void observed_transport::impl::send_attempt(client_request request, workbook::round_trip_handler handler)
{
  auto const start = options.clock();
  std::string const host(request.message[http::field::host]);
  std::string const method(request.message.method_string());

  // The call layer wrote the call span's context; this attempt is its child.
  auto const parent = parse_traceparent(request.message["traceparent"]);
  auto call = parent ? find_call(to_hex(parent->parent_id)) : nullptr;
  trace_context mine = parent ? *parent : trace_context{fresh_id<16>(), {}, 0x01};
  mine.parent_id = fresh_id<8>();
  int const resend_count = call ? call->attempts++ : 0;
  request.message.set("traceparent", format_traceparent(mine));

  auto trace = std::make_shared<workbook::client_trace>();
  trace->on_connection = [&metrics = metrics, client = options.client, host](workbook::connection_info const& c) {
    std::lock_guard lock(metrics.mutex);
    ++metrics.connections[{client, host, c.reused}];
  };
  request.trace = std::move(trace);
  {
    std::lock_guard lock(metrics.mutex);
    ++metrics.in_flight[{options.client, host}];
  }

  // The handler above ours keeps its executor and its cancellation slot:
  // the inner call completes there and hears a cancellation.
  auto slot = net::get_associated_cancellation_slot(handler);
  auto handler_executor = net::get_associated_executor(handler, executor);
  auto done = [self = shared_from_this(), handler = std::move(handler), start, host, method, mine, resend_count,
               parent_span = parent ? to_hex(parent->parent_id) : std::string()](error_code ec,
                                                                                  client_response response) mutable {
    auto const end = self->options.clock();
    auto const how = outcome::of(ec, response);
    {
      auto& m = self->metrics;
      std::lock_guard lock(m.mutex);
      --m.in_flight[{self->options.client, host}];
      ++m.requests[{self->options.client, host, method, how.status_label()}];
      if (how.kind != outcome::cancelled) {
        auto& sketch = m.durations[{self->options.client, host}];
        if (!sketch) sketch = std::make_unique<latency_sketch>();
        sketch->record(end - start);
      }
    }
    auto span = finished_span(span_record::kind_type::attempt, mine, parent_span, start, end, method, host, how);
    span.resend_count = resend_count;
    self->export_span(span);
    std::move(handler)(ec, std::move(response));
  };
  inner->async_round_trip(std::move(request),
                          net::bind_cancellation_slot(slot, net::bind_executor(handler_executor, std::move(done))));
}

namespace {

char const* level_of(outcome const& how)
{
  switch (how.kind) {
  case outcome::response: return how.status >= 500 ? "warn" : "info";
  case outcome::refused: return "warn";
  case outcome::error: return "error";
  case outcome::cancelled: return "info";
  }
  return "info";
}

char const* outcome_name(outcome const& how)
{
  switch (how.kind) {
  case outcome::response: return "response";
  case outcome::refused: return "refused";
  case outcome::error: return "error";
  case outcome::cancelled: return "cancelled";
  }
  return "?";
}

} // namespace

void observed_transport::impl::start_call(client_request request, workbook::round_trip_handler handler)
{
  auto const start = options.clock();
  auto& fields = request.message;
  auto call = std::make_shared<call_state>();

  // Exactly one valid traceparent is a parent; anything else starts a trace.
  auto const parent = fields.count("traceparent") == 1 ? parse_traceparent(fields["traceparent"]) : std::nullopt;
  if (parent) {
    call->context.trace_id = parent->trace_id;
    call->context.flags = parent->flags & 0x01;
    call->parent_span_id = to_hex(parent->parent_id);
  } else {
    call->context.trace_id = fresh_id<16>();
    call->context.flags = 0x01;
    fields.erase("tracestate");
  }
  call->context.parent_id = fresh_id<8>();
  std::string const span_id = to_hex(call->context.parent_id);
  fields.set("traceparent", format_traceparent(call->context));
  {
    std::lock_guard lock(calls_mutex);
    calls[span_id] = call;
  }

  std::string const target(fields.target());
  std::string const path = target.substr(0, target.find('?'));
  std::string const host(fields[http::field::host]);
  std::string const method(fields.method_string());

  auto slot = net::get_associated_cancellation_slot(handler);
  auto handler_executor = net::get_associated_executor(handler, executor);
  auto done = [self = shared_from_this(), handler = std::move(handler), call, span_id, start, path, host,
               method](error_code ec, client_response response) mutable {
    auto const end = self->options.clock();
    auto const how = outcome::of(ec, response);
    {
      std::lock_guard lock(self->calls_mutex);
      self->calls.erase(span_id);
    }
    if (how.kind == outcome::refused) {
      std::lock_guard lock(self->metrics.mutex);
      ++self->metrics.refusals[self->options.client];
    }
    auto span = finished_span(span_record::kind_type::call, call->context, call->parent_span_id, start, end, method,
                              host, how);
    span.attempts = call->attempts.load();
    self->export_span(span);

    if (self->options.log) {
      boost::json::object line;
      line["time"] = rfc3339(self->options.wall_clock());
      line["level"] = level_of(how);
      line["msg"] = "http client call";
      line["client"] = self->options.client;
      line["method"] = method;
      line["host"] = host;
      line["path"] = path;
      if (how.kind == outcome::response) line["status"] = how.status;
      else line["error"] = how.message;
      line["outcome"] = outcome_name(how);
      line["attempts"] = span.attempts;
      line["duration_ms"] = std::chrono::duration<double, std::milli>(end - start).count();
      line["trace_id"] = span.trace_id;
      line["span_id"] = span_id;
      self->options.log(boost::json::serialize(line));
    }
    std::move(handler)(ec, std::move(response));
  };
  below_calls->async_round_trip(std::move(request),
                                net::bind_cancellation_slot(slot, net::bind_executor(handler_executor, std::move(done))));
}

// ---------------------------------------------------------------- the transport

observed_transport::observed_transport(net::any_io_executor executor, workbook::round_tripper& inner,
                                       observe_options options)
    : impl_(std::make_shared<impl>(std::move(executor), &inner, nullptr, std::move(options)))
{
}

observed_transport::observed_transport(net::any_io_executor executor, net::ip::tcp::endpoint upstream,
                                       observe_options options)
    : impl_(std::make_shared<impl>(executor, nullptr, std::make_unique<workbook::plain_transport>(executor, upstream),
                                   std::move(options)))
{
}

observed_transport::~observed_transport() = default;

metrics_registry& observed_transport::metrics() const { return *impl_->registry; }

std::shared_ptr<metrics_registry> observed_transport::shared_metrics() const { return impl_->registry; }

void observed_transport::do_round_trip(client_request request, workbook::round_trip_handler handler)
{
  impl_->start_call(std::move(request), std::move(handler));
}

} // namespace stretch1
