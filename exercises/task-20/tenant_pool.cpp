// Task 20 · your per-tenant TLS pool. Start with README.md; the steps there
// match the TODOs here. Run `grader task-20` after each step.
//
// As it stands the pool knows no tenant and builds nothing: it compiles,
// runs, and fails every criterion.
#include "tenant_pool.hpp"

#include <workbook/tls_exchange.hpp>

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <mutex>
#include <stdexcept>
#include <utility>

namespace task20 {

namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace http = beast::http;

// TODO (step 2): the tenant's ssl::context, made from its credentials: what
// it trusts, what it presents, and what it checks about the backend's
// certificate. When is it safe for connections to be made from it?

// TODO (step 3): one tenant's transport, a workbook::round_tripper (the
// harness's plain_transport in harness/src/round_tripper.cpp is the model):
// take an idle connection of this tenant's or make a new one, connect,
// handshake, write the request, read the response, give the connection
// back. What must each new connection be told before its handshake that the
// context cannot tell it? What does the deadline cover? (The write and the
// read can be one workbook::tls::async_exchange: README, step 3, says why.)

// TODO (step 4): retiring a transport: its idle connections, an exchange
// that starts afterwards, an exchange still in flight. And what reap_idle()
// needs to know from it: is it in use, and since when is it not?

struct tenant_pool::state {
  net::any_io_executor executor;
  pool_options options;
  // TODO (step 5): the tenants, and for each its config and its transport,
  // built or being built.
};

tenant_pool::tenant_pool(net::any_io_executor executor, pool_options options)
    : state_(std::make_shared<state>())
{
  state_->executor = std::move(executor);
  state_->options = std::move(options);
}

tenant_pool::~tenant_pool()
{
  // TODO (step 6): retire every transport.
}

void tenant_pool::add(tenant_config config)
{
  // TODO (step 6): add the tenant, or replace it.
  (void)config;
}

bool tenant_pool::remove(std::string_view id)
{
  // TODO (step 6): forget the tenant, retire its transport.
  (void)id;
  return false;
}

std::shared_ptr<workbook::round_tripper> tenant_pool::for_tenant(std::string_view id)
{
  // TODO (step 5): the tenant's transport, built once. Who builds it when a
  // thousand threads ask at the same moment, what do the others do
  // meanwhile, and what do they get if the build throws?
  throw std::logic_error("task 20: tenant_pool::for_tenant(\"" + std::string(id) + "\") is not written yet");
}

std::size_t tenant_pool::reap_idle()
{
  // TODO (step 6): retire what has been idle for options.idle_ttl, by
  // options.now().
  return 0;
}

} // namespace task20
