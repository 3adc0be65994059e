// Task 08 · broken handler: keeps the newline the upstream sent.
//
// It checks the trimmed value, then answers with the body as it arrived:
// "now: 1700000000\n". A test that compares the whole body, not just
// "contains 1700000000", sees the difference.
#include "broken_common.hpp"

namespace task08 {

response proxy_time::operator()(request const& req) const
{
  auto const reply = client_.get(upstream_ + "/now");
  if (reply.error) return broken::answer(req, http::status::bad_gateway, "unreachable\n");
  if (!broken::is_success(reply.status)) return broken::answer(req, http::status::bad_gateway, "bad status\n");
  auto const value = broken::trimmed(reply.body);
  if (!broken::is_integer(value)) return broken::answer(req, http::status::bad_gateway, "no integer\n");
  return broken::answer(req, http::status::ok, "now: " + reply.body);  // BROKEN: the body, not the value
}

} // namespace task08
