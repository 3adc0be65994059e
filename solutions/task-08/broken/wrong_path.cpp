// Task 08 · broken handler: asks the upstream for the wrong path.
//
// Against an upstream that answers every path with the time, this handler
// looks perfect. Only a fake upstream that knows which path it serves (a
// 404 for the others), or a test that looks at the path it was asked for,
// tells it apart.
#include "broken_common.hpp"

namespace task08 {

response proxy_time::operator()(request const& req) const
{
  auto const reply = client_.get(upstream_ + "/time");  // BROKEN: the service's path is /now
  if (reply.error) return broken::answer(req, http::status::bad_gateway, "unreachable\n");
  if (!broken::is_success(reply.status)) return broken::answer(req, http::status::bad_gateway, "bad status\n");
  auto const value = broken::trimmed(reply.body);
  if (!broken::is_integer(value)) return broken::answer(req, http::status::bad_gateway, "no integer\n");
  return broken::answer(req, http::status::ok, "now: " + std::string(value));
}

} // namespace task08
