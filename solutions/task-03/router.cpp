// Task 03 · reference.
//
// A router is two questions asked at two different times:
//   handle(): is this pattern well formed, and is it comparable with every
//             pattern already registered? (If two patterns can match the same
//             request, one must be more specific, or no answer is right.)
//   serve():  is the path clean (no "." or ".." segments, no "//")? If not,
//             send the client to the clean one. If so, which patterns match
//             this request, and which of them is the most specific? The
//             answer to handle()'s question guarantees there is exactly one.
// Both rest on one relation between patterns, compare(), computed segment by
// segment and method against method, as Go 1.22's net/http/pattern.go does.
#include "router.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

#include <algorithm>
#include <array>

namespace task03 {

namespace {

// ---------------------------------------------------------------- patterns

struct segment {
  enum kind_t {
    literal,   // "users": that exact text
    wildcard,  // {id}: one non-empty segment
    rest,      // {path...}, or the unnamed one a trailing slash stands for
    end,       // {$}: the empty segment after a trailing slash, and nothing more
  };
  kind_t kind;
  std::string text;  // literal: the text; wildcard and rest: the name ("" if unnamed)
};

struct pattern {
  std::string source;  // as registered: error messages quote it
  std::string method;  // "" matches every method
  std::vector<segment> segments;
};

// RFC 9110 token characters: what a method may be made of.
bool is_token(std::string_view s)
{
  constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  extra.find(c) != std::string_view::npos;
         });
}

bool is_identifier(std::string_view s)
{
  auto const letter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  return !s.empty() && letter(s.front()) &&
         std::all_of(s.begin(), s.end(), [&](char c) { return letter(c) || (c >= '0' && c <= '9'); });
}

pattern parse(std::string_view text)
{
  auto malformed = [&](std::string const& why) {
    return std::invalid_argument("malformed pattern \"" + std::string(text) + "\": " + why);
  };

  pattern p;
  p.source = std::string(text);
  std::string_view path = text;
  // Method and path are separated by spaces or tabs; no separator, no method.
  if (auto const gap = text.find_first_of(" \t"); gap != std::string_view::npos) {
    p.method = std::string(text.substr(0, gap));
    if (p.method.empty()) throw malformed("it starts with a space");
    if (!is_token(p.method)) throw malformed("\"" + p.method + "\" is not a method");
    auto const start = text.find_first_not_of(" \t", gap);
    path = start == std::string_view::npos ? std::string_view{} : text.substr(start);
  }
  if (path.empty() || path.front() != '/') throw malformed("the path must start with '/'");

  std::vector<std::string_view> names;
  path.remove_prefix(1);
  for (;;) {
    if (path.empty()) {
      // Nothing after a slash: "/static/" (and "/") match everything beneath,
      // exactly as an unnamed {...} would.
      p.segments.push_back({segment::rest, ""});
      break;
    }
    auto const slash = path.find('/');
    bool const last = slash == std::string_view::npos;
    std::string_view const seg = path.substr(0, slash);

    if (seg.empty()) throw malformed("empty segment (\"//\")");
    if (seg.find_first_of("{}") == std::string_view::npos) {
      p.segments.push_back({segment::literal, std::string(seg)});
    } else {
      if (seg.front() != '{' || seg.back() != '}' || seg.size() < 2)
        throw malformed("a wildcard is a whole segment, \"{name}\"");
      std::string_view name = seg.substr(1, seg.size() - 2);
      if (name == "$") {
        if (!last) throw malformed("{$} must be the last segment");
        p.segments.push_back({segment::end, ""});
        break;
      }
      bool const is_rest = name.size() >= 3 && name.substr(name.size() - 3) == "...";
      if (is_rest) name.remove_suffix(3);
      if (name.empty()) throw malformed("a wildcard needs a name");
      if (!is_identifier(name)) throw malformed("\"" + std::string(name) + "\" is not a valid wildcard name");
      if (is_rest && !last) throw malformed("{" + std::string(name) + "...} must be the last segment");
      if (std::find(names.begin(), names.end(), name) != names.end())
        throw malformed("wildcard name \"" + std::string(name) + "\" appears twice");
      names.push_back(name);
      p.segments.push_back({is_rest ? segment::rest : segment::wildcard, std::string(name)});
    }
    if (last) break;
    path.remove_prefix(slash + 1);
  }
  return p;
}

// ------------------------------------------------- the specificity relation
//
// compare(a, b) answers: how does the set of requests a matches relate to the
// set b matches? A request is a method and a sequence of path segments, and a
// pattern constrains each independently, so the relation is computed one
// dimension at a time (the method, then each segment) and combined.

enum class relation {
  equivalent,     // the same requests
  more_specific,  // a's requests are a strict subset of b's
  more_general,   // ... a strict superset
  overlaps,       // some in common, neither contains the other: a conflict
  disjoint,       // none in common
};

// Two dimensions that each constrain the request combine like this: any
// disjoint dimension makes the whole disjoint; pulling in opposite directions
// (a narrower here, wider there) is an overlap.
relation combine(relation x, relation y)
{
  if (x == relation::disjoint || y == relation::disjoint) return relation::disjoint;
  if (x == relation::equivalent) return y;
  if (y == relation::equivalent) return x;
  if (x == y) return x;  // both more_specific, both more_general, or both overlaps
  return relation::overlaps;
}

