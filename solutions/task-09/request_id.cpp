// Task 09 · reference.
//
// The request's ID lives in the request_context each layer receives by value
// and hands inward; the "way out" of a layer is a wrapper around `done`, a
// closure that captures what it needs (the context included) by value. So
// whatever thread finally calls `done`, every line written on the way out
// carries the ID of the request it belongs to: the ID is data that travels
// with the request, not state that sits on a thread.
#include "request_id.hpp"
#include "upstream_client.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

#include <sys/random.h>

#include <atomic>
#include <cerrno>
#include <exception>
#include <memory>
#include <system_error>

namespace task09 {

namespace {

constexpr std::string_view request_id_field = "X-Request-ID";

response text_response(http::status status, std::string body)
{
  response res{status, 11};
  res.set(http::field::content_type, "text/plain");
  res.body() = std::move(body);
  return res;
}

} // namespace

void log(request_context const& ctx, std::string_view message)
{
  if (!ctx.sink) return;
  std::string line = "request_id=";
  line += ctx.request_id.empty() ? std::string_view("-") : std::string_view(ctx.request_id);
  line += ' ';
  line += message;
  ctx.sink(line);
}

void os_random(std::span<unsigned char> out)
{
  // getrandom(2) reads the kernel's CSPRNG, the one /dev/urandom serves,
  // without a file descriptor to open or run out of. Short reads happen
  // (a signal, or more than 256 bytes): loop until the buffer is full.
  std::size_t filled = 0;
  while (filled < out.size()) {
    ssize_t const n = ::getrandom(out.data() + filled, out.size() - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "getrandom");
    }
    filled += static_cast<std::size_t>(n);
  }
}

bool acceptable_request_id(std::string_view id)
{
  // An allow-list, not a deny-list: whatever is not plainly harmless is
  // refused, so CR, LF, spaces, quotes, semicolons, commas, control bytes and
  // non-ASCII never reach a header we send, a log line or another service.
  if (id.empty() || id.size() > max_request_id_length) return false;
  for (unsigned char c : id) {
    bool const ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string new_request_id(random_source const& random)
{
  unsigned char bytes[request_id_bytes];
  random(std::span<unsigned char>(bytes));
  static constexpr char digits[] = "0123456789abcdef";
  std::string id;
  id.reserve(2 * request_id_bytes);
  for (unsigned char b : bytes) {
    id += digits[b >> 4];
    id += digits[b & 0x0f];
  }
  return id;
}

middleware request_id(random_source random)
{
  return [random = std::move(random)](handler next) -> handler {
    return [random, next = std::move(next)](request_context ctx, request& req, respond done) {
      auto const it = req.find(request_id_field);
      std::string id = it != req.end() && acceptable_request_id(it->value())
                           ? std::string(it->value())
                           : new_request_id(random);
      // set() erases every X-Request-ID the client sent before inserting
      // ours: whatever inside reads or forwards the header sees only the ID.
      req.set(request_id_field, id);
      ctx.request_id = id;  // our copy of the context; the caller's is untouched
      // The way out: a wrapper around `done`. It owns its copy of the ID, so
      // it is right on whichever thread the response finally comes back.
      next(std::move(ctx), req, [id = std::move(id), done = std::move(done)](response res) {
        res.set(request_id_field, id);
        done(std::move(res));
      });
    };
  };
}

middleware access_log()
{
  return [](handler next) -> handler {
    return [next = std::move(next)](request_context ctx, request& req, respond done) {
      // Copied now: the line is written when the response comes back, maybe
      // on another thread, and the server reuses `req` once it is answered.
      std::string prefix = "method=" + std::string(req.method_string()) + " target=" + std::string(req.target());
      auto on_the_way_out = [ctx, prefix = std::move(prefix), done = std::move(done)](response res) {
        log(ctx, prefix + " status=" + std::to_string(res.result_int()));
        done(std::move(res));
      };
      next(ctx, req, std::move(on_the_way_out));
    };
  };
}

middleware recover()
{
  return [](handler next) -> handler {
    return [next = std::move(next)](request_context ctx, request& req, respond done) {
      std::string const what = "method=" + std::string(req.method_string()) + " target=" + std::string(req.target());
      // A request is answered once. The inner layers get a `done` that
      // remembers being called, so a handler that answered and then threw
      // does not get a second response sent after the first.
      auto answered = std::make_shared<std::atomic<bool>>(false);
      respond once = [answered, done = std::move(done)](response res) {
        if (!answered->exchange(true)) done(std::move(res));
      };
      std::string error;
      try {
        next(ctx, req, once);
        return;
      } catch (std::exception const& e) {
        error = e.what();
      } catch (...) {
        error = "(not a std::exception)";
      }
      // Logged in full, with the ID, for us; the client learns only that it
      // failed, and gets the ID (request_id(), outside, sets it) to quote.
      log(ctx, "recovered " + what + " error=" + error);
      once(text_response(http::status::internal_server_error, "internal server error\n"));
    };
  };
}

handler relay(std::string upstream, std::chrono::milliseconds timeout)
{
  return [upstream = std::move(upstream), timeout](request_context ctx, request& req, respond done) {
    std::string const url = upstream + std::string(req.target());
    // Propagation is explicit: the outgoing request gets the ID from the
    // context, the same value this service logs and echoes.
    http::fields headers;
    if (!ctx.request_id.empty()) headers.set(request_id_field, ctx.request_id);
    log(ctx, "upstream GET " + url);
    auto executor = ctx.executor;
    async_get(executor, url, std::move(headers), timeout,
              [ctx = std::move(ctx), done = std::move(done)](upstream_reply reply) {
                // Resumed: maybe on another thread than the one that started
                // the call. The context came along in this closure.
                if (reply.error) {
                  log(ctx, "upstream error=" + reply.error.message());
                  done(text_response(http::status::bad_gateway, "bad gateway\n"));
                  return;
                }
                log(ctx, "upstream status=" + std::to_string(reply.status));
                response res = text_response(http::status::ok, std::move(reply.body));
                res.result(static_cast<unsigned>(reply.status));
                done(std::move(res));
              });
  };
}

} // namespace task09
