// Task 20 · the reference: a pool of TLS transports, one per tenant.
//
// Two halves. tls_transport is one tenant's HTTP/1.1-over-TLS client: an
// ssl::context made from the tenant's credentials and never changed after,
// a list of idle keep-alive connections that only this tenant's exchanges
// draw from, and an exchange written as one coroutine, from taking a
// connection to giving it back (the harness's plain_transport with a TLS
// layer). tenant_pool maps tenant ids to transports, builds each transport
// once however many threads ask at the same moment, and retires transports
// when their tenant goes or they sit idle.
#include "tenant_pool.hpp"

#include <workbook/tls_exchange.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <future>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

namespace task20 {

namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using boost::system::system_error;
using time_point = std::chrono::steady_clock::time_point;

namespace {

// The tenant's TLS client context, finished here, before anyone else can
// see it: an ssl::context is not safe to change while connections are made
// from it on other threads, so it is configured once and then only read.
ssl::context make_context(tenant_config const& config, tenant_credentials const& credentials)
{
  ssl::context context(ssl::context::tls_client);
  context.add_certificate_authority(net::buffer(credentials.trusted_cas));
  context.use_certificate_chain(net::buffer(credentials.certificate_chain));
  context.use_private_key(net::buffer(credentials.private_key), ssl::context::pem);
  // verify_peer makes OpenSSL check the chain against trusted_cas; the
  // callback adds what the chain cannot say: that the certificate is for
  // this tenant's server name (RFC 6125), not for any name the CA signed.
  context.set_verify_mode(ssl::verify_peer);
  context.set_verify_callback(ssl::host_name_verification(config.server_name));
  return context;
}

// A failure that means "the idle connection had been closed by the backend
// before we used it": the request never reached a live server, so it may be
// sent again on a fresh connection. Over TLS a close without close_notify
// reads as stream_truncated.
bool stale_connection(error_code ec)
{
  return ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
         ec == net::error::broken_pipe || ec == ssl::error::stream_truncated;
}

error_code code_of(std::exception_ptr e)
{
  try {
    std::rethrow_exception(e);
  } catch (system_error const& failure) {
    return failure.code();
  } catch (...) {
    return net::error::fault;
  }
}

struct connection {
  connection(net::any_io_executor const& executor, ssl::context& context) : stream(executor, context) {}
  ssl::stream<beast::tcp_stream> stream;
  beast::flat_buffer buffer;  // what the last read left over
};

// ---------------------------------------------------------------- one tenant's transport

class tls_transport final : public workbook::round_tripper, public std::enable_shared_from_this<tls_transport> {
public:
  tls_transport(net::any_io_executor executor, tenant_config const& config, tenant_credentials const& credentials,
                pool_options const& options)
      : executor_(std::move(executor)),
        server_name_(config.server_name),
        backend_(config.backend),
        options_(options),
        context_(make_context(config, credentials)),
        last_used_(options_.now())  // built counts as used: a new transport is not idle
  {
  }

  // Marks the transport retired and closes its idle connections. Exchanges
  // in flight finish; give_back() then closes their connections.
  void retire()
  {
    std::vector<std::unique_ptr<connection>> closing;
    {
      std::lock_guard lock(mutex_);
      retired_ = true;
      closing.swap(idle_);
    }
    close_all(closing);
  }

