// Task 08 · broken handler: ignores the upstream's status.
//
// It only looks at the body. A 500 whose body is an error page still gives
// 502 here, because "Internal Server Error" is no integer: a test with such
// an upstream passes against this handler. Only an error status whose body
// IS an integer ("1700000000", say, from a cache that serves stale values
// with a 503) tells the status check from the integer check.
#include "broken_common.hpp"

namespace task08 {

response proxy_time::operator()(request const& req) const
{
  auto const reply = client_.get(upstream_ + "/now");
  if (reply.error) return broken::answer(req, http::status::bad_gateway, "unreachable\n");
  // BROKEN: no look at reply.status; any answer with an integer in it is a success.
  auto const value = broken::trimmed(reply.body);
  if (!broken::is_integer(value)) return broken::answer(req, http::status::bad_gateway, "no integer\n");
  return broken::answer(req, http::status::ok, "now: " + std::string(value));
}

} // namespace task08
