// Task 07 · the contract between your middleware, the tests and the reference.
// Do not change this file: the tests are compiled against it.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <concepts>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace task07 {

namespace http = boost::beast::http;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

// What answers a request. It takes the request by reference: a layer may add
// to it (a request id, the authenticated user) for the layers inside it.
using handler = std::function<response(request&)>;

// A layer around a handler: given the next handler, it returns one that may
// act before calling it, after it returns, or instead of calling it at all.
using middleware = std::function<handler(handler)>;

// Where log lines go: one call per line, without a trailing newline.
using log_sink = std::function<void(std::string const& line)>;

// What time it is. The tests pass a clock they move by hand.
using time_source = std::function<std::chrono::steady_clock::time_point()>;

// One middleware made of several: chain(a, b, c)(h) behaves as a(b(c(h))).
// The first layer is the outermost: it sees the request first and the
// response last. chain() is the identity: chain()(h) behaves as h.
middleware chain(std::vector<middleware> layers);

// chain(a, b, c): the same, for layers listed as arguments.
template <class... Layers>
  requires(std::convertible_to<Layers, middleware> && ...)
middleware chain(Layers... layers)
{
  return chain(std::vector<middleware>{middleware(std::move(layers))...});
}

// Writes one line per request to `sink`, once the response has come back
// from the layers inside:
//
//   method=GET target=/users/42 status=200 bytes=6 latency_us=1500
//
//   method      the request's method, as sent
//   target      the request target, as sent (path and query)
//   status      the status of the response the inner handler returned
//   bytes       the size of that response's body
//   latency_us  whole microseconds by `now`, from the moment this layer
//               received the request to the moment the inner handler returned
//
// An exception from inside passes through untouched and writes no line: put
// recover() inside logging() to see the 500 it becomes.
middleware logging(log_sink sink, time_source now = std::chrono::steady_clock::now);

// Lets a request through only when it carries `Authorization: Bearer TOKEN`
// with exactly this token (the scheme "Bearer" in any letter case). Any
// other request is answered here, and the inner handler is not called:
// 401, `WWW-Authenticate: Bearer` (parameters after the scheme are allowed),
// Content-Type text/plain and a short body.
middleware bearer_auth(std::string token);

// Catches whatever the inner handler throws and answers 500 instead, with
// Content-Type text/plain and a body that does not repeat what was thrown.
// Writes one line to `sink` per exception caught:
//
//   recovered method=GET target=/boom error=<what()>
//
// with `error=(not a std::exception)` for anything that is not one. A
// response that comes back normally passes through untouched, and no line
// is written.
middleware recover(log_sink sink);

} // namespace task07
