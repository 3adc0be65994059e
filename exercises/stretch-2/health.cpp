// Stretch 2 · your active health checks (step 6 of README.md): probe rounds
// on a schedule (R6), and the extra rounds POST /check asks for.
//
// As it stands no backend is ever probed: every one stays unknown.
#include "balancer_impl.hpp"

namespace stretch2 {

// TODO (step 6): a probe round sends GET options.health_path to every
// backend at once, each bounded by probe_timeout; a pass is a 2xx. A fail
// makes a backend down at once; a down backend comes up after
// options.rise passes in a row, an unknown one after one.
//
// TODO (step 6): round 1 at start(), round n+1 health_interval after round
// n started, or when round n ends if it is still running; never two at once.
//
// TODO (step 6): report up, down and round_done through options.on_event,
// after the change is visible and never under your lock (R9).
//
// TODO (step 7): a way for POST /check to wait for a round that started
// after its request.

} // namespace stretch2
