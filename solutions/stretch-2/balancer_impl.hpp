// Stretch 2 · reference: what the balancer keeps, shared by its three parts.
//
//   balancer.cpp  the data plane: accepting, choosing a backend, forwarding
//   health.cpp    probe rounds on a schedule, and the forced ones of /check
//   admin.cpp     table_json and the admin endpoint
//
// One mutex, the routing lock, guards everything routing reads: each
// backend's health, draining flag and counters, and the rotation's "last
// chosen". Choosing a backend and counting it in flight is one critical
// section (R3), so two threads never take the same turn, and GET /backends
// reads one consistent table. Events are collected under the lock and
// emitted after it is released (R9, and on_event never runs under it).
#pragma once

#include "balancer.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stretch2 {

namespace beast = boost::beast;
namespace http = beast::http;
using awaitable_tuple = net::as_tuple_t<net::use_awaitable_t<>>;
using request_type = http::request<http::string_body>;
using response_type = http::response<http::string_body>;
using event_list = std::vector<lb_event>;

struct backend {
  backend_config config;
  std::unique_ptr<workbook::plain_transport> transport;  // traffic: keep-alive, backend_timeout
  std::unique_ptr<task18::circuit_breaker> breaker;      // around transport, with options.breaker
  std::unique_ptr<workbook::plain_transport> prober;     // probes: no idle connections, probe_timeout
  // The breaker's state as its last transition said, written from
  // on_state_change (under the breaker's own lock: never take the routing
  // lock there) and read by backends().
  std::atomic<task18::breaker_state> breaker_state{task18::breaker_state::closed};

  // Guarded by the routing lock.
  health state = health::unknown;
  bool draining = false;
  bool drained_reported = false;
  unsigned passes = 0;  // consecutive passed probes while down
  std::size_t in_flight = 0;
  std::uint64_t responses = 0, failures = 0, probes = 0;

  workbook::round_tripper& traffic() { return breaker ? static_cast<workbook::round_tripper&>(*breaker) : *transport; }
};

// A connection the balancer accepted, on a strand of its own; kept by weak
// pointer so the destructor can close what is still open.
struct connection {
  explicit connection(tcp::socket s) : stream(std::move(s)) {}
  beast::tcp_stream stream;
};

struct load_balancer::impl : std::enable_shared_from_this<load_balancer::impl> {
  impl(net::any_io_executor ex, std::vector<backend_config> configs, balancer_options o);

  net::any_io_executor executor;
  balancer_options options;
  std::vector<std::unique_ptr<backend>> backends;  // fixed once constructed

  // Accepting and closing, on one strand.
  net::strand<net::any_io_executor> control;
  tcp::acceptor proxy_acceptor, admin_acceptor;
  tcp::endpoint proxy_local, admin_local;  // read by any thread; written before start()
  std::mutex connections_mutex;
  std::vector<std::weak_ptr<connection>> connections;
  bool stopping = false;  // under connections_mutex

  // The routing lock and what it guards besides the backends' fields.
  mutable std::mutex mutex;
  std::optional<std::size_t> last;  // the backend the previous request took

  // Probe rounds, on their own strand (health.cpp).
  net::strand<net::any_io_executor> rounds;
  net::steady_timer schedule;
  std::uint64_t round = 0;
  bool round_running = false;
  bool round_due = false;  // the schedule came while a round was running
  bool rounds_stopped = false;
  using check_waiter = net::any_completion_handler<void()>;
  std::vector<check_waiter> waiting;    // want a round that has not started yet
  std::vector<check_waiter> answering;  // answered when the running round ends

  // balancer.cpp
  void emit(event_list const& events) const;
  std::shared_ptr<connection> keep(tcp::socket socket);
  void close_everything();
  std::optional<std::size_t> choose(std::optional<std::string> const& pinned, std::vector<bool> const& tried);
  void finish(std::size_t index, boost::system::error_code const& ec);
  net::awaitable<response_type> forward(request_type request, std::string client_address);
  std::vector<backend_status> table() const;

  // health.cpp
  void start_rounds();
  void stop_rounds();
  void begin_round(bool scheduled);
  void end_round(std::uint64_t number);
  void record_probe(std::size_t index, bool passed, std::uint64_t number);
  void check(check_waiter done);  // done runs once a round that started after this call has ended

  // admin.cpp
  net::awaitable<response_type> administer(request_type request);
  response_type drain(std::string const& id, bool on);
};

// The balancer's own answers: a status, a body and its type, keep-alive as
// the request said (balancer.cpp).
response_type make_response(http::status status, unsigned version, std::string body,
                            std::string_view content_type = "text/plain; charset=utf-8");

// What a server does with one request it has read whole, and what it says
// to one it could not read (413 or 400, with what went wrong).
using answer_fn = std::function<net::awaitable<response_type>(request_type request, tcp::endpoint client)>;
using refusal_fn = std::function<response_type(http::status status, std::string what)>;
struct server_role {
  std::size_t body_limit;
  answer_fn answer;
  refusal_fn refuse;
};

// A server's accept loop (on impl::control) and, for each connection, a
// loop that reads a request whole (a body over `body_limit` gets 413, an
// unparsable request 400, and the connection closes), answers it, and goes
// round while both sides keep it alive. balancer.cpp; the proxy and the
// admin endpoint both use them (admin.cpp: admin_role).
net::awaitable<void> accept_loop(std::shared_ptr<load_balancer::impl> self, tcp::acceptor& acceptor,
                                 server_role role);
server_role admin_role(std::shared_ptr<load_balancer::impl> self);

// 1 to 64 of [A-Za-z0-9._-]: a backend's id (the constructor, R10).
bool valid_id(std::string_view id);

// "127.0.0.1:8080", "[::1]:8080".
std::string address_of(tcp::endpoint const& endpoint);

} // namespace stretch2
