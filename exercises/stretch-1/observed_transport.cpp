// Stretch 1 · your observable transport. Start with README.md; the steps
// there match the TODOs here. Run `grader stretch-1` after each step.
//
// As it stands the transport hands every call straight to the transport
// below and observes nothing: it compiles, runs, and fails every criterion.
#include "observed_transport.hpp"

#include <utility>

namespace stretch1 {

// ---------------------------------------------------------------- step 1

std::optional<trace_context> parse_traceparent(std::string_view value)
{
  // TODO (step 1): every rule of the contract's comment, and of section 3.2
  // of the specification, is a way for a header to be invalid.
  (void)value;
  return std::nullopt;
}

std::string format_traceparent(trace_context const& context)
{
  // TODO (step 1): the inverse of parse_traceparent, version 00.
  (void)context;
  return {};
}

// ---------------------------------------------------------------- step 2

struct latency_sketch::state {
  // TODO (step 2): buckets whose bounds grow by a constant factor, a count
  // in each, and what count() and sum() need, safe from several threads.
};

latency_sketch::latency_sketch() : state_(std::make_unique<state>()) {}
latency_sketch::~latency_sketch() = default;

void latency_sketch::record(std::chrono::nanoseconds d)
{
  // TODO (step 2)
  (void)d;
}

std::uint64_t latency_sketch::count() const { return 0; }
std::chrono::nanoseconds latency_sketch::sum() const { return {}; }

std::chrono::nanoseconds latency_sketch::quantile(double q) const
{
  // TODO (step 2): the nearest rank, found by walking the buckets.
  (void)q;
  return {};
}

// ---------------------------------------------------------------- step 3

struct metrics_registry::state {
  // TODO (step 3): the series the contract lists, keyed by their labels,
  // and what keeps two threads from updating one at once.
};

metrics_registry::metrics_registry() : state_(std::make_shared<state>()) {}
metrics_registry::~metrics_registry() = default;

std::string metrics_registry::exposition() const
{
  // TODO (step 3): each family with a sample: its HELP and TYPE lines, then
  // all of its samples.
  return {};
}

// ---------------------------------------------------------------- steps 4 to 6

struct observed_transport::impl {
  net::any_io_executor executor;
  std::unique_ptr<workbook::round_tripper> owned;  // the plain_transport of the second constructor
  workbook::round_tripper* inner = nullptr;
  observe_options options;
  // TODO (step 6): the layers, in the contract's order, and the registry.
};

observed_transport::observed_transport(net::any_io_executor executor, workbook::round_tripper& inner,
                                       observe_options options)
    : impl_(std::make_shared<impl>())
{
  impl_->executor = std::move(executor);
  impl_->inner = &inner;
  impl_->options = std::move(options);
  // TODO (step 6): the registry (the options' or one of your own), the
  // breaker and the retrier when the options ask for them.
}

observed_transport::observed_transport(net::any_io_executor executor, net::ip::tcp::endpoint upstream,
                                       observe_options options)
    : impl_(std::make_shared<impl>())
{
  impl_->owned = std::make_unique<workbook::plain_transport>(executor, upstream);
  impl_->executor = std::move(executor);
  impl_->inner = impl_->owned.get();
  impl_->options = std::move(options);
  // TODO (step 6): as the other constructor.
}

observed_transport::~observed_transport() = default;

metrics_registry& observed_transport::metrics() const
{
  // TODO (step 6): the transport's registry.
  static metrics_registry nothing;
  return nothing;
}

std::shared_ptr<metrics_registry> observed_transport::shared_metrics() const
{
  return std::make_shared<metrics_registry>();
}

void observed_transport::do_round_trip(workbook::client_request request, workbook::round_trip_handler handler)
{
  // TODO (step 4): the attempt layer: a span id, traceparent, a
  // client_trace, and a handler of yours that counts the attempt before
  // handing its outcome on. Which executor and cancellation slot must that
  // handler carry?
  // TODO (step 5): the call layer: the call's trace, and when the call
  // ends, its span and its log line, before the caller's handler runs.
  impl_->inner->async_round_trip(std::move(request), std::move(handler));
}

} // namespace stretch1
