// Stretch 2 · reference: the data plane. A client's connection is one
// coroutine: read a request whole, choose a backend under the routing lock,
// forward through that backend's transport, relay the answer. Which backend
// and what to do when it fails are R1-R4; what a request carries through is
// R5.
#include "balancer_impl.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <tuple>
#include <stdexcept>
#include <utility>

namespace stretch2 {

namespace {

constexpr http::field hop_by_hop[] = {
    http::field::connection,          http::field::keep_alive, http::field::proxy_authenticate,
    http::field::proxy_authorization, http::field::te,         http::field::trailer,
    http::field::transfer_encoding,   http::field::upgrade,
};

// R5. A sender makes any field hop-by-hop by naming it in Connection, in
// any of several Connection fields: collect every token before erasing.
template <bool isRequest>
void remove_hop_by_hop(http::header<isRequest>& h)
{
  std::vector<std::string> named;
  auto const [first, last] = h.equal_range(http::field::connection);
  for (auto it = first; it != last; ++it)
    for (auto const token : http::token_list{it->value()}) named.emplace_back(token);
  for (auto const& name : named) h.erase(name);
  for (auto const f : hop_by_hop) h.erase(f);
}

// R5: every X-Forwarded-For the client sent, as one list, and the client.
void append_forwarded_for(request_type& request, std::string const& client)
{
  std::string list;
  auto const [first, last] = request.equal_range("X-Forwarded-For");
  for (auto it = first; it != last; ++it) {
    if (!list.empty()) list += ", ";
    list.append(it->value());
  }
  if (!list.empty()) list += ", ";
  list += client;
  request.set("X-Forwarded-For", list);
}

// R2: the value of the first pair named exactly `name` in any Cookie field.
std::optional<std::string> cookie_value(request_type const& request, std::string_view name)
{
  auto const [first, last] = request.equal_range(http::field::cookie);
  for (auto it = first; it != last; ++it) {
    std::string_view rest = it->value();
    while (!rest.empty()) {
      auto const end = rest.find(';');
      auto pair = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
      while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t')) pair.remove_prefix(1);
      auto const eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name) return std::string(pair.substr(eq + 1));
    }
  }
  return std::nullopt;
}

// Calls finish() when an attempt ends: with its outcome, or, if the
// coroutine is destroyed while it waits (the balancer shutting down), with
// the initial operation_aborted.
struct attempt_end {
  load_balancer::impl& self;
  std::size_t index;
  boost::system::error_code const& ec;
  ~attempt_end() { self.finish(index, ec); }
};

bool refused_before_sending(boost::system::error_code const& ec)
{
  return ec == net::error::connection_refused || ec == task18::breaker_errc::open;
}

} // namespace

std::string address_of(tcp::endpoint const& endpoint)
{
  auto const address = endpoint.address();
  auto const text = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return text + ":" + std::to_string(endpoint.port());
}

