// Task 06 · the server process for AC7, built from this file and your
// graceful_server.cpp. The AC7 tests start it, send it SIGTERM or SIGINT
// while a request is in flight, and watch it drain and exit.
//
//   task-06-stub-serve [grace_ms]      (default 5000)
//
// Prints "listening on PORT" once it is ready, then serves:
//   GET /slow   prints "slow request started", then waits until it can read
//               a byte from file descriptor 3 (the test's gate; end of file
//               counts too) and answers 200 "slow\n". Without a fd 3 it
//               waits 5 s instead, so you can try it by hand:
//                 build/dev/tasks/task-06/task-06-stub-serve &
//                 curl -i http://127.0.0.1:PORT/slow & sleep 1; kill -TERM %1
//   otherwise   200 "hello\n"
#include "graceful_server.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include <unistd.h>

namespace {

task06::response serve(task06::request const& req, std::stop_token)
{
  namespace http = task06::http;
  task06::response res{http::status::ok, req.version()};
  res.set(http::field::content_type, "text/plain");
  if (req.target() == "/slow") {
    std::printf("slow request started\n");
    std::fflush(stdout);
    char byte = 0;
    ssize_t n;
    while ((n = ::read(3, &byte, 1)) < 0 && errno == EINTR) {}
    if (n < 0) std::this_thread::sleep_for(std::chrono::seconds(5));  // no fd 3: run by hand
    res.body() = "slow\n";
    return res;
  }
  res.body() = "hello\n";
  return res;
}

} // namespace

int main(int argc, char** argv)
{
  std::chrono::milliseconds const grace{argc > 1 ? std::atol(argv[1]) : 5000};

  boost::asio::io_context ioc;
  task06::graceful_server server(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0}, serve);
  server.start();
  std::printf("listening on %u\n", static_cast<unsigned>(server.local_endpoint().port()));
  std::fflush(stdout);

  int const code = task06::serve_until_signal(ioc, server, grace);
  std::printf("exiting with %d\n", code);
  std::fflush(stdout);
  // After a shutdown that timed out, a handler may still be running, and
  // nothing can stop a thread from outside. Destroying the server would join
  // it, perhaps for ever; leave without running destructors instead.
  if (code != 0) std::_Exit(code);
  return code;
}
