// Stretch 2 · reference: the admin endpoint (R10, R11) and its table. The
// endpoint is the proxy's own server loop with another answer: routes are
// matched on the path, an id is checked before it is looked up (400 before
// 404), and every answer, errors included, is JSON.
#include "balancer_impl.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <utility>

namespace stretch2 {

std::string table_json(policy p, std::vector<backend_status> const& backends)
{
  boost::json::array list;
  for (auto const& b : backends) {
    boost::json::object o;  // keeps the order keys are inserted in
    o["id"] = b.id;
    o["address"] = address_of(b.endpoint);
    o["health"] = to_string(b.state);
    o["draining"] = b.draining;
    if (b.breaker) o["breaker"] = task18::to_string(*b.breaker);
    else o["breaker"] = nullptr;
    o["in_flight"] = static_cast<std::uint64_t>(b.in_flight);
    o["responses"] = b.responses;
    o["failures"] = b.failures;
    o["probes"] = b.probes;
    list.push_back(std::move(o));
  }
  boost::json::object table;
  table["policy"] = to_string(p);
  table["backends"] = std::move(list);
  return boost::json::serialize(table);
}

namespace {

constexpr std::string_view json_type = "application/json";

response_type json_response(http::status status, unsigned version, boost::json::object const& body)
{
  return make_response(status, version, boost::json::serialize(body), json_type);
}

response_type error_response(http::status status, unsigned version, std::string what)
{
  return json_response(status, version, {{"error", std::move(what)}});
}

response_type wrong_method(unsigned version, std::string_view path, http::verb allowed)
{
  auto response = error_response(http::status::method_not_allowed, version,
                                 std::string(path) + " takes " + std::string(http::to_string(allowed)));
  response.set(http::field::allow, http::to_string(allowed));
  return response;
}

// Completes once a probe round that started after this call has ended.
template <class CompletionToken>
auto async_check(std::shared_ptr<load_balancer::impl> self, CompletionToken&& token)
{
  return net::async_initiate<CompletionToken, void()>(
      [self](auto handler) { self->check(load_balancer::impl::check_waiter(std::move(handler))); }, token);
}

} // namespace

// R7: drain or undrain one backend; the answer says what is still in flight.
response_type load_balancer::impl::drain(std::string const& id, bool on)
{
  event_list events;
  std::size_t in_flight = 0;
  {
    std::lock_guard lock(mutex);
    auto const it = std::find_if(backends.begin(), backends.end(), [&](auto const& b) { return b->config.id == id; });
    if (it == backends.end())
      return error_response(http::status::not_found, 11, "no backend has the id \"" + id + "\"");
    auto& b = **it;
    if (on && !b.draining) {
      b.draining = true;
      events.push_back({lb_event::kind::draining, id});
      b.drained_reported = b.in_flight == 0;
      if (b.drained_reported) events.push_back({lb_event::kind::drained, id});
    } else if (!on && b.draining) {
      b.draining = false;
      events.push_back({lb_event::kind::undrained, id});
    }
    in_flight = b.in_flight;
  }
  emit(events);
  return json_response(on ? http::status::accepted : http::status::ok, 11,
                       {{"id", id}, {"draining", on}, {"in_flight", static_cast<std::uint64_t>(in_flight)}});
}

net::awaitable<response_type> load_balancer::impl::administer(request_type request)
{
  auto const version = request.version();
  std::string_view path = request.target();
  path = path.substr(0, path.find('?'));  // the query is ignored
  auto const method = request.method();

  if (path == "/backends") {
    if (method != http::verb::get) co_return wrong_method(version, path, http::verb::get);
    co_return make_response(http::status::ok, version, table_json(options.policy, table()), json_type);
  }
  if (path == "/check") {
    if (method != http::verb::post) co_return wrong_method(version, path, http::verb::post);
    co_await async_check(shared_from_this(), net::use_awaitable);
    co_return make_response(http::status::ok, version, table_json(options.policy, table()), json_type);
  }
  for (std::string_view const prefix : {"/drain/", "/undrain/"}) {
    if (!path.starts_with(prefix)) continue;
    auto const id = path.substr(prefix.size());
    if (id.empty() || id.find('/') != std::string_view::npos)
      co_return error_response(http::status::not_found, version, "no such path: " + std::string(path));
    if (method != http::verb::post) co_return wrong_method(version, path, http::verb::post);
    if (!valid_id(id))
      co_return error_response(http::status::bad_request, version,
                               "a backend id is 1 to 64 of A-Z a-z 0-9 . _ -, not \"" + std::string(id) + "\"");
    auto response = drain(std::string(id), prefix == "/drain/");
    response.version(version);
    co_return response;
  }
  co_return error_response(http::status::not_found, version, "no such path: " + std::string(path));
}

// R10: bodies are small JSON (1 KiB), and every answer is JSON, the
// refusals of what could not be read included.
server_role admin_role(std::shared_ptr<load_balancer::impl> self)
{
  return {1024,
          [self](request_type request, tcp::endpoint) { return self->administer(std::move(request)); },
          [](http::status status, std::string what) { return error_response(status, 11, std::move(what)); }};
}

} // namespace stretch2
