// Task 09 · the contract between your request-ID layers, the tests and the
// reference. Do not change this file: the tests are compiled against it.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace task09 {

namespace http = boost::beast::http;
namespace net = boost::asio;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

// Where log lines go: one call per line, without a trailing newline. It may
// be called from any thread, by several at once.
using log_sink = std::function<void(std::string const& line)>;

// ---------------------------------------------------------------- the context

// What Go keeps in r.Context(), made explicit: everything a layer knows about
// the request it is serving that is not in the request itself.
//
// It travels BY VALUE down the chain. A layer that adds to it (request_id()
// sets `request_id`) changes its own copy and hands that copy to the next
// layer, as context.WithValue returns a new context: the layers outside
// still hold theirs, unchanged. A handler that finishes later keeps its copy
// in the continuation. Nothing about a request lives anywhere else: not in a
// global, not in a thread_local, not in a layer's captures.
struct request_context {
  // The connection's executor (a strand): asynchronous work started for this
  // request completes here. Empty when a test calls a handler directly.
  net::any_io_executor executor;
  // The request's ID; "" until request_id() has set it.
  std::string request_id;
  // Where this request's log lines go. Write them with log(), below.
  log_sink sink;
};

// Writes one line to ctx.sink:
//
//   request_id=<ctx.request_id> <message>
//
// and `request_id=- <message>` while the context has no ID yet. Every line
// any layer writes about a request goes through here, so every line carries
// the ID.
void log(request_context const& ctx, std::string_view message);

// ---------------------------------------------------------------- the chain

// Completes a request. Call it exactly once, with the response, from any
// thread, before the handler returns or later. (The server sets the
// response's version, keep-alive and Content-Length.)
using respond = std::function<void(response)>;

// Answers a request. It may call `done` before it returns, or start
// asynchronous work and call `done` when that work completes, on whatever
// thread it completes on. `req` stays valid until `done` is called.
using handler = std::function<void(request_context ctx, request& req, respond done)>;

// A layer around a handler (task 07), for handlers that may finish later: a
// layer that acts "on the way out" does so by wrapping `done`.
using middleware = std::function<handler(handler)>;

// chain(a, b, c)(h) is a(b(c(h))): the first layer listed is the outermost.
// (You wrote this in task 07; here it is given.)
inline middleware chain(std::vector<middleware> layers)
{
  return [layers = std::move(layers)](handler h) {
    for (auto it = layers.rbegin(); it != layers.rend(); ++it) h = (*it)(std::move(h));
    return h;
  };
}

template <class... Layers>
  requires(std::convertible_to<Layers, middleware> && ...)
middleware chain(Layers... layers)
{
  return chain(std::vector<middleware>{middleware(std::move(layers))...});
}

// ---------------------------------------------------------------- request IDs

// Fills `out` with bytes from a cryptographically secure random source. It
// may be called from several threads at once.
using random_source = std::function<void(std::span<unsigned char> out)>;

// The operating system's CSPRNG (getrandom(2), or OpenSSL's RAND_bytes):
// fills all of `out`, or throws std::system_error.
void os_random(std::span<unsigned char> out);

inline constexpr std::size_t request_id_bytes = 16;       // 128 bits
inline constexpr std::size_t max_request_id_length = 64;  // for IDs clients send

// True when an ID a client sent may be kept as it is: 1 to
// max_request_id_length characters, each one of A-Z a-z 0-9 . _ -
bool acceptable_request_id(std::string_view id);

// request_id_bytes bytes from `random`, drawn once per ID, as 32 lowercase
// hexadecimal digits, first byte first: {0xab, 0x01, ...} -> "ab01...".
std::string new_request_id(random_source const& random);

// The request-ID layer. For each request:
//   - the request's X-Request-ID, when it is acceptable_request_id(), is the
//     ID, kept byte for byte; when it is missing, empty or unacceptable, the
//     ID is new_request_id(random), and the value sent is neither kept, nor
//     echoed, nor logged;
//   - the request passed inward carries exactly one X-Request-ID: the ID;
//   - the context passed inward carries the ID in `request_id`;
//   - the response carries `X-Request-ID: <ID>` on its way out, whoever
//     inside built it.
middleware request_id(random_source random = os_random);

// ---------------------------------------------------------------- layers that log

// Writes one line per request, through log(), when the response passes on
// its way out:
//
//   request_id=<id> method=GET target=/users/7 status=404
//
// An exception from inside passes through it, and no line is written.
middleware access_log();

// Catches what the layers inside it throw while it calls them, a
// std::exception or anything else, writes one line through log():
//
//   request_id=<id> recovered method=GET target=/boom error=<what()>
//
// (`error=(not a std::exception)` for anything else) and answers 500, with
// Content-Type text/plain and a body that does not repeat what was thrown.
// If the handler had already answered before it threw, the line is written
// and nothing more is sent: a request is answered once. A response that
// comes back normally passes through untouched, and no line is written.
middleware recover();

// ---------------------------------------------------------------- outgoing calls

// A handler that answers by asking another service. For each request it
// sends `GET <upstream><target>` (the request's target) with the client in
// upstream_client.hpp, on ctx.executor, with a deadline of `timeout`, and
// forwards the request's ID as `X-Request-ID` (when the context has one).
// It writes, through log():
//
//   request_id=<id> upstream GET http://127.0.0.1:41234/items/7   before the call
//   request_id=<id> upstream status=200                           when it answered
//   request_id=<id> upstream error=<message>                      when it did not
//
// and answers with the upstream's status and body (Content-Type text/plain),
// or 502 with Content-Type text/plain when no answer came.
//
// upstream: a base URL without a trailing slash, as workbook::test_server::url()
// gives it: "http://127.0.0.1:41234".
handler relay(std::string upstream, std::chrono::milliseconds timeout = std::chrono::seconds(2));

} // namespace task09
