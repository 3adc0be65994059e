// Stretch 3 · your ingress (steps 4, 5 and 7 of README.md): accepting,
// each connection's handshake, its requests and where they go, and the
// counters.
//
// As it stands it listens nowhere.
#include "ingress_impl.hpp"

#include <utility>

namespace stretch3 {

ingress::ingress(net::any_io_executor executor, tcp::endpoint listen_on, upstream_lookup upstream,
                 ingress_options options)
    : impl_(std::make_shared<impl>())
{
  // TODO (step 2): load options.cert_dir; throw std::runtime_error naming
  // every problem if the load fails (D2).
  // TODO (step 3): make the listener's context.
  // TODO (step 4): bind and listen on listen_on.
  (void)listen_on;
  impl_->executor = std::move(executor);
  impl_->upstream = std::move(upstream);
  impl_->options = std::move(options);
}

// TODO (step 4): stop accepting and watching, close every connection, and
// return once none of their coroutines is left on the executor.
ingress::~ingress() = default;

// TODO (steps 4 and 6): accept connections, and start the watcher when
// watch_interval is set.
void ingress::start() {}

// TODO (step 4): the endpoint actually bound, with its port.
tcp::endpoint ingress::local_endpoint() const { return {}; }

// TODO (step 7): the counters, read while both io threads bump them.
ingress_stats ingress::stats() const { return {}; }

// TODO (step 4): each connection on a strand of its own. The handshake
// must finish within handshake_timeout; count how it ended in exactly one
// of the five handshake counters (S1-S3).
//
// TODO (step 5): then requests, keep-alive: Host against the connection's
// server name (421), the tenant (404), the forwarded request (H1), the
// relayed response, one retry for a retired transport, 502 and 504 (H2).
// A connection idle for idle_timeout is closed, and every connection
// whose handshake completed gets close_notify before its close (S3).
// workbook/tls_serve.hpp reads and writes HTTP over the ssl::stream.

} // namespace stretch3
