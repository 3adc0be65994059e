// Task 07 · your middleware. Start with README.md; the steps there match the
// TODOs here. Run `grader task-07` after each step.
//
// Every function below returns a layer that does nothing: it hands back the
// handler it was given. That compiles, serves, and fails every criterion.
#include "middleware.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

#include <exception>

namespace task07 {

middleware chain(std::vector<middleware> layers)
{
  // TODO (step 2): wrap h in every layer so that the FIRST one listed ends
  // up outermost: chain(a, b, c)(h) == a(b(c(h))). In which order must the
  // layers be applied for that? And what does chain() return?
  return [layers = std::move(layers)](handler h) { return h; };
}

middleware logging(log_sink sink, time_source now)
{
  return [sink = std::move(sink), now = std::move(now)](handler next) -> handler {
    // TODO (step 3): return a handler that notes the time, calls `next`,
    // and writes the line middleware.hpp describes once the response is back.
    // Which status belongs in the line, and when is it known?
    return next;
  };
}

middleware bearer_auth(std::string token)
{
  return [token = std::move(token)](handler next) -> handler {
    // TODO (step 4): return a handler that answers 401 itself, with
    // WWW-Authenticate, unless the request carries `Authorization: Bearer
    // <token>`; only then may it call `next`.
    return next;
  };
}

middleware recover(log_sink sink)
{
  return [sink = std::move(sink)](handler next) -> handler {
    // TODO (step 5): return a handler that calls `next` and turns anything
    // it throws into a 500, writing one line to `sink`. What should the
    // client learn about the exception, and what should the log?
    return next;
  };
}

} // namespace task07
