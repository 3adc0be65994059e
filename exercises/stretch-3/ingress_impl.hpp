// Stretch 3 · your ingress's private header: what ingress::impl keeps, and
// what certificates.cpp, tls.cpp and ingress.cpp share. The contract
// (ingress.hpp) leaves its shape to you; this file is yours to change.
#pragma once

#include "ingress.hpp"

namespace stretch3 {

struct ingress::impl {
  net::any_io_executor executor;
  upstream_lookup upstream;
  ingress_options options;

  // TODO (step 2): the certificate set in service: for each name, the
  // certificate (and key) that serves it, exact names apart from
  // wildcards; and its generation. Once in service a set never changes
  // (D3): a reload makes a new one. How does a handshake take the current
  // set safely while reload() replaces it? (NOTES.md, "Swapping the set".)
  // TODO (step 3): the listener's TLS context, made once and never
  // replaced (S2).
  // TODO (step 4): the acceptor, and a way to close the connections it
  // accepted and to know when their coroutines have finished.
  // TODO (step 6): what reload() serialises on, and what the watcher
  // compares between polls.
  // TODO (step 7): the counters of ingress_stats, safe to bump from both
  // io threads at once.
};

} // namespace stretch3
