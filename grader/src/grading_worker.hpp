// Grading for `grader serve`, off the HTTP thread: one worker thread that
// grades the tasks asked for, one at a time, then waits in the same
// save_watch loop `grader watch` uses (watch_loop.hpp) and grades again
// whichever opened task's files are saved. What it finds is posted to the
// io_context, whose thread alone touches the pages' state. stop() ends the
// loop and joins the thread (after the grade in progress, if any).
#pragma once

#include "verbs.hpp"
#include "verdict.hpp"
#include "watch_loop.hpp"

#include <workbook/process.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

namespace grader::web {

struct grading_news {
  std::function<void(std::string const& task)> building;        // on the io_context
  std::function<void(std::string const& task, verdict v)> graded;
};

class grading_worker {
public:
  grading_worker(context const& ctx, boost::asio::any_io_executor io, grading_news news);
  ~grading_worker();
  grading_worker(grading_worker const&) = delete;
  grading_worker& operator=(grading_worker const&) = delete;

  // Grade `task` soon, and again on every save of its files from then on.
  // Any thread.
  void grade(std::string const& task);

  // Ends the loop and joins the thread. Idempotent.
  void stop();

private:
  void run();
  void grade_now(std::string const& task);
  std::optional<std::string> next_request();

  context const& ctx_;
  boost::asio::any_io_executor io_;
  grading_news news_;
  std::mutex mutex_;
  std::deque<std::string> queue_;   // guarded by mutex_
  save_watch watch_;                // the worker thread's alone once it runs
  workbook::unique_fd wake_;        // eventfd: a request was queued
  workbook::unique_fd stop_;        // eventfd: stop
  std::thread thread_;
};

} // namespace grader::web
