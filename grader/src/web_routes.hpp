// What the web workbook answers to each request, away from any socket: the
// session (web_session.cpp) turns Beast's request into a web_request and the
// web_response back. Every route that names a task takes it from the
// catalog, never from the path; every path is checked (web_security,
// source_view) before anything is read.
//
//   GET  /                       the map and the tally
//   GET  /task/<id>              the task page (queues its first grading)
//   GET  /task/<id>/events       its live verdict, as Server-Sent Events
//   GET  /task/<id>/reference    the reference, once revealed
//   POST /task/<id>/grade|hint|reveal|self-grade
//   GET  /source/boost/...       a Boost header, read-only, lines anchored
//   GET  /static/style.css, /static/live.js
#pragma once

#include "verbs.hpp"
#include "web_pages.hpp"
#include "web_security.hpp"

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace grader::web {

struct web_request {
  std::string method;        // "GET", "POST", ...
  std::string target;        // "/task/task-01?token=..."
  std::string host, origin, cookie, content_type;
  std::string body;
};

struct web_response {
  unsigned status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;   // Location, Set-Cookie, ...
  std::string event_stream;  // a task id: the session becomes that task's event stream
};

// What the server's live state offers the routes (on the io_context's thread).
struct live_hooks {
  std::function<live_verdict(std::string const& task)> live;   // what is known of the task now
  std::function<void(std::string const& task)> grade;          // grade it (again), soon
};

class web_routes {
public:
  web_routes(context const& ctx, security_config config, live_hooks hooks,
             std::filesystem::path include_dir = "/usr/include");

  web_response handle(web_request const& request) const;

private:
  web_response route(web_request const& request, std::string const& path) const;
  web_response task_route(web_request const& request, task const& t, std::string const& action) const;
  web_response post_action(task const& t, std::string const& action, std::string const& body) const;
  web_response task_page_for(task const& t) const;
  web_response reference_for(task const& t) const;
  web_response map() const;
  web_response source(std::string const& relative) const;
  web_response asset(std::string const& name) const;

  context const& ctx_;
  security_config config_;
  live_hooks hooks_;
  std::filesystem::path include_dir_;
};

web_response refused(unsigned status, std::string_view why);
web_response see_other(std::string location);

} // namespace grader::web
