// Stretch 3 · reference: the ingress. A connection is one coroutine on a
// strand of its own: the handshake under handshake_timeout, counted once;
// then requests, each checked against the connection's server name and
// forwarded to its tenant's upstream; then close_notify and the close.
#include "ingress_impl.hpp"

#include <workbook/tls_serve.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/rfc7230.hpp>

#include <openssl/ssl.h>

#include <exception>
#include <stdexcept>
#include <utility>

namespace stretch3 {

namespace beast = boost::beast;
using boost::system::error_code;

struct connection {
  connection(tcp::socket socket, ssl::context& listener) : stream(std::move(socket), listener), idle(stream.get_executor()) {}
  workbook::tls::server_stream stream;
  handshake_notes notes;
  net::steady_timer idle;               // the wait for the next request (S3)
  bool idle_expired = false;
};

namespace {

// ---------------------------------------------------------------- messages

constexpr http::field hop_by_hop[] = {
    http::field::connection,          http::field::keep_alive, http::field::proxy_connection,
    http::field::proxy_authenticate,  http::field::proxy_authorization, http::field::te,
    http::field::trailer,             http::field::transfer_encoding,   http::field::upgrade,
};

// H1. A sender makes any field hop-by-hop by naming it in Connection, in
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

response_type make_response(http::status status, std::string body)
{
  response_type response{status, 11};
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

// The host of a Host field: "[::1]:8443" -> "[::1]", "Acme.test:443" -> "acme.test".
std::string host_of(std::string_view host)
{
  auto const colon = host.rfind(':');
  if (colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos) host = host.substr(0, colon);
  return to_lower(host);
}

// ---------------------------------------------------------------- a connection

bool peer_is_gone(error_code const& ec)
{
  return ec == http::error::end_of_stream || ec == net::ssl::error::stream_truncated ||
         ec == net::error::operation_aborted || ec == net::error::connection_reset || ec == net::error::eof ||
         ec == net::error::bad_descriptor;
}

// S1-S3: how the handshake ended, counted in exactly one place.
bool count_handshake(ingress::impl& self, connection& c, error_code const& ec)
{
  auto& k = self.counts;
  if (!ec) {
    ++(SSL_session_reused(c.stream.native_handle()) ? k.resumed : k.full);
    return true;
  }
  if (ec == beast::error::timeout) ++k.timeouts;
  else if (c.notes.refused_name) ++k.rejected;
  else ++k.failures;
  return false;
}

// One request read, or why none was: the idle timer cancels a read that
// waits too long, so that the connection can still say close_notify (the
// stream's own deadline would close the socket under it).
net::awaitable<error_code> read_request(ingress::impl& self, connection& c, beast::flat_buffer& buffer,
                                        workbook::tls::request_parser& parser)
{
  c.idle.expires_after(self.options.idle_timeout);
  c.idle_expired = false;
  c.idle.async_wait([&c](error_code ec) {
    if (ec) return;
    c.idle_expired = true;
    error_code ignored;
    beast::get_lowest_layer(c.stream).socket().cancel(ignored);
  });
  auto [ec, bytes] = co_await workbook::tls::async_read_request(c.stream, buffer, parser, awaitable_tuple);
  c.idle.cancel();
  co_return ec;
}

net::awaitable<void> serve(std::shared_ptr<ingress::impl> self, std::shared_ptr<connection> c)
{
  auto& stream = c->stream;
  auto& tcp_layer = beast::get_lowest_layer(stream);
  attach_notes(stream.native_handle(), &c->notes);
  error_code ignored;
  auto const client = tcp_layer.socket().remote_endpoint(ignored).address().to_string();

  tcp_layer.expires_after(self->options.handshake_timeout);
  auto [handshake_error] = co_await stream.async_handshake(ssl::stream_base::server, awaitable_tuple);
  if (!count_handshake(*self, *c, handshake_error)) {
    tcp_layer.close();
    co_return;
  }

  beast::flat_buffer buffer;
  bool say_goodbye = true;
  for (;;) {
    tcp_layer.expires_never();
    workbook::tls::request_parser parser;
    parser.body_limit(self->options.max_body);
    auto const read_error = co_await read_request(*self, *c, buffer, parser);
    if (read_error) {
      if (c->idle_expired) break;  // S3: idle for idle_timeout
      if (peer_is_gone(read_error)) {
        say_goodbye = read_error == http::error::end_of_stream;
        break;
      }
      // What the client sent cannot be framed: answer, then close.
      auto refusal = make_response(read_error == http::error::body_limit ? http::status::payload_too_large
                                                                         : http::status::bad_request,
                                   read_error.message() + "\n");
      refusal.keep_alive(false);
      tcp_layer.expires_after(self->options.idle_timeout);
      co_await workbook::tls::async_write_response(stream, refusal, awaitable_tuple);
      break;
    }
    auto request = parser.release();
    bool const keep_alive = request.keep_alive();
    auto const version = request.version();
    auto response = co_await self->answer(std::move(request), c->notes.server_name, client);
    response.version(version);
    response.keep_alive(keep_alive);
    ++self->counts.requests;
    tcp_layer.expires_after(self->options.idle_timeout);
    auto [write_error, written] = co_await workbook::tls::async_write_response(stream, response, awaitable_tuple);
    if (write_error) {
      say_goodbye = false;
      break;
    }
    if (!keep_alive) break;
  }
  if (say_goodbye && tcp_layer.socket().is_open()) {
    // S3: close_notify before the close, bounded: a peer that never answers
    // with its own does not hold the connection.
    tcp_layer.expires_after(self->options.handshake_timeout);
    co_await stream.async_shutdown(awaitable_tuple);
  }
  tcp_layer.close();
}

void listen(tcp::acceptor& acceptor, tcp::endpoint const& on)
{
  acceptor.open(on.protocol());
  acceptor.set_option(net::socket_base::reuse_address(true));
  acceptor.bind(on);
  acceptor.listen();
}

std::string joined(std::vector<std::string> const& errors)
{
  std::string out;
  for (auto const& e : errors) out += (out.empty() ? "" : "; ") + e;
  return out;
}

} // namespace

// ---------------------------------------------------------------- requests

// H1: the connection's name decides everything; Host only has to agree.
net::awaitable<response_type> ingress::impl::answer(request_type request, std::string const& server_name,
                                                    std::string const& client_address)
{
  auto const host = request[http::field::host];
  if (host.empty()) co_return make_response(http::status::bad_request, "a request needs a Host\n");
  if (host_of(host) != server_name) {
    ++counts.misdirected;
    co_return make_response(http::status::misdirected_request,
                            "this connection is for " + server_name + ", not " + std::string(host) + "\n");
  }
  auto const tenant = options.tenants.find(server_name);
  if (tenant == options.tenants.end())
    co_return make_response(http::status::not_found, "no tenant serves " + server_name + "\n");

  remove_hop_by_hop(request);
  append_forwarded_for(request, client_address);
  request.set("X-Forwarded-Proto", "https");
  request.version(11);
  bool const head = request.method() == http::verb::head;
  auto response = co_await forward(tenant->second, std::move(request));
  if (!head) response.prepare_payload();  // the framing is ours, not the backend's
  co_return response;
}

// H2: one retry, for a transport the pool retired under us. An exchange in
// flight is not cancelled when the ingress stops: the upstream's own
// timeout bounds it. (Boost 1.81's co_spawn, inside task 20's pool, leaves
// its cancellation handler in the caller's slot after the exchange, and
// that handler posts a pointer into itself to the pool's executor: a signal
// emitted then, or freed before the post runs, is a use after free.)
net::awaitable<response_type> ingress::impl::forward(std::string const& tenant, request_type request)
{
  for (int attempt = 1;; ++attempt) {
    std::shared_ptr<workbook::round_tripper> transport;
    try {
      transport = upstream(tenant);
    } catch (std::exception const& e) {
      co_return make_response(http::status::bad_gateway, "tenant " + tenant + ": " + e.what() + "\n");
    }
    auto [ec, response] = co_await transport->async_round_trip(
        workbook::client_request{request, nullptr}, awaitable_tuple);
    if (ec == task20::pool_error::transport_retired && attempt == 1) continue;
    if (ec == beast::error::timeout)
      co_return make_response(http::status::gateway_timeout, "tenant " + tenant + ": the upstream timed out\n");
    if (ec) co_return make_response(http::status::bad_gateway, "tenant " + tenant + ": " + ec.message() + "\n");
    remove_hop_by_hop(response);
    co_return response;
  }
}

// ---------------------------------------------------------------- lifetime

ingress::impl::impl(net::any_io_executor ex, upstream_lookup lookup, ingress_options o)
    : executor(std::move(ex)), upstream(std::move(lookup)), options(std::move(o)), control(net::make_strand(executor)),
      acceptor(control), watch_timer(net::make_strand(executor))
{
}

bool ingress::impl::started()
{
  std::lock_guard lock(connections_mutex);
  if (stopping) return false;
  ++running;
  return true;
}

void ingress::impl::finished()
{
  std::lock_guard lock(connections_mutex);
  --running;
  all_done.notify_all();
}

net::awaitable<void> ingress::impl::accept_loop()
{
  for (;;) {
    // Each connection on a strand of its own: the io threads serve many at once.
    auto [error, socket] = co_await acceptor.async_accept(net::make_strand(executor), awaitable_tuple);
    if (error == net::error::operation_aborted || !acceptor.is_open()) co_return;  // stopping
    if (error) {
      // Out of descriptors, say: pause rather than spin on the same failure.
      net::steady_timer pause(control, std::chrono::milliseconds(50));
      co_await pause.async_wait(awaitable_tuple);
      continue;
    }
    if (!started()) co_return;
    auto c = std::make_shared<connection>(std::move(socket), *listener);
    {
      std::lock_guard lock(connections_mutex);
      std::erase_if(connections, [](auto const& weak) { return weak.expired(); });
      connections.push_back(c);
    }
    ++counts.open;
    auto const ex = c->stream.get_executor();
    net::co_spawn(ex, serve(shared_from_this(), std::move(c)), [self = shared_from_this()](std::exception_ptr) {
      --self->counts.open;
      self->finished();
    });
  }
}

void ingress::impl::close_everything()
{
  std::vector<std::weak_ptr<connection>> open;
  {
    std::lock_guard lock(connections_mutex);
    stopping = true;
    open.swap(connections);
  }
  // Each on its own strand: a socket is touched only by its connection's.
  for (auto const& weak : open)
    if (auto c = weak.lock())
      net::post(c->stream.get_executor(), [c] {
        c->idle.cancel();
        error_code ignored;
        beast::get_lowest_layer(c->stream).socket().close(ignored);
      });
  net::post(control, [self = shared_from_this()] {
    error_code ignored;
    self->acceptor.close(ignored);
  });
  net::post(watch_timer.get_executor(), [self = shared_from_this()] { self->watch_timer.cancel(); });
}

ingress::ingress(net::any_io_executor executor, tcp::endpoint listen_on, upstream_lookup upstream,
                 ingress_options options)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(upstream), std::move(options)))
{
  auto& self = *impl_;
  self.last_listing = directory_listing(self.options.cert_dir);
  auto first = load_certificates(self.options.cert_dir, 1);
  if (!first.set) throw std::runtime_error("stretch3::ingress: " + joined(first.errors));
  self.set = std::move(first.set);
  self.listener = make_listener_context(self);
  listen(self.acceptor, listen_on);
  self.local = self.acceptor.local_endpoint();
}

ingress::~ingress()
{
  impl_->close_everything();
  std::unique_lock lock(impl_->connections_mutex);
  impl_->all_done.wait(lock, [this] { return impl_->running == 0; });
}

void ingress::start()
{
  auto self = impl_;
  auto done = [self](std::exception_ptr) { self->finished(); };
  if (self->started()) net::co_spawn(self->control, self->accept_loop(), done);
  if (self->options.watch_interval.count() > 0 && self->started())
    net::co_spawn(self->watch_timer.get_executor(), self->watch(), done);
}

tcp::endpoint ingress::local_endpoint() const { return impl_->local; }

reload_result ingress::reload() { return impl_->reload(); }

ingress_stats ingress::stats() const
{
  auto const& k = impl_->counts;
  ingress_stats s;
  s.handshakes_full = k.full;
  s.handshakes_resumed = k.resumed;
  s.rejected_sni = k.rejected;
  s.handshake_failures = k.failures;
  s.handshake_timeouts = k.timeouts;
  s.requests = k.requests;
  s.misdirected = k.misdirected;
  s.connections_open = k.open;
  s.generation = impl_->current_set()->generation;
  return s;
}

} // namespace stretch3
