// Stretch 2 · your load balancer's data plane (steps 2 to 5 and 8 of
// README.md): accepting clients, choosing a backend for each request,
// forwarding it and relaying the answer.
//
// As it stands it listens nowhere and knows no backend's state.
#include "balancer_impl.hpp"

#include <utility>

namespace stretch2 {

load_balancer::load_balancer(net::any_io_executor executor, tcp::endpoint listen_on, tcp::endpoint admin_on,
                             std::vector<backend_config> backends, balancer_options options)
    : impl_(std::make_shared<impl>())
{
  // TODO (step 7): refuse an admin address that is not loopback, before
  // anything is bound (R11).
  // TODO (step 2): check the backends' ids, make a transport per backend,
  // and bind and listen on listen_on and admin_on.
  (void)listen_on;
  (void)admin_on;
  impl_->executor = std::move(executor);
  impl_->backends = std::move(backends);
  impl_->options = std::move(options);
}

// TODO (step 2): stop accepting, stop the probe rounds, close what is open.
load_balancer::~load_balancer() = default;

// TODO (steps 2 and 6): accept on both ports and run probe round 1.
void load_balancer::start() {}

// TODO (step 2): the endpoints actually bound, with their ports.
tcp::endpoint load_balancer::local_endpoint() const { return {}; }
tcp::endpoint load_balancer::admin_endpoint() const { return {}; }

// TODO (step 3): each backend's state, read under the routing lock.
std::vector<backend_status> load_balancer::backends() const
{
  std::vector<backend_status> out;
  for (auto const& b : impl_->backends) {
    backend_status s;
    s.id = b.id;
    s.endpoint = b.endpoint;
    out.push_back(std::move(s));
  }
  return out;
}

// TODO (step 2): for each client connection, read a request whole (R4's
// limits), forward it through a backend's transport, relay the answer.
// Strip the hop-by-hop fields both ways and extend X-Forwarded-For (R5).
//
// TODO (step 3): choose the backend under the routing lock (R1-R3): the
// choice and in_flight must move in one step.
//
// TODO (step 4): what each way an attempt can fail becomes (R4), and which
// failures may go to another backend.
//
// TODO (step 5): the sticky cookie (R2).
//
// TODO (step 8): with options.breaker, the request goes through the
// backend's circuit_breaker, and its refusal is re-routed (R8).

} // namespace stretch2
