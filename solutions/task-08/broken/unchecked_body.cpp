// Task 08 · broken handler: passes on a body that is not an integer.
//
// Whatever a 2xx upstream says becomes the time: "now: soon", "now: ".
// Tests that only ever feed it good times never notice.
#include "broken_common.hpp"

namespace task08 {

response proxy_time::operator()(request const& req) const
{
  auto const reply = client_.get(upstream_ + "/now");
  if (reply.error) return broken::answer(req, http::status::bad_gateway, "unreachable\n");
  if (!broken::is_success(reply.status)) return broken::answer(req, http::status::bad_gateway, "bad status\n");
  auto const value = broken::trimmed(reply.body);  // BROKEN: never checked to be an integer
  return broken::answer(req, http::status::ok, "now: " + std::string(value));
}

} // namespace task08