  // Retires the transport if nothing has used it for `ttl`: no exchange in
  // flight, none started or finished since now - ttl. Checked and done under
  // one lock, so an exchange cannot start in between.
  bool retire_if_idle(time_point now, std::chrono::steady_clock::duration ttl)
  {
    std::vector<std::unique_ptr<connection>> closing;
    {
      std::lock_guard lock(mutex_);
      if (retired_ || in_flight_ > 0 || now - last_used_ < ttl) return false;
      retired_ = true;
      closing.swap(idle_);
    }
    close_all(closing);
    return true;
  }

protected:
  void do_round_trip(workbook::client_request request, workbook::round_trip_handler handler) override
  {
    auto slot = net::get_associated_cancellation_slot(handler);
    auto handler_executor = net::get_associated_executor(handler, executor_);
    auto complete = [handler = std::move(handler)](std::exception_ptr e, workbook::client_response response) mutable {
      if (e) std::move(handler)(code_of(e), workbook::client_response{});
      else std::move(handler)(error_code{}, std::move(response));
    };
    // Each exchange on a strand of its own: the tcp_stream's deadline fires
    // as a handler of its own, and on an io_context run by several threads
    // it must not run at the same time as the read it cuts short (that is a
    // data race, and the timeout comes back as operation_aborted).
    net::co_spawn(net::make_strand(executor_), exchange(shared_from_this(), std::move(request)),
                  net::bind_executor(handler_executor, net::bind_cancellation_slot(slot, std::move(complete))));
  }

private:
  // An exchange in flight, from its start to its end: the transport is in
  // use, and its last use is when the exchange ends.
  class use {
  public:
    explicit use(tls_transport& t) : t_(t)
    {
      std::lock_guard lock(t_.mutex_);
      if (t_.retired_) throw system_error(make_error_code(pool_error::transport_retired));
      ++t_.in_flight_;
      t_.last_used_ = t_.options_.now();
    }
    ~use()
    {
      std::lock_guard lock(t_.mutex_);
      --t_.in_flight_;
      t_.last_used_ = t_.options_.now();
    }
    use(use const&) = delete;
    use& operator=(use const&) = delete;

  private:
    tls_transport& t_;
  };

  static net::awaitable<workbook::client_response> exchange(std::shared_ptr<tls_transport> self,
                                                            workbook::client_request request)
  {
    use const in_use(*self);
    auto& message = request.message;
    message.prepare_payload();
    for (;;) {
      auto [conn, reused] = self->take();
      // One deadline for all of it: the connect, the handshake (whose reads
      // and writes go through the tcp_stream below the TLS layer), the
      // request and the response.
      auto& tcp = beast::get_lowest_layer(conn->stream);
      tcp.expires_after(self->options_.timeout);
      if (!reused) {
        co_await tcp.async_connect(self->backend_, net::use_awaitable);
        co_await conn->stream.async_handshake(ssl::stream_base::client, net::use_awaitable);
      }
      error_code failure;
      try {
        auto response = co_await workbook::tls::async_exchange(conn->stream, conn->buffer, message, net::use_awaitable);
        tcp.expires_never();
        if (response.keep_alive() && message.keep_alive()) self->give_back(std::move(conn));
        co_return response;
      } catch (system_error const& e) {
        failure = e.code();
      }
      // Only a connection from the idle list may turn out to be stale; a
      // fresh one that fails is the answer.
      if (!reused || !stale_connection(failure)) throw system_error(failure);
    }
  }

  // An idle connection of this tenant's if there is one, else a new one,
  // not yet connected, that will ask for the tenant's name.
  std::pair<std::unique_ptr<connection>, bool> take()
  {
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        return {std::move(c), true};
      }
    }
    auto c = std::make_unique<connection>(executor_, context_);
    // SNI is part of the ClientHello, so it goes on the SSL object of each
    // connection before its handshake; the context cannot carry it.
    if (!SSL_set_tlsext_host_name(c->stream.native_handle(), server_name_.c_str()))
      throw system_error(error_code(static_cast<int>(ERR_get_error()), net::error::get_ssl_category()));
    return {std::move(c), false};
  }

  // After a complete exchange: kept for the next one, unless the transport
  // has been retired meanwhile (then nobody could ever take it again) or
  // enough are idle already.
  void give_back(std::unique_ptr<connection> c)
  {
    {
      std::lock_guard lock(mutex_);
      if (!retired_ && idle_.size() < options_.max_idle_connections) {
        idle_.push_back(std::move(c));
        return;
      }
    }
    beast::get_lowest_layer(c->stream).close();
  }

  // Closing an idle connection needs no close_notify: no message is cut
  // short, and the backend learns of it from the FIN.
  static void close_all(std::vector<std::unique_ptr<connection>>& connections)
  {
    for (auto& c : connections) beast::get_lowest_layer(c->stream).close();
  }

  net::any_io_executor const executor_;
  std::string const server_name_;
  net::ip::tcp::endpoint const backend_;
  pool_options const options_;
  ssl::context context_;  // configured by the constructor, read-only after

  std::mutex mutex_;  // the rest
  std::vector<std::unique_ptr<connection>> idle_;
  std::size_t in_flight_ = 0;
  time_point last_used_;
  bool retired_ = false;
};

} // namespace

// ---------------------------------------------------------------- the pool

