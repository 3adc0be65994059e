// Task 07 · reference.
//
// A middleware is a function from handler to handler; everything here is
// closures capturing `next`. Nothing runs at composition time except the
// wrapping itself: chain(a, b, c)(h) calls c(h), then b(...), then a(...),
// once, and the handler it returns is what runs per request.
#include "middleware.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

#include <algorithm>
#include <cctype>
#include <exception>
#include <string_view>

namespace task07 {

namespace {

response text_response(request const& req, http::status status, std::string body)
{
  response res{status, req.version()};
  res.set(http::field::content_type, "text/plain");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

bool iequals(std::string_view a, std::string_view b)
{
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

// The credentials of `Authorization: Bearer TOKEN`: the scheme is compared
// without regard to case (RFC 9110, 11.1), the token exactly.
bool has_bearer_token(request const& req, std::string_view expected)
{
  auto const it = req.find(http::field::authorization);
  if (it == req.end()) return false;
  std::string_view const value = it->value();
  auto const space = value.find(' ');
  if (space == std::string_view::npos) return false;
  if (!iequals(value.substr(0, space), "Bearer")) return false;
  std::string_view const token = value.substr(space + 1);
  // Same length first, then every byte, with no early exit: how long the
  // comparison takes says nothing about how much of a guess was right.
  if (token.size() != expected.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < token.size(); ++i)
    diff |= static_cast<unsigned char>(token[i] ^ expected[i]);
  return diff == 0;
}

} // namespace

middleware chain(std::vector<middleware> layers)
{
  // Wrap from the innermost (last) outwards, so the first layer listed ends
  // up outermost: chain(a, b, c)(h) == a(b(c(h))). With no layers the loop
  // does nothing and h comes back as it was.
  return [layers = std::move(layers)](handler h) {
    for (auto it = layers.rbegin(); it != layers.rend(); ++it) h = (*it)(std::move(h));
    return h;
  };
}

middleware logging(log_sink sink, time_source now)
{
  return [sink = std::move(sink), now = std::move(now)](handler next) -> handler {
    return [sink, now, next = std::move(next)](request& req) {
      auto const start = now();
      // The status is known only on the way out: whatever the layers inside
      // decided (a 401 from auth, a 500 from recover, the handler's own 404)
      // is in the response they return. No "status writer" needed: nothing
      // has been sent yet when we look.
      response res = next(req);
      auto const latency = std::chrono::duration_cast<std::chrono::microseconds>(now() - start);
      sink("method=" + std::string(req.method_string()) +
           " target=" + std::string(req.target()) +
           " status=" + std::to_string(res.result_int()) +
           " bytes=" + std::to_string(res.body().size()) +
           " latency_us=" + std::to_string(latency.count()));
      return res;
    };
  };
}

middleware bearer_auth(std::string token)
{
  return [token = std::move(token)](handler next) -> handler {
    return [token, next = std::move(next)](request& req) {
      if (!has_bearer_token(req, token)) {
        // Answered here: `next`, and every layer inside it, never runs.
        response res = text_response(req, http::status::unauthorized, "unauthorized\n");
        res.set(http::field::www_authenticate, "Bearer realm=\"workbook\"");
        return res;
      }
      return next(req);
    };
  };
}

middleware recover(log_sink sink)
{
  return [sink = std::move(sink)](handler next) -> handler {
    return [sink, next = std::move(next)](request& req) {
      std::string error;
      try {
        return next(req);
      } catch (std::exception const& e) {
        error = e.what();
      } catch (...) {
        error = "(not a std::exception)";
      }
      // Logged in full for us; the client learns only that it failed. An
      // exception's message can hold a query, a path or a secret.
      sink("recovered method=" + std::string(req.method_string()) + " target=" + std::string(req.target()) +
           " error=" + error);
      return text_response(req, http::status::internal_server_error, "internal server error\n");
    };
  };
}

} // namespace task07
