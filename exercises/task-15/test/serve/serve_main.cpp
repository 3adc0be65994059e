// Task 15 · the server as a process, built from this file and your
// records.cpp: what you point curl at, and what the workbook's benchmark
// (bench/task-15-records) measures against a Go server of the same shape.
//
//   task-15-<variant>-serve [--port N] [--threads N]
//
//   --port N      listen on 127.0.0.1:N; 0 (the default) for any free port
//   --threads N   threads running the io_context (default: one per core)
//
// It serves make_record's records with the production options
// (server_options{}), prints "listening on 127.0.0.1:PORT", and stops on
// SIGINT or SIGTERM with exit code 0. Try it by hand:
//   build/dev/tasks/task-15/task-15-stub-serve --port 8080 &
//   curl -s 'http://127.0.0.1:8080/records?n=5&format=ndjson'
//   curl -s --raw 'http://127.0.0.1:8080/records?n=3000' | head -c 300   (the chunks' sizes too)
//   curl -s 'http://127.0.0.1:8080/records?n=1000000' | jq length
//   kill %1
#include "records.hpp"

#include <boost/asio/signal_set.hpp>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace net = task15::net;

struct options {
  unsigned short port = 0;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
};

int usage(char const* argv0)
{
  std::fprintf(stderr, "usage: %s [--port N] [--threads N]\n", argv0);
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
    unsigned long long value = 0;
    if (name == "--port" && parse_number(argv[i + 1], 65535, value)) opt.port = static_cast<unsigned short>(value);
    else if (name == "--threads" && parse_number(argv[i + 1], 1024, value) && value > 0)
      opt.threads = static_cast<unsigned>(value);
    else return usage(argv[0]);
  }

  try {
    net::io_context ioc;
    task15::records_server server(ioc, {net::ip::make_address("127.0.0.1"), opt.port});
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
  } catch (std::exception const& e) {
    std::fprintf(stderr, "serve: %s\n", e.what());
    return 1;
  }
  return 0;
}
