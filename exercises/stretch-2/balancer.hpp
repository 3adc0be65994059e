// Stretch 2 · the contract between your load balancer, the tests and the
// reference. Do not change this file: the tests are compiled against it.
//
// This stretch links your breaker.cpp (task 18): see task.cmake.
#pragma once

#include "breaker.hpp"

#include <workbook/round_tripper.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace stretch2 {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// ---------------------------------------------------------------- names

enum class policy { round_robin, least_connections, sticky_cookie };
enum class health { unknown, up, down };

inline char const* to_string(policy p)
{
  switch (p) {
  case policy::round_robin: return "round_robin";
  case policy::least_connections: return "least_connections";
  case policy::sticky_cookie: return "sticky_cookie";
  }
  return "?";
}

inline char const* to_string(health h)
{
  switch (h) {
  case health::unknown: return "unknown";
  case health::up: return "up";
  case health::down: return "down";
  }
  return "?";
}

// ---------------------------------------------------------------- configuration

struct backend_config {
  // 1 to 64 characters of [A-Za-z0-9._-], unique among the backends; the
  // constructor throws std::invalid_argument otherwise (and for no backends).
  std::string id;
  tcp::endpoint endpoint;
};

// What the balancer reports as it happens (R9: after the change is visible).
struct lb_event {
  enum class kind {
    round_done,  // a probe round ended (every probe of it finished)
    up,          // a backend became up (from unknown or down)
    down,        // a backend became down (from unknown or up)
    draining,    // POST /drain/{id} on a backend that was not draining
    drained,     // a draining backend has nothing left in flight
    undrained,   // POST /undrain/{id} on a draining backend
    breaker,     // a backend's breaker changed state
  };
  kind what{};
  std::string backend;                 // "" for round_done
  std::uint64_t round = 0;             // round_done, up, down: the probe round (1 = start()'s;
                                       // forced rounds are numbered in the same sequence)
  task18::breaker_state from{}, to{};  // kind::breaker only
};

struct balancer_options {
  stretch2::policy policy = policy::round_robin;
  std::string cookie_name = "lb";  // sticky_cookie
  std::string health_path = "/healthz";
  std::chrono::milliseconds health_interval = std::chrono::seconds(5);  // tests: 50-100 ms, or 1 h
  std::chrono::milliseconds probe_timeout = std::chrono::seconds(1);    // tests: 100 ms
  unsigned rise = 2;                                                   // passes that bring a down backend up
  std::chrono::milliseconds backend_timeout = std::chrono::seconds(10);  // one exchange; tests: 300 ms
  std::size_t max_body = 1 << 20;                                      // a request body over it: 413
  // Set: each backend gets a task18::circuit_breaker of its own with these
  // options (their clock included). Unset: no breakers.
  std::optional<task18::breaker_options> breaker;
  // Called on any io thread, never under a lock of yours. May be empty.
  std::function<void(lb_event const&)> on_event;
};

// One backend as GET /backends shows it.
struct backend_status {
  std::string id;
  tcp::endpoint endpoint;
  health state = health::unknown;
  bool draining = false;
  std::optional<task18::breaker_state> breaker;  // nullopt without options.breaker
  std::size_t in_flight = 0;                     // attempts sent to it and not yet ended
  std::uint64_t responses = 0;                   // attempts it answered (any status)
  std::uint64_t failures = 0;                    // attempts ended by an error (connection_refused too);
                                                 // a breaker's refusal is neither
  std::uint64_t probes = 0;                      // health probes finished
};

// ---------------------------------------------------------------- yours

// GET /backends's body. Pure. One line, no spaces, keys in this order,
// backends in the order given, "breaker" null without a breaker:
// {"policy":"round_robin","backends":[{"id":"a","address":"127.0.0.1:40001",
//  "health":"up","draining":false,"breaker":"closed","in_flight":0,
//  "responses":10,"failures":0,"probes":3}]}
// ("address" is the endpoint as address:port; an IPv6 address in brackets.)
std::string table_json(policy p, std::vector<backend_status> const& backends);

