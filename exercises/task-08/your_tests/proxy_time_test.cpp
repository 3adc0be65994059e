// Task 08 · YOUR tests for proxy_time. This file is graded too (README,
// AC5 and AC6): the grader builds it against the reference handler, where
// every test must pass and assert something, and against six broken
// handlers, each of which some test must fail.
//
// Run them against your own handler while you write them:
//   cmake --build build/dev --target task-08-stub-tests && build/dev/tasks/task-08/task-08-stub-tests
//
// Rules of the game: the upstream is a workbook::test_server on 127.0.0.1
// (port 0, a thread of its own), never the network; no sleeps; no fixed
// ports. Add test cases here or in more .cpp files beside this one (a new
// file needs a `cmake` re-run, which `grader task-08` does for you). Tags
// are not needed.
#include "proxy_time.hpp"

#include <workbook/test_server.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

using namespace std::chrono_literals;

TEST_CASE("proxy_time answers now: <value> with the value its upstream sent")
{
  // TODO (step 3): a fake upstream. workbook::test_server::serving takes a
  // function from workbook::request to workbook::response: answer GET /now
  // with status 200 and body "1700000000\n", and anything else with 404.
  //
  // TODO (step 3): a task08::proxy_time pointed at upstream.url(), with a
  // task08::upstream_client{1s}. Call it with a task08::request
  // {task08::http::verb::get, "/", 11} and CHECK what came back: the status
  // (res.result_int()) and the exact body (res.body()).
  //
  // TODO (step 4): one test case per way the upstream can fail. Which
  // mistake in a handler does each of your tests catch, and which does none?
  // (The README's AC6 lists the six the grader tries.)
}