response_type make_response(http::status status, unsigned version, std::string body, std::string_view content_type)
{
  response_type response{status, version};
  response.set(http::field::content_type, content_type);
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

// ---------------------------------------------------------------- serving

net::awaitable<void> serve_connection(std::shared_ptr<connection> c, server_role role)
{
  beast::error_code ignored;
  auto const client = c->stream.socket().remote_endpoint(ignored);
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(role.body_limit);  // with a Content-Length, refused before the body is read
    auto [read_error, read] = co_await http::async_read(c->stream, buffer, parser, awaitable_tuple{});
    if (read_error == http::error::end_of_stream || read_error == net::error::operation_aborted ||
        read_error == net::error::connection_reset || read_error == net::error::bad_descriptor)
      break;
    if (read_error) {
      // The rest of what the client sent cannot be framed: answer, then close.
      auto const status = read_error == http::error::body_limit ? http::status::payload_too_large
                                                                 : http::status::bad_request;
      auto refusal = role.refuse(status, read_error.message());
      refusal.keep_alive(false);
      co_await http::async_write(c->stream, refusal, awaitable_tuple{});
      break;
    }
    auto request = parser.release();
    bool const keep_alive = request.keep_alive();
    auto const version = request.version();
    auto response = co_await role.answer(std::move(request), client);
    response.version(version);
    response.keep_alive(keep_alive && response.keep_alive());
    auto [write_error, written] = co_await http::async_write(c->stream, response, awaitable_tuple{});
    if (write_error || !response.keep_alive()) break;
  }
  c->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

net::awaitable<void> accept_loop(std::shared_ptr<load_balancer::impl> self, tcp::acceptor& acceptor,
                                 server_role role)
{
  for (;;) {
    // Each connection on a strand of its own: the io threads serve many at once.
    auto [error, socket] = co_await acceptor.async_accept(net::make_strand(self->executor), awaitable_tuple{});
    if (error == net::error::operation_aborted || !acceptor.is_open()) break;  // closing
    if (error) {
      // Out of descriptors, or a connection gone before it was accepted:
      // pause rather than spin while the next accept fails the same way.
      net::steady_timer pause(self->control, std::chrono::milliseconds(50));
      co_await pause.async_wait(awaitable_tuple{});
      continue;
    }
    auto c = self->keep(std::move(socket));
    if (!c) break;
    auto const ex = c->stream.get_executor();
    net::co_spawn(ex, serve_connection(std::move(c), role), net::detached);
  }
}

std::shared_ptr<connection> load_balancer::impl::keep(tcp::socket socket)
{
  std::lock_guard lock(connections_mutex);
  if (stopping) return nullptr;
  std::erase_if(connections, [](auto const& weak) { return weak.expired(); });
  auto c = std::make_shared<connection>(std::move(socket));
  connections.push_back(c);
  return c;
}

void load_balancer::impl::close_everything()
{
  std::vector<std::weak_ptr<connection>> open;
  {
    std::lock_guard lock(connections_mutex);
    stopping = true;
    open.swap(connections);
  }
  // Each on its own strand: never touch a socket from another.
  for (auto const& weak : open)
    if (auto c = weak.lock())
      net::post(c->stream.get_executor(), [c] {
        beast::error_code ignored;
        c->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        c->stream.socket().close(ignored);
      });
  net::post(control, [self = shared_from_this()] {
    beast::error_code ignored;
    self->proxy_acceptor.close(ignored);
    self->admin_acceptor.close(ignored);
  });
}

// ---------------------------------------------------------------- routing

void load_balancer::impl::emit(event_list const& events) const
{
  if (!options.on_event) return;
  for (auto const& e : events) options.on_event(e);
}

// R1-R3, R7: the one rotation. Under the lock, the choice and in_flight move
// together, so no two requests take the same turn.
std::optional<std::size_t> load_balancer::impl::choose(std::optional<std::string> const& pinned,
                                                       std::vector<bool> const& tried)
{
  std::lock_guard lock(mutex);
  auto const n = backends.size();
  auto const eligible = [&](std::size_t i) {
    auto const& b = *backends[i];
    return !tried[i] && b.state != health::down && !b.draining;
  };
  std::optional<std::size_t> pick;
  if (pinned)
    for (std::size_t i = 0; i < n; ++i)
      if (backends[i]->config.id == *pinned && eligible(i)) pick = i;
  if (!pick) {
    // The turn after the previous choice, not after its index + 1's: a down
    // backend's turn is skipped, not handed to its neighbour.
    std::size_t const from = last ? (*last + 1) % n : 0;
    for (std::size_t k = 0; k < n; ++k) {
      auto const i = (from + k) % n;
      if (!eligible(i)) continue;
      if (options.policy != policy::least_connections) {
        pick = i;
        break;
      }
      if (!pick || backends[i]->in_flight < backends[*pick]->in_flight) pick = i;  // ties: first in rotation
    }
  }
  if (pick) {
    last = pick;
    ++backends[*pick]->in_flight;
  }
  return pick;
}

// R3, R7: an attempt ended, however it ended.
void load_balancer::impl::finish(std::size_t index, boost::system::error_code const& ec)
{
  event_list events;
  {
    std::lock_guard lock(mutex);
    auto& b = *backends[index];
    --b.in_flight;
    if (!ec) ++b.responses;
    else if (ec != task18::breaker_errc::open) ++b.failures;
    if (b.draining && b.in_flight == 0 && !b.drained_reported) {
      b.drained_reported = true;
      events.push_back({lb_event::kind::drained, b.config.id});
    }
  }
  emit(events);
}

// R4, R5: one request, to as many backends as refuse it before sending.
net::awaitable<response_type> load_balancer::impl::forward(request_type request, std::string client_address)
{
  auto const version = request.version();
  bool const head = request.method() == http::verb::head;
  std::optional<std::string> const pinned =
      options.policy == policy::sticky_cookie ? cookie_value(request, options.cookie_name) : std::nullopt;
  remove_hop_by_hop(request);
  append_forwarded_for(request, client_address);
  request.version(11);

  std::vector<bool> tried(backends.size());
  for (;;) {
    auto const index = choose(pinned, tried);
    if (!index) {
      auto none = make_response(http::status::service_unavailable, version, "no backend available\n");
      none.set(http::field::retry_after, "1");
      co_return none;
    }
    tried[*index] = true;
    auto& b = *backends[*index];
    boost::system::error_code ec = net::error::operation_aborted;
    response_type response;
    {
      attempt_end const end{*this, *index, ec};  // however the attempt ends (R3)
      workbook::client_request call{request, nullptr};
      std::tie(ec, response) = co_await b.traffic().async_round_trip(std::move(call), awaitable_tuple{});
    }
    if (refused_before_sending(ec)) continue;  // it never saw the request: the next one may
    if (ec == beast::error::timeout)
      co_return make_response(http::status::gateway_timeout, version, "backend " + b.config.id + " timed out\n");
    if (ec)
      co_return make_response(http::status::bad_gateway, version,
                              "backend " + b.config.id + " failed: " + ec.message() + "\n");

    remove_hop_by_hop(response);
    if (options.policy == policy::sticky_cookie && pinned != b.config.id)
      response.insert(http::field::set_cookie, options.cookie_name + "=" + b.config.id + "; Path=/; HttpOnly");
    if (!head) response.prepare_payload();  // the framing is ours: the backend's went with Transfer-Encoding
    co_return response;
  }
}

std::vector<backend_status> load_balancer::impl::table() const
{
  std::vector<backend_status> out;
  std::lock_guard lock(mutex);
  for (auto const& b : backends) {
    backend_status s{b->config.id, b->config.endpoint, b->state, b->draining, std::nullopt};
    if (b->breaker) s.breaker = b->breaker_state.load();
    s.in_flight = b->in_flight;
    s.responses = b->responses;
    s.failures = b->failures;
    s.probes = b->probes;
    out.push_back(std::move(s));
  }
  return out;
}

// ---------------------------------------------------------------- construction

bool valid_id(std::string_view id)
{
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

namespace {

void listen(tcp::acceptor& acceptor, tcp::endpoint const& on)
{
  acceptor.open(on.protocol());
  acceptor.set_option(net::socket_base::reuse_address(true));
  acceptor.bind(on);
  acceptor.listen();
}

} // namespace

load_balancer::impl::impl(net::any_io_executor ex, std::vector<backend_config> configs, balancer_options o)
    : executor(std::move(ex)), options(std::move(o)), control(net::make_strand(executor)),
      proxy_acceptor(control), admin_acceptor(control), rounds(net::make_strand(executor)), schedule(rounds)
{
  if (configs.empty()) throw std::invalid_argument("load_balancer: no backends");
  for (auto& config : configs) {
    if (!valid_id(config.id))
      throw std::invalid_argument("load_balancer: backend id \"" + config.id + "\" is not 1-64 of [A-Za-z0-9._-]");
    for (auto const& b : backends)
      if (b->config.id == config.id) throw std::invalid_argument("load_balancer: two backends are \"" + config.id + "\"");
    auto b = std::make_unique<backend>();
    b->config = std::move(config);
    b->transport = std::make_unique<workbook::plain_transport>(
        executor, b->config.endpoint, workbook::plain_transport::options{4, options.backend_timeout});
    b->prober = std::make_unique<workbook::plain_transport>(
        executor, b->config.endpoint, workbook::plain_transport::options{0, options.probe_timeout});
    backends.push_back(std::move(b));
  }
}

load_balancer::load_balancer(net::any_io_executor executor, tcp::endpoint listen_on, tcp::endpoint admin_on,
                             std::vector<backend_config> backends, balancer_options options)
{
  // R11, before anything is bound: the admin API changes routing.
  if (!admin_on.address().is_loopback())
    throw std::invalid_argument("load_balancer: the admin endpoint listens on loopback only, not " +
                                admin_on.address().to_string());
  impl_ = std::make_shared<impl>(std::move(executor), std::move(backends), std::move(options));
  auto& self = *impl_;
  if (self.options.breaker) {
    // R8: a breaker of its own per backend; its transitions become events.
    for (auto& b : self.backends) {
      auto breaker_options = *self.options.breaker;
      auto caller = breaker_options.on_state_change;
      breaker_options.on_state_change = [weak = std::weak_ptr<impl>(impl_), raw = b.get(), caller](
                                            task18::breaker_state from, task18::breaker_state to) {
        raw->breaker_state = to;
        if (caller) caller(from, to);
        // Under the breaker's lock here: emit from the executor instead.
        if (auto self = weak.lock())
          net::post(self->rounds, [self, e = lb_event{lb_event::kind::breaker, raw->config.id, 0, from, to}] {
            self->emit({e});
          });
      };
      b->breaker = std::make_unique<task18::circuit_breaker>(self.executor, *b->transport, std::move(breaker_options));
    }
  }
  listen(self.proxy_acceptor, listen_on);
  listen(self.admin_acceptor, admin_on);
  self.proxy_local = self.proxy_acceptor.local_endpoint();
  self.admin_local = self.admin_acceptor.local_endpoint();
}

load_balancer::~load_balancer()
{
  impl_->stop_rounds();
  impl_->close_everything();
}

void load_balancer::start()
{
  auto self = impl_;
  server_role proxy{self->options.max_body,
                    [self](request_type request, tcp::endpoint client) {
                      return self->forward(std::move(request), client.address().to_string());
                    },
                    [](http::status status, std::string what) {
                      return make_response(status, 11, std::string(http::obsolete_reason(status)) + ": " + what + "\n");
                    }};
  net::co_spawn(self->control, accept_loop(self, self->proxy_acceptor, std::move(proxy)), net::detached);
  net::co_spawn(self->control, accept_loop(self, self->admin_acceptor, admin_role(self)), net::detached);
  self->start_rounds();
}

tcp::endpoint load_balancer::local_endpoint() const { return impl_->proxy_local; }
tcp::endpoint load_balancer::admin_endpoint() const { return impl_->admin_local; }
std::vector<backend_status> load_balancer::backends() const { return impl_->table(); }

} // namespace stretch2
