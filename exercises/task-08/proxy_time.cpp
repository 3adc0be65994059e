// Task 08 · your handler. Start with README.md; the steps there match the
// TODOs here and in your_tests/proxy_time_test.cpp. Run `grader task-08`
// after each step.
//
// The tests you write for it live in your_tests/: this task grades them too.
#include "proxy_time.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

#include <charconv>
#include <cstdint>
#include <string_view>

namespace task08 {

response proxy_time::operator()(request const& req) const
{
  // TODO (step 2): ask the upstream for the time. upstream_ is its base URL
  // ("http://127.0.0.1:41234"), client_ the client you were handed: which
  // URL do you pass to client_.get()? Nothing global, nothing hard-coded.

  // TODO (step 2): the upstream may not answer at all (reply.error), may
  // answer with a status that is not 2xx, or may send a body that is not an
  // integer. Which status do you answer with in each case, and which check
  // comes first? (http::to_status_class helps with "2xx".)

  // TODO (step 2): "1700000000\n" is the time 1700000000. Take off the
  // whitespace around it, make sure what is left is an integer (std::from_chars:
  // what does it say about "42 s"?), and answer 200 with "now: <value>".

  response res{http::status::not_implemented, req.version()};
  res.set(http::field::content_type, "text/plain");
  res.keep_alive(req.keep_alive());
  res.body() = "proxy_time: not written yet (task 08)\n";
  res.prepare_payload();
  return res;
}

} // namespace task08
