// Task 11 · the server as a process, built from this file and your
// tuned_server.cpp: what AC7 starts with a low limit on open files, and what
// the workbook's benchmark (bench/task-11-10k) loads with 10K connections.
//
//   task-11-<variant>-serve [--port N] [--threads N] [--fds N]
//
//   --port N      listen on 127.0.0.1:N; 0 (the default) for any free port
//   --threads N   threads running the io_context (default: one per core)
//   --fds N       open files wanted (default 65536); raise_fd_limit() goes
//                 as far as the hard limit allows, and says so when that
//                 is not far enough
//
// It raises its limit on open files first, then listens with the production
// limits (server_limits{}), prints "listening on 127.0.0.1:PORT" and answers
// every GET (and HEAD) with 200 "ok\n", keep-alive; other methods get 405.
// SIGINT or SIGTERM stops it: exit code 0. Try it by hand:
//   build/dev/tasks/task-11/task-11-stub-serve --port 8080 &
//   curl -i http://127.0.0.1:8080/ ; kill %1
#include "tuned_server.hpp"

#include <workbook/serve.hpp>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <thread>

namespace {

namespace http = task11::http;
namespace net = task11::net;

task11::response ok(task11::request const& req)
{
  task11::response res{http::status::ok, req.version()};
  res.set(http::field::content_type, "text/plain");
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    res.result(http::status::method_not_allowed);
    res.set(http::field::allow, "GET, HEAD");
    res.body() = "method not allowed\n";
    return res;
  }
  res.body() = "ok\n";
  return res;
}

} // namespace

int main(int argc, char** argv)
{
  unsigned short port = 0;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::uint64_t fds = 65536;
  CLI::App app{"Task 11's server as a process: 200 \"ok\\n\" to every GET, with the production limits."};
  app.add_option("--port", port, "Listen on 127.0.0.1:N (0: any free port)")->capture_default_str();
  app.add_option("--threads", threads, "Threads running the io_context")->check(CLI::Range(1u, 1024u))->capture_default_str();
  app.add_option("--fds", fds, "Open files wanted")->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 30))->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  // First, before any socket: a descriptor per connection.
  auto const limit = task11::raise_fd_limit(fds);
  std::fprintf(stderr, "open files: soft limit %llu -> %llu (hard %llu)\n",
               static_cast<unsigned long long>(limit.before), static_cast<unsigned long long>(limit.after),
               static_cast<unsigned long long>(limit.hard));
  if (!limit.message.empty()) std::fprintf(stderr, "open files: %s\n", limit.message.c_str());

  try {
    net::io_context ioc;
    task11::tuned_server server(ioc, {net::ip::make_address("127.0.0.1"), port}, task11::server_limits{}, ok);
    server.start();
    std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(server.local_endpoint().port()));
    std::fflush(stdout);
    workbook::run_until_signal(ioc, threads);
    // The server goes before the io_context; the connections still open are
    // closed as the io_context destroys their pending operations.
  } catch (std::exception const& e) {
    std::fprintf(stderr, "serve: %s\n", e.what());
    return 1;
  }
  return 0;
}
