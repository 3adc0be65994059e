// Task 03 · the contract between your router, the tests and the reference.
// Do not change this file: the tests are compiled against it.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace task03 {

namespace http = boost::beast::http;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

// The values the wildcards of the matching pattern took, by name:
// "GET /users/{id}" serving /users/42 gives get("id") == "42".
class path_params {
public:
  // The value of wildcard `name`; "" when the pattern has no such wildcard.
  // The view stays valid as long as this object does.
  std::string_view get(std::string_view name) const
  {
    for (auto const& [n, v] : values_)
      if (n == name) return v;
    return {};
  }

  // For the router: records (or replaces) the value of wildcard `name`.
  void set(std::string name, std::string value)
  {
    for (auto& [n, v] : values_)
      if (n == name) {
        v = std::move(value);
        return;
      }
    values_.emplace_back(std::move(name), std::move(value));
  }

  std::size_t size() const { return values_.size(); }

private:
  std::vector<std::pair<std::string, std::string>> values_;
};

using handler = std::function<response(request const&, path_params const&)>;

// Thrown by router::handle when a new pattern conflicts with a registered
// one; what() names both patterns.
struct pattern_conflict : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// Routes requests by method and path, in the manner of Go 1.22's ServeMux.
//
// A pattern is "[METHOD ]PATH": an optional method, then spaces or tabs,
// then a path that starts with '/'. The path's segments (between slashes) are
//   literal     "users"     that exact segment
//   {name}      one non-empty segment, available as params.get("name")
//   {name...}   last only: the rest of the path, slashes included, possibly ""
//   {$}         last only: the path ends here, with its trailing slash
// and a path ending in '/' (without {$}) matches everything beneath it:
// "/static/" behaves as "/static/{...}" with an unnamed wildcard, and "/"
// matches every path. Segments are compared and captured as sent, without
// percent-decoding.
//
// Malformed, so std::invalid_argument: a path that does not start with '/',
// an empty segment ("//"), a wildcard that is not a whole segment ("/id{x}"),
// a name that is empty or not a C identifier, a name used twice in one
// pattern, {name...} or {$} anywhere but last, a method that is not a token.
//
// No method: any method. "GET" also serves HEAD, and the response to a HEAD
// request never has a body. Only the path of the request target counts: the
// query string plays no part.
//
// When several patterns match a request, the MOST SPECIFIC one serves it,
// whatever the order they were registered in: P1 is more specific than P2
// when every request P1 matches, P2 matches too, and not the other way round.
//
// Register every route before serving; serve() is const and may then be
// called from any number of threads at once.
class router {
public:
  router();
  ~router();
  router(router&&) noexcept;
  router& operator=(router&&) noexcept;
  router(router const&) = delete;
  router& operator=(router const&) = delete;

  // Adds a route. Throws std::invalid_argument for a malformed pattern (or an
  // empty handler), and pattern_conflict when some request would match both
  // `pattern` and a registered pattern while neither is more specific than
  // the other (the same pattern twice, for one). After a throw the router is
  // unchanged.
  void handle(std::string_view pattern, handler h);

  // The response of the most specific matching route. When nothing matches:
  // 405 with an Allow header ("GET, HEAD, POST": sorted, comma and space,
  // HEAD wherever GET is) if some pattern matches the path with another
  // method, else 404. Before any of that, a path that is not clean ("." or
  // ".." segments, "//") is answered 301, Location: the clean path and the
  // query as sent (README, step 7); no route sees it.
  response serve(request const& req) const;

  // Yours to define in router.cpp: whatever the router keeps.
  // Public only so that your helper functions can name it.
  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace task03