// A reverse proxy on `listen_on` in front of `backends`, administered over
// HTTP on `admin_on`.
//
// R1  Eligible means: health is not down, and not draining. Backends start
//     unknown, which is eligible. A breaker's state is not a filter (R8).
// R2  One rotation serves every policy.
//     round_robin: each request takes the next eligible backend after the
//       one the previous request took (under any policy, however it was
//       chosen), in configuration order, wrapping; so with b down the order
//       is a, c, a, c.
//     least_connections: the eligible backend with the fewest in flight; a
//       tie goes to the first tied backend after the previous choice.
//     sticky_cookie: the backend named by the first `cookie_name` pair (the
//       exact name) in any Cookie field, if it is eligible and not yet tried
//       for this request; otherwise the round_robin rule. When the backend
//       whose response is relayed is not the one the cookie named (or there
//       was none), the response gets "Set-Cookie: <name>=<id>; Path=/;
//       HttpOnly", after the backend's own Set-Cookie fields, which are
//       kept. The balancer's own answers (R4) set no cookie.
// R3  in_flight rises when a backend is chosen, in the same step as the
//     choice, and falls when that attempt ends, however it ends.
// R4  A response, whatever its status, is relayed. connection_refused or
//     task18::breaker_errc::open means the backend never got the request: it
//     goes to another eligible backend not yet tried for it (each backend at
//     most once). With none left: the proxy's own 503 with "Retry-After: 1"
//     and the body "no backend available\n". beast::error::timeout: 504; any
//     other error: 502. A request is read whole first: a body over max_body
//     gets 413, an unparsable request 400, and after either the connection
//     closes. Otherwise keep-alive follows the client.
// R5  As in task 12: the hop-by-hop fields (Connection, Keep-Alive,
//     Proxy-Authenticate, Proxy-Authorization, TE, Trailer,
//     Transfer-Encoding, Upgrade, and every field Connection names) are
//     removed both ways. X-Forwarded-For gets the client's address appended
//     (one field, joined by ", "). Host is passed on unchanged.
// R6  A probe round sends "GET <health_path>" to every backend at once. A
//     pass is a 2xx within probe_timeout; anything else fails. Round 1 runs
//     at start(); round n+1 starts health_interval after round n started, or
//     when round n ends if it is still running then (rounds never overlap).
//     A fail makes a backend down at once; a down backend needs `rise`
//     consecutive passes to come up, an unknown one a single pass. Probes
//     bypass the breaker and are never counted as responses or failures.
// R7  A draining backend gets no new request under any policy; its requests
//     in flight are left alone. `drained` is emitted once in_flight is 0
//     while it drains (at once, if it already is).
// R8  With options.breaker, each backend's transport is wrapped in a
//     circuit_breaker of its own. The balancer never skips a backend
//     because of the breaker's state(): the breaker refuses and R4 re-routes,
//     so the breaker's probe is the first request that picks the backend
//     after reset_period.
// R9  An event is emitted after its change is visible to routing and to
//     GET /backends.
// R10 The admin endpoint: HTTP/1.1 keep-alive, bodies application/json.
//       GET  /backends      200, table_json(...)
//       POST /drain/{id}    202, {"id":"<id>","draining":true,"in_flight":<n>}
//       POST /undrain/{id}  200, {"id":"<id>","draining":false,"in_flight":<n>}
//       POST /check         200, table_json(...) once a probe round that
//                           started after this request has ended (a forced
//                           round is extra: it does not move the schedule)
//     Errors are {"error":"<what>"}: an id that is not 1-64 of [A-Za-z0-9._-]
//     400; an id no backend has 404, naming it; any other path 404 (an empty
//     {id}, or one with a "/" in it, makes an unknown path); another
//     method 405 with "Allow"; a body over 1 KiB 413, decided from the
//     header; an unparsable request 400 and the connection closes. The query
//     is ignored.
// R11 admin_on's address must be loopback (ip::address::is_loopback);
//     otherwise the constructor throws std::invalid_argument before anything
//     is bound. listen_on may be any address. The constructor binds and
//     listens on both (port 0: one the system picks); start() accepts.
//
// Members may be called from any thread; the executor may run on several.
// The destructor stops accepting, cancels the timers and closes every
// connection; do not call it from an io thread.
class load_balancer {
public:
  load_balancer(net::any_io_executor executor, tcp::endpoint listen_on, tcp::endpoint admin_on,
                std::vector<backend_config> backends, balancer_options options = {});
  ~load_balancer();
  load_balancer(load_balancer const&) = delete;
  load_balancer& operator=(load_balancer const&) = delete;

  // Starts accepting on both ports and runs probe round 1.
  void start();
  tcp::endpoint local_endpoint() const;  // the proxy, with its real port
  tcp::endpoint admin_endpoint() const;  // the admin endpoint, likewise
  std::vector<backend_status> backends() const;  // what GET /backends shows

  // Yours to define: what the balancer keeps.
  struct impl;

private:
  std::shared_ptr<impl> impl_;
};

} // namespace stretch2
