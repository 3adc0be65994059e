// Task 20 · the contract between your per-tenant TLS pool, the tests and the
// reference. Do not change this file: the tests are compiled against it.
#pragma once

#include <workbook/round_tripper.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace task20 {

namespace net = boost::asio;

// ---------------------------------------------------------------- a tenant

// What one tenant presents and trusts, PEM text throughout (what
// asio::ssl::context takes from a buffer).
struct tenant_credentials {
  std::string certificate_chain;  // the tenant's client certificate, then any intermediates
  std::string private_key;        // its key
  std::string trusted_cas;        // the authorities the backend's certificate must chain to
};

struct tenant_config {
  std::string id;                 // the tenant's name in the pool: "acme"

  // The name this tenant's connections ask for and check: sent as SNI in
  // every handshake, and the name the backend's certificate must carry
  // (hostname verification, RFC 6125). Not what is dialled: that is
  // `backend`, an address, so two tenants may share one backend and still
  // ask it for different names.
  std::string server_name;        // "acme.tenants.example"
  net::ip::tcp::endpoint backend; // where the tenant's connections go

  // Where the credentials come from: a file, a secret store. Called once
  // per build of the tenant's transport (see for_tenant), on the thread
  // that builds it; never at add(). It may block for a while (the tests'
  // does, on purpose) and it may throw: the build then fails with what it
  // threw.
  std::function<tenant_credentials()> credentials;
};

// ---------------------------------------------------------------- the options

struct pool_options {
  // A tenant's transport that has not been used for this long (no exchange
  // in flight, and none started or finished within idle_ttl) is retired by
  // reap_idle().
  std::chrono::steady_clock::duration idle_ttl = std::chrono::minutes(5);

  // The pool's only clock: every time the pool reads (when a transport was
  // last used, whether it has been idle for idle_ttl) comes from here. The
  // tests pass a workbook::manual_clock's.
  std::function<std::chrono::steady_clock::time_point()> now = [] { return std::chrono::steady_clock::now(); };

  // The most idle keep-alive connections one tenant's transport keeps.
  std::size_t max_idle_connections = 4;

  // One exchange, all of it: connecting, the TLS handshake, writing the
  // request and reading the response. Past it the exchange fails with
  // boost::beast::error::timeout.
  std::chrono::milliseconds timeout = std::chrono::seconds(10);
};

// ---------------------------------------------------------------- the errors

// for_tenant() of an id that was never added, or has been removed.
class unknown_tenant : public std::out_of_range {
public:
  explicit unknown_tenant(std::string id)
      : std::out_of_range("task20: no tenant \"" + id + "\" in the pool"), id_(std::move(id)) {}
  std::string const& tenant() const noexcept { return id_; }

private:
  std::string id_;
};

// How an exchange on a retired transport completes (see tenant_pool).
enum class pool_error { transport_retired = 1 };

inline boost::system::error_category const& pool_category()
{
  struct category final : boost::system::error_category {
    char const* name() const noexcept override { return "task20.pool"; }
    std::string message(int e) const override
    {
      return e == static_cast<int>(pool_error::transport_retired)
                 ? "the tenant's transport was retired (removed, replaced or reaped): ask the pool again"
                 : "task20.pool error";
    }
  };
  static category const instance;
  return instance;
}

inline boost::system::error_code make_error_code(pool_error e)
{
  return {static_cast<int>(e), pool_category()};
}

// ---------------------------------------------------------------- the pool

// A pool of TLS transports to backends, one per tenant, each with the
// tenant's own TLS identity, built on first use.
//
// A tenant's transport is a workbook::round_tripper: an HTTP/1.1 client
// over TLS that keeps up to max_idle_connections keep-alive connections to
// the tenant's backend and reuses them, for that tenant only. Every one of
// its connections
//   - presents the tenant's client certificate (credentials().certificate_chain
//     and private_key);
//   - sends the tenant's server_name as SNI;
//   - verifies the backend's certificate: it must chain to
//     credentials().trusted_cas and carry server_name. A certificate that
//     does not fails the exchange before any request is sent, with Asio's
//     SSL error (asio::error::get_ssl_category()) whose OpenSSL reason is
//     SSL_R_CERTIFICATE_VERIFY_FAILED;
// and each exchange is bounded by options.timeout. Two tenants never share
// a connection, not even to the same backend. A complete response is a
// success whatever its status; the request is sent as given (set Host).
//
// A transport is retired when its tenant is removed or replaced, and when
// reap_idle() finds it idle. Retiring closes its idle connections at once;
// from then on an exchange started on it completes with
// pool_error::transport_retired without connecting, and an exchange in
// flight finishes, but its connection is closed rather than kept. The pool
// forgets a retired transport: the next for_tenant() builds a new one.
//
// Every member function may be called from any thread, at any time, while
// the executor runs exchanges.
class tenant_pool {
public:
  // The transports' exchanges run on `executor`.
  explicit tenant_pool(net::any_io_executor executor, pool_options options = {});
  // Retires every transport.
  ~tenant_pool();
  tenant_pool(tenant_pool const&) = delete;
  tenant_pool& operator=(tenant_pool const&) = delete;

  // Adds a tenant; an existing tenant of the same id is replaced, and its
  // transport retired, so that the next for_tenant() uses the new config.
  // Builds nothing.
  void add(tenant_config config);

  // Removes the tenant and retires its transport. False if there was no
  // such tenant.
  bool remove(std::string_view id);

  // The tenant's transport: the one already built, or a new one, built once
  // however many threads ask for it at once. A build calls the tenant's
  // credentials() and configures the transport's TLS context completely
  // before any caller gets the transport; every caller that asked during
  // the build waits for it and gets the same transport. A build that throws
  // throws to all of them and is not kept: the next call builds again. One
  // tenant's build never holds up a call for another tenant.
  // Throws unknown_tenant for an id that is not in the pool.
  std::shared_ptr<workbook::round_tripper> for_tenant(std::string_view id);

  // Retires every transport that has been idle (by options.now) for at
  // least options.idle_ttl, and returns how many it retired. Tenants stay:
  // a reaped tenant's next for_tenant() builds again.
  std::size_t reap_idle();

  // Yours to define in tenant_pool.cpp: what the pool keeps.
  struct state;

private:
  std::shared_ptr<state> state_;
};

} // namespace task20

template <>
struct boost::system::is_error_code_enum<task20::pool_error> : std::true_type {};
