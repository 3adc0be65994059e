// The live part of a task page: what this server knows of each task's
// grading (building now, the latest verdict) and the browsers listening to
// it through Server-Sent Events, task 14's lesson: a response that never
// ends, one event per change, a comment now and then so that a departed
// browser is noticed. Lives on the io_context's one thread; the grading
// worker posts its news there.
#pragma once

#include "verdict.hpp"
#include "web_pages.hpp"

#include <boost/beast/core/tcp_stream.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace grader::web {

class event_stream;

class live_events {
public:
  // `render(task)`: the task's verdict section as it stands, the data of
  // every "verdict" event.
  explicit live_events(std::function<std::string(std::string const& task)> render);

  live_verdict state(std::string const& task) const;

  void building(std::string const& task);
  void graded(std::string const& task, verdict v);

  // Takes over the connection of a GET /task/<id>/events: the response head,
  // the current verdict, then every change until the browser leaves.
  void subscribe(std::string const& task, boost::beast::tcp_stream stream);

  // Ends every stream (the server is stopping).
  void close_all();

private:
  void publish(std::string const& task, std::string const& event);
  std::string rendered(std::string const& task) const;

  std::function<std::string(std::string const&)> render_;
  std::map<std::string, live_verdict> state_;
  std::map<std::string, std::vector<std::weak_ptr<event_stream>>> streams_;
};

// One event in the text/event-stream format: "event: NAME", a "data:" line
// per line of `data`, a blank line.
std::string sse_event(std::string_view name, std::string_view data);

} // namespace grader::web
