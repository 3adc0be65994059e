// Task 03 · your router. Start with README.md; the steps there match the
// TODOs here. Run `grader task-03` after each step.
//
// router.hpp says what a pattern means; how you store patterns and find the
// one that serves a request is up to you. A plain list of routes is a fine
// start (see the Hints for why).
#include "router.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

namespace task03 {

// TODO (step 2): what does the router keep? For each route at least its
// handler and its pattern, parsed once at registration into a form that is
// quick to match: the method ("" for any) and the path as a sequence of
// segments, each of some kind (literal, {name}, {name...}, {$}, ...).
struct router::impl {
};

namespace {

// TODO (step 2): parse "[METHOD ]/path" into your pattern type. Throw
// std::invalid_argument (naming the pattern and what is wrong with it) for a
// path that does not start with '/', a wildcard that is not a whole segment,
// an empty or invalid wildcard name, {name...} or {$} before the last
// segment, and a name used twice.

// TODO (step 3): does a pattern match a request path? Fill path_params with
// the values of its wildcards.

// TODO (step 5): compare two patterns: do they match the same requests, one
// a strict subset of the other's, some in common, or none? Methods first,
// then segment by segment; then combine the answers.

// TODO (step 7): the clean form of a request path: which segments go, what
// does ".." do at the root, and what becomes of "//" and a trailing slash?

} // namespace

router::router() : impl_(std::make_unique<impl>()) {}
router::~router() = default;
router::router(router&&) noexcept = default;
router& router::operator=(router&&) noexcept = default;

void router::handle(std::string_view pattern, handler h)
{
  // TODO (step 2): parse `pattern`; a malformed one throws std::invalid_argument.
  // TODO (step 6): compare it with every registered pattern and throw
  // pattern_conflict, naming both, when they match some request in common
  // and neither is more specific. Check everything before storing anything.
  // TODO (step 2): keep the parsed pattern and `h`.
  (void)pattern;
  (void)h;
}

response router::serve(request const& req) const
{
  // TODO (step 3): take the path of req.target() (without the query), find
  // the routes that match it and req.method_string(), and call the handler
  // with the wildcards' values. Nothing matches: 404.
  // TODO (step 4): GET also serves HEAD, and a HEAD response has no body.
  // When the path matches only with other methods: 405 and an Allow header.
  // TODO (step 5): several routes match: the most specific one serves.
  // TODO (step 7): before any of that, a path that is not clean answers 301
  // with the clean path (and the query) in Location; no handler runs.
  response res{http::status::not_implemented, req.version()};
  res.set(http::field::content_type, "text/plain");
  res.keep_alive(req.keep_alive());
  res.body() = "router: nothing is routed yet (task 03)\n";
  res.prepare_payload();
  return res;
}

} // namespace task03