relation compare_methods(std::string const& a, std::string const& b)
{
  if (a == b) return relation::equivalent;
  if (a.empty()) return relation::more_general;  // any method
  if (b.empty()) return relation::more_specific;
  if (a == "GET" && b == "HEAD") return relation::more_general;  // GET also serves HEAD
  if (a == "HEAD" && b == "GET") return relation::more_specific;
  return relation::disjoint;
}

relation compare_segments(segment const& a, segment const& b)
{
  // rest ⊇ anything at its position (including what follows).
  if (a.kind == segment::rest || b.kind == segment::rest) {
    if (a.kind == b.kind) return relation::equivalent;
    return a.kind == segment::rest ? relation::more_general : relation::more_specific;
  }
  // {$} matches only the empty final segment, which neither a literal
  // (never empty) nor a wildcard (non-empty) matches.
  if (a.kind == segment::end || b.kind == segment::end)
    return a.kind == b.kind ? relation::equivalent : relation::disjoint;
  // wildcard ⊃ every literal; names do not matter.
  if (a.kind == segment::wildcard || b.kind == segment::wildcard) {
    if (a.kind == b.kind) return relation::equivalent;
    return a.kind == segment::wildcard ? relation::more_general : relation::more_specific;
  }
  return a.text == b.text ? relation::equivalent : relation::disjoint;
}

relation compare_paths(pattern const& a, pattern const& b)
{
  auto const& x = a.segments;
  auto const& y = b.segments;
  auto const n = std::min(x.size(), y.size());
  relation r = relation::equivalent;
  for (std::size_t i = 0; i < n && r != relation::disjoint; ++i)
    r = combine(r, compare_segments(x[i], y[i]));
  if (x.size() == y.size()) return r;
  // Different lengths: only a shorter pattern ending in a rest wildcard can
  // reach the longer one's extra segments, and the loop already compared
  // that rest (more general) with the segment at its position.
  auto const& shorter = x.size() < y.size() ? x : y;
  return shorter.back().kind == segment::rest ? r : relation::disjoint;
}

relation compare(pattern const& a, pattern const& b)
{
  auto const methods = compare_methods(a.method, b.method);
  if (methods == relation::disjoint) return methods;
  return combine(methods, compare_paths(a, b));
}

// A request both patterns match (they must overlap): the error message shows
// it, which turns "conflict" from a verdict into an explanation.
std::string common_request(pattern const& a, pattern const& b)
{
  std::string method = compare_methods(a.method, b.method) == relation::more_general ? b.method : a.method;
  if (method.empty()) method = "GET";
  std::string path;
  auto const& x = a.segments;
  auto const& y = b.segments;
  for (std::size_t i = 0; i < std::max(x.size(), y.size()); ++i) {
    // Past the end of one pattern, its rest wildcard covers whatever the other needs.
    std::array<segment const*, 2> const here{i < x.size() ? &x[i] : nullptr, i < y.size() ? &y[i] : nullptr};
    std::string text = "x";  // what any wildcard accepts
    for (auto const* s : here)
      if (s && s->kind == segment::end) text = "";
    for (auto const* s : here)
      if (s && s->kind == segment::literal) text = s->text;
    path += "/" + text;
  }
  return method + " " + path;
}

// ------------------------------------------------------------------ matching

