// Stretch 1 · your metrics endpoint (step 7 of README.md): a small Beast
// server that answers GET /metrics from a registry it shares.
//
// As it stands it listens nowhere.
#include "observed_transport.hpp"

namespace stretch1 {

struct metrics_endpoint::state {
  // TODO (step 7): an acceptor on a loopback address, and the sessions
  // that answer GET /metrics.
};

metrics_endpoint::metrics_endpoint(net::any_io_executor executor, std::shared_ptr<metrics_registry const> registry,
                                   net::ip::tcp::endpoint listen_on)
    : state_(std::make_shared<state>())
{
  (void)executor;
  (void)registry;
  (void)listen_on;
}

metrics_endpoint::~metrics_endpoint() = default;

net::ip::tcp::endpoint metrics_endpoint::local_endpoint() const { return {}; }

} // namespace stretch1
