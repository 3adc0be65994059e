// Task 16 · the /hash server, two background burners and your profiler as
// a process, built from this file and your profiler.cpp: what you point
// curl, a load generator and perf at.
//
//   task-16-<variant>-serve [--port N] [--debug-port N] [--threads N] [--hz N]
//
//   --port N        /hash on 127.0.0.1:N (default 8080; 0: any free port)
//   --debug-port N  the debug endpoint on 127.0.0.1:N (default 6060; 0: any)
//   --threads N     threads running the io_context, each sampled (default 2)
//   --hz N          the profiler's rate (default 100)
//
// It prints where it listens, runs two unlabeled burner threads (sampled,
// like the io threads) until it is stopped, and stops on SIGINT or SIGTERM
// with exit code 0. Try it:
//   build/dev/tasks/task-16/task-16-stub-serve &
//   for i in $(seq 20); do curl -s 'http://127.0.0.1:8080/hash?rounds=200000' >/dev/null & done
//   curl -s 'http://127.0.0.1:6060/debug/profile?ms=2000'
//   perf record -e cpu-clock -g -p $(pgrep -f task-16-stub-serve) -- sleep 5
//   perf report --stdio --no-children --sort pid,sym
//   kill %1
#include "../hash_server.hpp"
#include "profiler.hpp"

#include <workbook/serve.hpp>

#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <thread>
#include <vector>

int main(int argc, char** argv)
{
  namespace net = task16::net;
  unsigned short port = 8080;
  unsigned short debug_port = 6060;
  unsigned threads = 2;
  unsigned hz = 100;
  CLI::App app{"Task 16's /hash server, two unlabeled burner threads and your profiler, with its debug endpoint."};
  app.add_option("--port", port, "/hash on 127.0.0.1:N (0: any free port)")->capture_default_str();
  app.add_option("--debug-port", debug_port, "The debug endpoint on 127.0.0.1:N (0: any free port)")->capture_default_str();
  app.add_option("--threads", threads, "Threads running the io_context, each sampled")->check(CLI::Range(1u, 64u))->capture_default_str();
  app.add_option("--hz", hz, "The profiler's rate")->check(CLI::Range(1u, 10000u))->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    task16::profiler prof({hz});
    prof.start();

    net::io_context ioc;
    auto const loopback = net::ip::make_address("127.0.0.1");
    task16::hash_server server(ioc, {loopback, port});
    server.start();
    task16::debug_server debug(ioc, {loopback, debug_port}, prof);
    debug.start();
    std::printf("/hash on 127.0.0.1:%u, the profile on 127.0.0.1:%u/debug/profile (%u Hz)\n",
                static_cast<unsigned>(server.local_endpoint().port()),
                static_cast<unsigned>(debug.local_endpoint().port()), hz);
    std::fflush(stdout);

    // The background noise: sampled, never labeled, each busy part of the
    // time (a burner that never rests would take a core).
    std::atomic<bool> done{false};
    std::atomic<std::uint64_t> sink{0};
    std::vector<std::thread> burners;
    for (int i = 0; i < 2; ++i)
      burners.emplace_back([&, i] {
        task16::sampled_thread sampled(prof);
        std::uint64_t x = static_cast<std::uint64_t>(i) + 1;
        while (!done.load(std::memory_order_relaxed)) {
          x = task16::churn(x, 300'000);
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        sink += x;
      });

    // Every thread that runs the io_context is sampled, this one included.
    std::vector<std::thread> io;
    for (unsigned i = 1; i < threads; ++i)
      io.emplace_back([&] {
        task16::sampled_thread sampled(prof);
        ioc.run();
      });
    {
      task16::sampled_thread sampled(prof);
      workbook::run_until_signal(ioc, 1);
    }
    for (auto& t : io) t.join();
    done = true;
    for (auto& t : burners) t.join();
    prof.stop();
  } catch (std::exception const& e) {
    std::fprintf(stderr, "serve: %s\n", e.what());
    return 1;
  }
  return 0;
}
