// Task 08 · broken handler: answers 200 when the upstream is down.
//
// "Degrading gracefully": when the upstream cannot be reached it still says
// 200, with a time nobody can use. Every caller then believes the time
// service works. Only a test with an upstream that is really gone (stopped,
// or a port where nothing listens) sees it.
#include "broken_common.hpp"

namespace task08 {

response proxy_time::operator()(request const& req) const
{
  auto const reply = client_.get(upstream_ + "/now");
  if (reply.error) return broken::answer(req, http::status::ok, "now: unknown");  // BROKEN: a failure reported as success
  if (!broken::is_success(reply.status)) return broken::answer(req, http::status::bad_gateway, "bad status\n");
  auto const value = broken::trimmed(reply.body);
  if (!broken::is_integer(value)) return broken::answer(req, http::status::bad_gateway, "no integer\n");
  return broken::answer(req, http::status::ok, "now: " + std::string(value));
}

} // namespace task08
