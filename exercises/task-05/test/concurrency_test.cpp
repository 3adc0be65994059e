// Task 05 · acceptance tests for concurrent use, [AC5]. One transport,
// shared by many threads, as Go's Transport is meant to be: every answer
// must match its request, the caps must hold, no connection may be lost
// track of, and requests must not wait for each other's network I/O.
// (The reference also passes these under ThreadSanitizer.)
#include "fixtures.hpp"

#include <workbook/eventually.hpp>

#include <catch2/catch.hpp>

#include <array>

using namespace task05_test;

TEST_CASE("8 threads, 3 origins, small caps: every answer matches its request, and no connection is lost "
          "track of",
          "[AC5]")
{
  constexpr int threads = 8;
  constexpr int per_thread = 30;
  auto echo = [](std::string name) {
    return workbook::test_server::serving([name](workbook::request const& req) {
      return workbook::response{200, "", {}, name + " " + req.target + "\n", ""};
    });
  };
  std::array<workbook::test_server, 3> servers{echo("A"), echo("B"), echo("C")};
  std::vector<std::string> const names{"A", "B", "C"};
  std::vector<std::string> urls;
  for (auto& s : servers) urls.push_back(s.url());

  auto log = std::make_shared<got_conn_log>();
  task05::transport_options options;
  options.max_idle_per_host = 2;
  options.max_idle_total = 4;
  auto t = make_transport(options, log);

  struct outcome {
    int requests = 0;
    int right = 0;
    std::vector<std::string> wrong;  // the first few
  };
  auto const r = drive(t, {&servers[0], &servers[1], &servers[2]}, [urls, names](task05::transport& tr) {
    struct shared {
      std::mutex mutex;
      outcome out;
    };
    auto state = std::make_shared<shared>();
    std::vector<std::thread> pool;
    for (int w = 0; w < threads; ++w)
      pool.emplace_back([&tr, state, urls, names, w] {
        for (int i = 0; i < per_thread; ++i) {
          auto const k = static_cast<std::size_t>((w + i) % 3);
          auto const target = "/w" + std::to_string(w) + "/r" + std::to_string(i);
          auto const res = tr.get(urls[k] + target);
          auto const expected = names[k] + " " + target + "\n";
          std::lock_guard lock(state->mutex);
          ++state->out.requests;
          if (!res.error && res.status == 200 && res.body == expected) ++state->out.right;
          else if (state->out.wrong.size() < 5)
            state->out.wrong.push_back("GET " + urls[k] + target + ": " + describe(res) + ", expected \"" +
                                       expected.substr(0, expected.size() - 1) + "\\n\"");
        }
      });
    for (auto& th : pool) th.join();
    std::lock_guard lock(state->mutex);
    return state->out;
  });

  std::string examples;
  for (auto const& w : r.wrong) examples += "\n  " + w;
  INFO(r.right << " of " << r.requests << " answers matched their request" << examples);
  CHECK(r.requests == threads * per_thread);
  CHECK(r.right == threads * per_thread);

  auto const calls = log->calls();
  INFO("on_got_conn was called " << calls.size() << " times for " << r.requests << " requests");
  CHECK(calls.size() == static_cast<std::size_t>(threads * per_thread));

  std::vector<workbook::test_server*> const all{&servers[0], &servers[1], &servers[2]};
  auto const idle = idle_count(t, all);
  std::vector<std::size_t> per_origin;
  for (auto const& u : urls) per_origin.push_back(idle_count(t, all, u));
  INFO("idle connections: " << idle << " in all (cap 4); A " << per_origin[0] << ", B " << per_origin[1]
       << ", C " << per_origin[2] << " (cap 2 each)");
  CHECK(idle <= 4);
  for (auto n : per_origin) CHECK(n <= 2);

  // Every connection is either idle in the pool or closed: the servers end
  // up seeing exactly the idle ones open. (Nothing changes the pool now.)
  auto const open_in_all = [&] { return servers[0].open() + servers[1].open() + servers[2].open(); };
  bool const balanced = workbook::eventually([&] { return open_in_all() == static_cast<int>(idle); }, 2s);
  INFO("the servers see " << open_in_all() << " connection(s) open; the pool holds " << idle
       << " idle. Any difference is a connection neither in the pool nor closed");
  CHECK(balanced);
}

TEST_CASE("requests to one origin do not wait for each other: a batch of 8 is in flight at once", "[AC5]")
{
  constexpr int width = 8;
  auto gate = std::make_shared<batch_gate>(width);
  auto server = gated_server(gate);
  auto log = std::make_shared<got_conn_log>();
  task05::transport_options options;
  options.max_idle_per_host = width;
  auto t = make_transport(options, log);

  auto const r = run_batches(t, server.url(), width, 3, server, gate);
  {
    INFO(gate->report() << ". The pool's lock may be held while taking or giving back a connection, "
         "never while a request waits for the network");
    CHECK(gate->held_every_batch());
  }
  INFO(r.answered << " of " << r.requests << " requests answered correctly");
  CHECK(r.answered == width * 3);
}