// "/users/42" -> {"users", "42"}; "/" -> {""}; "/a/" -> {"a", ""}: a
// trailing slash leaves an empty last segment, which only {$} and rest
// wildcards match. Views into `path`.
std::vector<std::string_view> split_path(std::string_view path)
{
  std::vector<std::string_view> segs;
  if (path.empty() || path.front() != '/') return segs;  // "*" or absolute-form: nothing matches
  path.remove_prefix(1);
  for (;;) {
    auto const slash = path.find('/');
    segs.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segs;
}

bool method_matches(std::string const& pattern_method, std::string_view request_method)
{
  return pattern_method.empty() || pattern_method == request_method ||
         (pattern_method == "GET" && request_method == "HEAD");
}

// Does p match `path`, split into `segs`? Fills `params` if given.
bool path_matches(pattern const& p, std::string_view path, std::vector<std::string_view> const& segs,
                  path_params* params)
{
  for (std::size_t i = 0; i < p.segments.size(); ++i) {
    auto const& s = p.segments[i];
    if (i >= segs.size()) return false;
    switch (s.kind) {
      case segment::rest:
        // The rest of the path as sent, slashes included: from this
        // segment to the end.
        if (params && !s.text.empty())
          params->set(s.text, std::string(path.substr(static_cast<std::size_t>(segs[i].data() - path.data()))));
        return true;
      case segment::end:
        if (!segs[i].empty() || i + 1 != segs.size()) return false;
        break;
      case segment::wildcard:
        if (segs[i].empty()) return false;
        if (params) params->set(s.text, std::string(segs[i]));
        break;
      case segment::literal:
        if (segs[i] != s.text) return false;
        break;
    }
  }
  return segs.size() == p.segments.size();
}

// The path a client should have asked for, as Go's ServeMux cleans it:
// "." segments dropped, each ".." removing the segment before it (never
// going above the root), empty segments collapsed, and a trailing slash kept
// if there was one (RFC 3986's remove_dot_segments, plus the slashes).
// Collapsing empty segments matters as much as the dots: a cleaned
// "/..//evil.example/" must not become "//evil.example/", which a browser
// reads as another host, and "/files//etc/passwd" must not hand {path...} a
// value that starts with '/'.
std::string clean_path(std::string_view path)
{
  std::vector<std::string_view> kept;
  std::string_view rest = path.substr(1);  // path starts with '/'
  for (;;) {
    auto const slash = rest.find('/');
    std::string_view const seg = rest.substr(0, slash);
    if (seg == "..") {
      if (!kept.empty()) kept.pop_back();
    } else if (!seg.empty() && seg != ".") {
      kept.push_back(seg);
    }
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  std::string clean;
  for (auto const seg : kept) clean.append("/").append(seg);
  if (clean.empty() || path.back() == '/') clean += '/';
  return clean;
}

response plain(request const& req, http::status status, std::string body)
{
  response res{status, req.version()};
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

} // namespace

struct router::impl {
  struct route {
    pattern p;
    handler h;
  };
  // A flat list: registration compares a new pattern with every route, and
  // serving scans them all. O(n) per request; see WHY.md for the tree.
  std::vector<route> routes;
};

router::router() : impl_(std::make_unique<impl>()) {}
router::~router() = default;
router::router(router&&) noexcept = default;
router& router::operator=(router&&) noexcept = default;

void router::handle(std::string_view text, handler h)
{
  if (!h) throw std::invalid_argument("pattern \"" + std::string(text) + "\": empty handler");
  pattern p = parse(text);
  // Check against everything before changing anything: a throw leaves the
  // router as it was.
  for (auto const& r : impl_->routes) {
    auto const rel = compare(p, r.p);
    if (rel == relation::equivalent)
      throw pattern_conflict("pattern \"" + p.source + "\" conflicts with \"" + r.p.source +
                             "\": both match exactly the same requests, e.g. " + common_request(p, r.p));
    if (rel == relation::overlaps)
      throw pattern_conflict("pattern \"" + p.source + "\" conflicts with \"" + r.p.source + "\": both match " +
                             common_request(p, r.p) + " and neither is more specific than the other");
  }
  impl_->routes.push_back({std::move(p), std::move(h)});
}

namespace {

// The answer for a clean path: the most specific matching route, else 405
// with Allow, else 404.
response dispatch(router::impl const& routes, request const& req, std::string_view path, std::string_view method)
{
  auto const segs = split_path(path);
  router::impl::route const* best = nullptr;
  std::vector<std::string> allowed;  // methods of the routes that match the path only
  for (auto const& r : routes.routes) {
    if (!path_matches(r.p, path, segs, nullptr)) continue;
    if (!method_matches(r.p.method, method)) {
      allowed.push_back(r.p.method);
      continue;
    }
    // Registration guarantees that two patterns matching the same request
    // are ordered, so "more specific than the best so far" finds the unique
    // most specific one, whatever the order of the list.
    if (!best || compare(r.p, best->p) == relation::more_specific) best = &r;
  }

  if (best) {
    path_params params;
    path_matches(best->p, path, segs, &params);
    return best->h(req, params);
  }
  if (!allowed.empty()) {
    if (std::find(allowed.begin(), allowed.end(), "GET") != allowed.end()) allowed.push_back("HEAD");
    std::sort(allowed.begin(), allowed.end());
    allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
    std::string allow;
    for (auto const& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
    auto res = plain(req, http::status::method_not_allowed, "405 method not allowed\n");
    res.set(http::field::allow, allow);
    return res;
  }
  return plain(req, http::status::not_found, "404 page not found\n");
}

} // namespace

response router::serve(request const& req) const
{
  // Only the path takes part in routing: "/users/42?verbose=1" is /users/42.
  std::string_view const target = req.target();
  std::string_view const path = target.substr(0, target.find('?'));
  std::string_view const method = req.method_string();

  response res;
  // A path that is not clean reaches no handler: the client is sent to the
  // clean one, query and all, and the routing decision is made on that
  // request. So no wildcard, {name...} least of all, ever holds "." or "..".
  // (Only origin-form targets have a path to clean; "*" simply matches nothing.)
  std::string const clean = !path.empty() && path.front() == '/' ? clean_path(path) : std::string(path);
  if (clean != path) {
    res = plain(req, http::status::moved_permanently, "301 moved permanently: " + clean + "\n");
    res.set(http::field::location, clean + std::string(target.substr(path.size())));
  } else {
    res = dispatch(*impl_, req, path, method);
  }

  // A response to HEAD has no body, whichever route answered. It keeps the
  // Content-Length the GET would have had, as Go's server does.
  if (method == "HEAD") {
    if (!res.has_content_length() && !res.chunked()) res.content_length(res.body().size());
    res.body().clear();
  }
  return res;
}

} // namespace task03