struct tenant_pool::state {
  using transport_future = std::shared_future<std::shared_ptr<tls_transport>>;

  // One build of one tenant's transport: the future every caller that
  // arrives during the build waits on. Compared by address, so that a
  // builder can tell whether its build is still the tenant's.
  struct build {
    transport_future result;
  };

  struct tenant {
    tenant_config config;
    std::shared_ptr<tls_transport> transport;  // built and published
    std::shared_ptr<build> building;           // a build in progress
  };

  net::any_io_executor executor;
  pool_options options;

  std::mutex mutex;  // the map; never held while a transport is built
  std::map<std::string, tenant, std::less<>> tenants;
};

tenant_pool::tenant_pool(net::any_io_executor executor, pool_options options)
    : state_(std::make_shared<state>())
{
  state_->executor = std::move(executor);
  state_->options = std::move(options);
}

tenant_pool::~tenant_pool()
{
  std::vector<std::shared_ptr<tls_transport>> retiring;
  {
    std::lock_guard lock(state_->mutex);
    for (auto& [id, t] : state_->tenants)
      if (t.transport) retiring.push_back(std::move(t.transport));
    state_->tenants.clear();
  }
  for (auto& t : retiring) t->retire();
}

void tenant_pool::add(tenant_config config)
{
  std::shared_ptr<tls_transport> old;
  {
    std::lock_guard lock(state_->mutex);
    auto& t = state_->tenants[config.id];
    old = std::move(t.transport);
    // A build in progress was for the old config: forgetting it here means
    // its builder will not publish it (see for_tenant).
    t = state::tenant{std::move(config), nullptr, nullptr};
  }
  if (old) old->retire();
}

bool tenant_pool::remove(std::string_view id)
{
  std::shared_ptr<tls_transport> old;
  {
    std::lock_guard lock(state_->mutex);
    auto it = state_->tenants.find(id);
    if (it == state_->tenants.end()) return false;
    old = std::move(it->second.transport);
    state_->tenants.erase(it);
  }
  if (old) old->retire();
  return true;
}

std::shared_ptr<workbook::round_tripper> tenant_pool::for_tenant(std::string_view id)
{
  auto& s = *state_;
  std::promise<std::shared_ptr<tls_transport>> promise;
  std::shared_ptr<state::build> mine;
  state::transport_future theirs;
  tenant_config config;
  {
    std::lock_guard lock(s.mutex);
    auto it = s.tenants.find(id);
    if (it == s.tenants.end()) throw unknown_tenant(std::string(id));
    auto& t = it->second;
    if (t.transport) return t.transport;
    if (t.building) {
      theirs = t.building->result;
    } else {
      // This caller builds; whoever comes while it does waits on `mine`.
      mine = std::make_shared<state::build>(state::build{promise.get_future().share()});
      t.building = mine;
      config = t.config;
    }
  }
  if (theirs.valid()) return theirs.get();  // waits; rethrows what the build threw

  // Built without the lock: credentials() may take a while, and a call for
  // another tenant must not wait for it. Published only once complete.
  std::shared_ptr<tls_transport> built;
  try {
    built = std::make_shared<tls_transport>(s.executor, config, config.credentials(), s.options);
  } catch (...) {
    {
      // Not kept: the next call builds again.
      std::lock_guard lock(s.mutex);
      auto it = s.tenants.find(id);
      if (it != s.tenants.end() && it->second.building == mine) it->second.building.reset();
    }
    promise.set_exception(std::current_exception());
    throw;
  }
  bool still_wanted = false;
  {
    std::lock_guard lock(s.mutex);
    auto it = s.tenants.find(id);
    if (it != s.tenants.end() && it->second.building == mine) {
      it->second.transport = built;
      it->second.building.reset();
      still_wanted = true;
    }
  }
  // Removed or replaced while it was being built: its callers asked before
  // that, and get it, but retired, as remove() would have retired it.
  if (!still_wanted) built->retire();
  promise.set_value(built);
  return built;
}

std::size_t tenant_pool::reap_idle()
{
  auto const now = state_->options.now();
  std::size_t reaped = 0;
  std::lock_guard lock(state_->mutex);
  for (auto& [id, t] : state_->tenants) {
    if (t.transport && t.transport->retire_if_idle(now, state_->options.idle_ttl)) {
      t.transport.reset();
      ++reaped;
    }
  }
  return reaped;
}

} // namespace task20
