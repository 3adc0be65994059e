// Task 08 · broken handler: keeps the first upstream URL it saw in a static.
//
// "The URL never changes, so build it once." A function-local static is
// initialised by the first call in the whole program, so every proxy_time
// after the first asks the FIRST one's upstream: the C++ spelling of a
// package-level `var upstreamURL`. A test suite in which only one handler
// ever succeeds cannot see it; two handlers with two upstreams in one test
// (or a second test that expects a success) can.
#include "broken_common.hpp"

namespace task08 {

response proxy_time::operator()(request const& req) const
{
  static std::string const url = upstream_ + "/now";  // BROKEN: shared by every proxy_time, for ever
  auto const reply = client_.get(url);
  if (reply.error) return broken::answer(req, http::status::bad_gateway, "unreachable\n");
  if (!broken::is_success(reply.status)) return broken::answer(req, http::status::bad_gateway, "bad status\n");
  auto const value = broken::trimmed(reply.body);
  if (!broken::is_integer(value)) return broken::answer(req, http::status::bad_gateway, "no integer\n");
  return broken::answer(req, http::status::ok, "now: " + std::string(value));
}

} // namespace task08
