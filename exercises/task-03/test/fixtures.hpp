// Task 03 · test helpers: the router behind a real HTTP server, so that every
// check is an HTTP exchange the grader can show when it fails.
#pragma once

#include "router.hpp"

#include <workbook/beast_messages.hpp>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

#include <string>
#include <utility>

namespace task03_test {

// A test_server on 127.0.0.1 (port 0) whose every request goes through
// r.serve(). Register the routes first; `r` must outlive the server.
// (The server writes Content-Length for the body the router returned.)
inline workbook::test_server serve(task03::router const& r)
{
  return workbook::serving_beast([&r](task03::request const& req) { return r.serve(req); });
}

inline task03::response reply(task03::request const& req, task03::http::status status, std::string body)
{
  task03::response res{status, req.version()};
  res.set(task03::http::field::content_type, "text/plain");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

// A handler that answers 200 with `body`, whatever the request.
inline task03::handler says(std::string body)
{
  return [body = std::move(body)](task03::request const& req, task03::path_params const&) {
    return reply(req, task03::http::status::ok, body);
  };
}

} // namespace task03_test
