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

#include <boost/asio/signal_set.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

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

struct options {
  unsigned short port = 0;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::uint64_t fds = 65536;
};

int usage(char const* argv0)
{
  std::fprintf(stderr, "usage: %s [--port N] [--threads N] [--fds N]\n", argv0);
  return 2;
}

bool parse_number(char const* text, unsigned long long max, unsigned long long& out)
{
  char* end = nullptr;
  out = std::strtoull(text, &end, 10);
  return end != text && *end == '\0' && out <= max;
}

} // namespace

int main(int argc, char** argv)
{
  options opt;
  for (int i = 1; i < argc; i += 2) {
    std::string_view const name = argv[i];
    if (i + 1 >= argc) return usage(argv[0]);
    char const* const text = argv[i + 1];
    unsigned long long value = 0;
    if (name == "--port" && parse_number(text, 65535, value)) opt.port = static_cast<unsigned short>(value);
    else if (name == "--threads" && parse_number(text, 1024, value) && value > 0) opt.threads = static_cast<unsigned>(value);
    else if (name == "--fds" && parse_number(text, 1ull << 30, value) && value > 0) opt.fds = value;
    else return usage(argv[0]);
  }

  // First, before any socket: a descriptor per connection.
  auto const fds = task11::raise_fd_limit(opt.fds);
  std::fprintf(stderr, "open files: soft limit %llu -> %llu (hard %llu)\n",
               static_cast<unsigned long long>(fds.before), static_cast<unsigned long long>(fds.after),
               static_cast<unsigned long long>(fds.hard));
  if (!fds.message.empty()) std::fprintf(stderr, "open files: %s\n", fds.message.c_str());

  try {
    net::io_context ioc;
    task11::tuned_server server(ioc, {net::ip::make_address("127.0.0.1"), opt.port}, task11::server_limits{}, ok);
    server.start();

    net::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code ec, int) {
      if (!ec) ioc.stop();
    });

    std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(server.local_endpoint().port()));
    std::fflush(stdout);

    std::vector<std::thread> threads;
    for (unsigned i = 1; i < opt.threads; ++i) threads.emplace_back([&ioc] { ioc.run(); });
    ioc.run();
    for (auto& t : threads) t.join();
    // The server goes before the io_context; the connections still open are
    // closed as the io_context destroys their pending operations.
  } catch (std::exception const& e) {
    std::fprintf(stderr, "serve: %s\n", e.what());
    return 1;
  }
  return 0;
}
