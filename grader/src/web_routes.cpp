#include "web_routes.hpp"
#include "edition.hpp"
#include "files.hpp"
#include "scoring.hpp"
#include "source_view.hpp"
#include "student_actions.hpp"

#include <fmt/format.h>

namespace grader::web {

namespace fs = std::filesystem;

web_response refused(unsigned status, std::string_view why)
{
  web_response r;
  r.status = status;
  r.body = message_page(fmt::format("{} refused", status), why);
  return r;
}

web_response see_other(std::string location)
{
  web_response r;
  r.status = 303;
  r.headers.emplace_back("Location", std::move(location));
  return r;
}

web_routes::web_routes(context const& ctx, security_config config, live_hooks hooks, fs::path include_dir)
    : ctx_(ctx), config_(std::move(config)), hooks_(std::move(hooks)), include_dir_(std::move(include_dir))
{
}

web_response web_routes::handle(web_request const& request) const
{
  auto const target = parse_target(request.target);
  std::string const token = target && target->query.contains("token") ? target->query.at("token") : "";
  request_credentials const creds{request.host, request.origin, request.cookie, token, request.method != "GET"};
  if (auto no = check_request(config_, creds)) return refused(no->status, no->why);
  if (!target) return refused(400, "a malformed request target");
  std::string const& path = target->path;
  if (!creds.query_token.empty() && request.method == "GET") {
    // The token moves from the address bar into a cookie the page's own
    // scripts cannot read and other sites' requests do not carry.
    auto r = see_other(path);
    r.headers.emplace_back("Set-Cookie", fmt::format("{}={}; HttpOnly; SameSite=Strict; Path=/",
                                                     token_cookie_name(config_.port), config_.token));
    return r;
  }
  if (request.method != "GET" && request.method != "POST") {
    auto r = refused(405, "only GET and POST");
    r.headers.emplace_back("Allow", "GET, POST");
    return r;
  }
  return route(request, path);
}

web_response web_routes::route(web_request const& request, std::string const& path) const
{
  bool const get = request.method == "GET";
  if (path == "/") return get ? map() : refused(405, "GET only");
  if (path.starts_with("/static/")) return get ? asset(path.substr(8)) : refused(405, "GET only");
  if (path.starts_with("/source/")) return get ? source(path.substr(8)) : refused(405, "GET only");
  if (path.starts_with("/task/")) {
    std::string const rest = path.substr(6);
    std::size_t const slash = rest.find('/');
    task const* t = ctx_.cat.find(rest.substr(0, slash));   // the catalog's id, or nothing
    if (!t) return refused(404, "no such task");
    return task_route(request, *t, slash == std::string::npos ? "" : rest.substr(slash + 1));
  }
  return refused(404, "no such page");
}

web_response web_routes::task_route(web_request const& request, task const& t, std::string const& action) const
{
  if (request.method == "POST") return post_action(t, action, request.body);
  if (action.empty()) return task_page_for(t);
  if (action == "reference") return reference_for(t);
  if (action == "events") {
    web_response r;
    r.event_stream = t.id;
    return r;
  }
  return refused(404, "no such page");
}

web_response web_routes::post_action(task const& t, std::string const& action, std::string const& body) const
{
  std::string const back = "/task/" + t.id;
  if (action == "grade") {
    hooks_.grade(t.id);
    return see_other(back);
  }
  if (action == "hint") {
    take_next_hint(ctx_.paths, t);
    return see_other(back + "#hints");
  }
  if (action == "reveal") {
    if (!missing_reference(ctx_.paths.root, &t).empty()) return refused(404, "this edition does not hold the reference");
    if (!record_reveal(ctx_.paths, t, false).allowed) return refused(403, "the reference is shown once your code passes");
    return see_other(back + "/reference");
  }
  if (action == "self-grade") {
    auto const form = parse_form(body);
    auto const it = form.find("grade");
    if (it == form.end() || it->second.size() != 1 || it->second[0] < '0' || it->second[0] > '3')
      return refused(400, "a self-grade is 0, 1, 2 or 3");
    if (!record_self_grade(ctx_.paths, t, it->second[0] - '0')) return refused(409, "self-grade after a pass");
    return see_other(back + "#rubric");
  }
  return refused(404, "no such action");
}

web_response web_routes::task_page_for(task const& t) const
{
  auto const live = hooks_.live(t.id);
  if (!live.latest && !live.building) hooks_.grade(t.id);   // as `grader watch` does: grade first
  auto const progress = open_progress(ctx_.paths.state_dir());
  std::string const readme = read_file_or_empty(t.exercise_dir / "README.md");
  web_response r;
  r.body = task_page({t, progress.get(t.id), hooks_.live(t.id), render_markdown(link_source_trail(readme, include_dir_)),
                      missing_reference(ctx_.paths.root, &t).empty()});
  return r;
}

web_response web_routes::reference_for(task const& t) const
{
  auto const record = open_progress(ctx_.paths.state_dir()).get(t.id);
  if (!record || !record->revealed) return refused(403, "the reference is shown once your code passes (reveal it from the task page)");
  if (!missing_reference(ctx_.paths.root, &t).empty()) return refused(404, "this edition does not hold the reference");
  reference_view view{t, render_markdown(read_file_or_empty(t.solution_dir / "WHY.md")), {}};
  for (auto const& s : reference_sources(t))
    view.sources.emplace_back(fs::relative(s, ctx_.paths.root).string(), read_file_or_empty(s));
  web_response r;
  r.body = reference_page(view);
  return r;
}

web_response web_routes::map() const
{
  rubric rub;
  try {
    rub = load_rubric(ctx_.paths.root / "rubric.md");
  } catch (std::exception const&) {
    // The map without bands is still the map.
  }
  web_response r;
  r.body = map_page(ctx_.cat, open_progress(ctx_.paths.state_dir()), rub);
  return r;
}

web_response web_routes::source(std::string const& relative) const
{
  auto const file = resolve_header(include_dir_, relative);
  if (!file) return refused(404, "only the installed Boost headers can be read here");
  auto const text = read_file(*file);
  if (!text) return refused(404, "unreadable");
  web_response r;
  r.body = source_page(relative, *text);
  return r;
}

web_response web_routes::asset(std::string const& name) const
{
  // A fixed list: nothing else under grader/web/ (or beside it) is served.
  char const* type = name == "style.css" ? "text/css; charset=utf-8"
                     : name == "live.js" ? "text/javascript; charset=utf-8"
                                         : nullptr;
  if (!type) return refused(404, "no such file");
  auto const text = read_file(ctx_.paths.root / "grader" / "web" / name);
  if (!text) return refused(404, "grader/web/" + name + " is missing");
  web_response r;
  r.content_type = type;
  r.body = *text;
  return r;
}

} // namespace grader::web
