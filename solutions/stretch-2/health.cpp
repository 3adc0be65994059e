// Stretch 2 · reference: active health checks (R6). Rounds run on one
// strand, `rounds`, so "is a round running", the schedule and the /check
// waiters change in one place, one handler at a time. The probes of a round
// run at once, each through its backend's prober: a plain_transport of its
// own whose timeout is probe_timeout and that keeps no idle connection, so
// a probe is never stuck behind traffic and never passes the breaker.
#include "balancer_impl.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/status.hpp>

#include <utility>

namespace stretch2 {

namespace {

net::awaitable<void> probe(std::shared_ptr<load_balancer::impl> self, std::size_t index, std::uint64_t number)
{
  auto& b = *self->backends[index];
  workbook::client_request request;
  request.message = {http::verb::get, self->options.health_path, 11};
  request.message.set(http::field::host, address_of(b.config.endpoint));
  auto [ec, response] = co_await b.prober->async_round_trip(std::move(request), awaitable_tuple{});
  bool const passed = !ec && http::to_status_class(response.result_int()) == http::status_class::successful;
  self->record_probe(index, passed, number);
}

} // namespace

void load_balancer::impl::start_rounds()
{
  net::post(rounds, [self = shared_from_this()] { self->begin_round(true); });
}

void load_balancer::impl::stop_rounds()
{
  net::post(rounds, [self = shared_from_this()] {
    self->rounds_stopped = true;
    self->schedule.cancel();
    // Their coroutines hold the balancer: let them go rather than keep it.
    self->waiting.clear();
    self->answering.clear();
  });
}

// On `rounds`. A scheduled round sets the next one's time from its own
// start; a forced one (for /check) leaves the schedule alone.
void load_balancer::impl::begin_round(bool scheduled)
{
  if (rounds_stopped) return;
  round_running = true;
  auto const number = ++round;
  // Whoever asked before this moment is answered at this round's end.
  for (auto& w : waiting) answering.push_back(std::move(w));
  waiting.clear();

  if (scheduled) {
    schedule.expires_after(options.health_interval);
    schedule.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->rounds_stopped) return;
      if (self->round_running) self->round_due = true;  // rounds never overlap
      else self->begin_round(true);
    });
  }

  auto remaining = std::make_shared<std::size_t>(backends.size());
  for (std::size_t i = 0; i < backends.size(); ++i)
    net::co_spawn(executor, probe(shared_from_this(), i, number),
                  net::bind_executor(rounds, [self = shared_from_this(), remaining, number](std::exception_ptr) {
                    if (--*remaining == 0) self->end_round(number);
                  }));
}

// On `rounds`: every probe of round `number` has finished.
void load_balancer::impl::end_round(std::uint64_t number)
{
  round_running = false;
  emit({lb_event{lb_event::kind::round_done, "", number}});
  // Each on the waiter's own executor (not this strand, so: not inline).
  for (auto& w : answering) net::dispatch(std::move(w));
  answering.clear();
  if (!waiting.empty()) begin_round(false);
  else if (std::exchange(round_due, false)) begin_round(true);
}

void load_balancer::impl::check(check_waiter done)
{
  net::post(rounds, [self = shared_from_this(), done = std::move(done)]() mutable {
    self->waiting.push_back(std::move(done));
    if (!self->round_running) self->begin_round(false);
  });
}

// R6: a fail is down at once; a down backend needs `rise` passes in a row,
// an unknown one one.
void load_balancer::impl::record_probe(std::size_t index, bool passed, std::uint64_t number)
{
  event_list events;
  {
    std::lock_guard lock(mutex);
    auto& b = *backends[index];
    ++b.probes;
    if (!passed) {
      b.passes = 0;
      if (b.state != health::down) {
        b.state = health::down;
        events.push_back({lb_event::kind::down, b.config.id, number});
      }
    } else if (b.state == health::unknown || (b.state == health::down && ++b.passes >= options.rise)) {
      b.state = health::up;
      b.passes = 0;
      events.push_back({lb_event::kind::up, b.config.id, number});
    }
  }
  emit(events);
}

} // namespace stretch2
