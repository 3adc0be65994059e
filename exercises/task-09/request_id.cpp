// Task 09 · your request-ID layers. Start with README.md; the steps there
// match the TODOs here. Run `grader task-09` after each step.
//
// As it stands every layer hands back the handler it was given, nothing is
// logged and nothing is random: it compiles, serves, and fails every
// criterion.
#include "request_id.hpp"
#include "upstream_client.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

#include <exception>

namespace task09 {

void log(request_context const& ctx, std::string_view message)
{
  // TODO (step 2): one line to ctx.sink, in the format request_id.hpp gives.
  // Where does the ID come from, and what if there is none yet?
  (void)ctx;
  (void)message;
}

void os_random(std::span<unsigned char> out)
{
  // TODO (step 3): fill `out` from the operating system's CSPRNG
  // (<sys/random.h>). Can a single call fill less than you asked for?
  (void)out;
}

bool acceptable_request_id(std::string_view id)
{
  // TODO (step 3): 1 to max_request_id_length characters from the allowed set.
  (void)id;
  return false;
}

std::string new_request_id(random_source const& random)
{
  // TODO (step 3): request_id_bytes bytes from `random`, as lowercase hex.
  (void)random;
  return "";
}

middleware request_id(random_source random)
{
  return [random = std::move(random)](handler next) -> handler {
    // TODO (step 4): return a handler that decides the request's ID (kept or
    // new), makes sure the request passed inward carries only that one, puts
    // it into the context it hands to `next`, and sets it on the response on
    // its way out. The way out is the `done` you pass to `next`.
    return next;
  };
}

middleware access_log()
{
  return [](handler next) -> handler {
    // TODO (step 5): return a handler that writes its line when the response
    // passes on its way out. On which thread may that be, and what must the
    // closure you give `next` as its `done` carry for the line to be right?
    return next;
  };
}

middleware recover()
{
  return [](handler next) -> handler {
    // TODO (step 6): return a handler that calls `next` inside try/catch,
    // logs what was thrown with the request's ID, and answers 500 unless the
    // request has been answered already. How will you know that it has?
    return next;
  };
}

handler relay(std::string upstream, std::chrono::milliseconds timeout)
{
  return [upstream = std::move(upstream), timeout](request_context ctx, request& req, respond done) {
    // TODO (step 7): call async_get (upstream_client.hpp) on ctx.executor,
    // forwarding the ID, and answer from its callback. The callback runs
    // later, maybe on another thread: what must it have captured?
    (void)ctx;
    (void)req;
    (void)timeout;
    response res{http::status::not_implemented, 11};
    res.set(http::field::content_type, "text/plain");
    res.body() = "relay: not written yet\n";
    done(std::move(res));
  };
}

} // namespace task09
