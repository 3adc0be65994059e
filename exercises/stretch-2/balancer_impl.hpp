// Stretch 2 · your balancer's private header: what load_balancer::impl
// keeps, shared by balancer.cpp, health.cpp and admin.cpp. The contract
// (balancer.hpp) leaves its shape to you; this file is yours to change.
#pragma once

#include "balancer.hpp"

#include <vector>

namespace stretch2 {

struct load_balancer::impl {
  net::any_io_executor executor;
  std::vector<backend_config> backends;
  balancer_options options;

  // TODO (step 2): the acceptors of the proxy and of the admin endpoint,
  // and a way to close the connections they accepted.
  // TODO (step 2): a transport per backend (workbook::plain_transport).
  // TODO (step 3): the routing state, and the lock that guards it: each
  // backend's health, draining flag and counters, and whatever the
  // rotation remembers between requests.
  // TODO (step 6): the probe rounds' schedule, and who waits for a round.
  // TODO (step 8): a circuit breaker per backend, when options.breaker is set.
};

} // namespace stretch2
