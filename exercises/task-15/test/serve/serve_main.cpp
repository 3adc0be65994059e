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

#include <workbook/serve.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <thread>

int main(int argc, char** argv)
{
  namespace net = task15::net;
  unsigned short port = 0;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  CLI::App app{"Task 15's server as a process: make_record's records as JSON or NDJSON."};
  app.add_option("--port", port, "Listen on 127.0.0.1:N (0: any free port)")->capture_default_str();
  app.add_option("--threads", threads, "Threads running the io_context")->check(CLI::Range(1u, 1024u))->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    net::io_context ioc;
    task15::records_server server(ioc, {net::ip::make_address("127.0.0.1"), port});
    server.start();
    std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(server.local_endpoint().port()));
    std::fflush(stdout);
    workbook::run_until_signal(ioc, threads);
  } catch (std::exception const& e) {
    std::fprintf(stderr, "serve: %s\n", e.what());
    return 1;
  }
  return 0;
}
