// Task 10 · test helpers: your server and API on 127.0.0.1 (port 0), requests
// for them, and a reader for the JSON bodies they answer with.
#pragma once

#include "widgets.hpp"

#include <workbook/http.hpp>
#include <workbook/io_threads.hpp>
#include <workbook/transcript.hpp>

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <utility>

namespace task10_test {

using workbook::transcript::printable;

namespace net = boost::asio;
using json = nlohmann::json;

// Your server in front of a fresh widget_api, its io_context run by
// `threads` threads. Destroyed bottom-up: the threads stop before the
// server, the server goes before the API it uses.
struct running_api {
  explicit running_api(int threads = 1)
      : server(ioc, {net::ip::make_address("127.0.0.1"), 0}, api)
  {
    server.start();
    io.emplace(ioc, threads);
  }
  ~running_api() { io.reset(); }

  unsigned short port() const { return server.local_endpoint().port(); }

  net::io_context ioc;
  task10::widget_api api;
  task10::widget_server server;
  std::optional<workbook::io_threads> io;
};

inline workbook::request post(std::string body, std::string target = "/widgets")
{
  workbook::request req;
  req.method = "POST";
  req.target = std::move(target);
  req.headers = {{"Content-Type", "application/json"}};
  req.body = std::move(body);
  return req;
}

inline workbook::request with_method(std::string method, std::string target)
{
  workbook::request req;
  req.method = std::move(method);
  req.target = std::move(target);
  return req;
}

// The body as JSON; a discarded value when it is not JSON.
inline json body_of(workbook::response const& res)
{
  return json::parse(res.body, nullptr, /*allow_exceptions=*/false);
}

// What is wrong with a response that should be a JSON error with `status`
// (and "field" and "offset" when given): "" when nothing is.
inline std::string error_problem(workbook::response const& res, int status,
                                 std::optional<std::string> field = std::nullopt,
                                 std::optional<std::size_t> offset = std::nullopt)
{
  if (res.status == 0) return "no response: " + res.error;
  if (res.status != status)
    return "status " + std::to_string(res.status) + ", expected " + std::to_string(status);
  auto const type = res.header("Content-Type").value_or("(none)");
  if (type != "application/json") return "Content-Type " + type + ", expected application/json";
  auto const body = body_of(res);
  if (body.is_discarded() || !body.is_object()) return "the body is not a JSON object";
  if (!body.contains("error") || !body["error"].is_string() || body["error"].get<std::string>().empty())
    return "the body has no string member \"error\"";
  if (field) {
    if (!body.contains("field")) return "the body has no member \"field\"";
    if (body["field"] != *field) return "\"field\" is " + body["field"].dump() + ", expected \"" + *field + "\"";
  }
  if (offset) {
    if (!body.contains("offset")) return "the body has no member \"offset\"";
    if (body["offset"] != *offset)
      return "\"offset\" is " + body["offset"].dump() + ", expected " + std::to_string(*offset);
  }
  return "";
}

} // namespace task10_test
