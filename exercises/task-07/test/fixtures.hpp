// Task 07 · test helpers: a journal that the tests' own layers, handlers and
// log sinks write to, so that a test can compare what happened, in order.
// Handlers run on the test server's thread and the test reads on its own:
// every access goes through a mutex.
#pragma once

#include "middleware.hpp"

#include <workbook/beast_messages.hpp>
#include <workbook/manual_clock.hpp>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace task07_test {

using status = task07::http::status;
using field = task07::http::field;

class journal {
public:
  void record(std::string event)
  {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(event));
  }

  std::vector<std::string> events() const
  {
    std::lock_guard lock(mutex_);
    return events_;
  }

  void clear()
  {
    std::lock_guard lock(mutex_);
    events_.clear();
  }

  // The events that start with `prefix`, without it.
  std::vector<std::string> lines(std::string_view prefix = "log: ") const
  {
    std::vector<std::string> out;
    for (auto const& e : events())
      if (e.rfind(prefix, 0) == 0) out.push_back(e.substr(prefix.size()));
    return out;
  }

  // A log sink that records "PREFIXline".
  task07::log_sink sink(std::string prefix = "log: ")
  {
    return [this, prefix = std::move(prefix)](std::string const& line) { record(prefix + line); };
  }

  // A layer of the test's own: records "NAME" on the way in and
  // "NAME-after" on the way out.
  task07::middleware marks(std::string name)
  {
    return [this, name = std::move(name)](task07::handler next) -> task07::handler {
      return [this, name, next = std::move(next)](task07::request& req) {
        record(name);
        auto res = next(req);
        record(name + "-after");
        return res;
      };
    };
  }

  // A handler that records "handler" and answers 200 with `body`.
  task07::handler answering(std::string body)
  {
    return [this, body = std::move(body)](task07::request& req) {
      record("handler");
      return reply(req, status::ok, body);
    };
  }

  static task07::response reply(task07::request const& req, status s, std::string body)
  {
    task07::response res{s, req.version()};
    res.set(field::content_type, "text/plain");
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
  }

private:
  mutable std::mutex mutex_;
  std::vector<std::string> events_;
};

// A time_source reading a manual clock the test moves by hand.
inline task07::time_source reading(workbook::manual_clock& clock)
{
  return [&clock] { return clock.now(); };
}

inline workbook::request with(std::string method, std::string target, workbook::header_list headers = {})
{
  workbook::request req;
  req.method = std::move(method);
  req.target = std::move(target);
  req.headers = std::move(headers);
  return req;
}

inline workbook::request get(std::string target, workbook::header_list headers = {})
{
  return with("GET", std::move(target), std::move(headers));
}

inline workbook::header_list authorization(std::string value)
{
  return {{"Authorization", std::move(value)}};
}

// A request as a handler receives it, for direct calls.
inline task07::request direct(std::string method, std::string target, workbook::header_list headers = {})
{
  return workbook::to_beast(with(std::move(method), std::move(target), std::move(headers)));
}

} // namespace task07_test
