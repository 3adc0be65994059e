// Task 16 · acceptance tests for the /hash endpoint [AC3]: its work goes in
// slices, each a handler of its own, so a long request leaves room for
// others; and under load, with two unlabeled burners beside it, the samples
// of the hash are found under endpoint=/hash and the burners' under no
// label. The test names the samples' functions itself (dladdr), so these
// tests do not depend on your summarize().
#include "fixtures.hpp"
#include "hash_server.hpp"

#include <workbook/test_client.hpp>

#include <boost/asio/post.hpp>

#include <catch2/catch.hpp>

#include <future>
#include <mutex>

using namespace task16_test;

namespace {

net::ip::tcp::endpoint any_loopback_port() { return {net::ip::make_address("127.0.0.1"), 0}; }

std::string get_hash(std::uint64_t rounds)
{
  return "GET /hash?rounds=" + std::to_string(rounds) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
}

} // namespace

TEST_CASE("a long /hash leaves room for others, digests are right, no label stays behind", "[AC3]")
{
  net::io_context ioc;
  task16::hash_server server(ioc, any_loopback_port());
  server.start();
  auto const port = server.local_endpoint().port();
  sampled_io io(ioc, nullptr, 1);  // one thread: only slices let another request in

  // The digests, at the edges of a slice.
  workbook::test_client client(port, 5s);
  for (std::uint64_t const rounds : {1u, 999u, 1000u, 1001u, 2500u}) {
    auto const r = client.get("/hash?rounds=" + std::to_string(rounds));
    INFO("GET /hash?rounds=" << rounds);
    CHECK(r.status == 200);
    CHECK(r.body == digest_after(rounds));
  }
  auto const answered = server.jobs_answered();

  // A long request (about 0.25 s of CPU), and while it runs, a short one.
  auto const long_rounds = rounds_for(250ms);
  workbook::raw_connection slow(port, 10s);
  REQUIRE(slow.send(get_hash(long_rounds)));
  REQUIRE(workbook::eventually([&] { return server.jobs_started() == answered + 1; }, 2s));
  auto const quick = client.get("/hash?rounds=1");
  auto const answered_then = server.jobs_answered();
  {
    INFO("GET /hash?rounds=" << long_rounds << " (about 0.25 s of CPU) was in progress on the server's only thread "
                             << "when GET /hash?rounds=1 came; when its answer arrived, "
                             << answered_then - answered << " of the two had been answered");
    CHECK(quick.status == 200);
    CHECK(quick.body == digest_after(1));
    CHECK(answered_then == answered + 1);
  }

  // Between requests, the io thread holds no label.
  std::promise<char const*> seen;
  net::post(ioc, [&] { seen.set_value(task16::current_label()); });
  auto f = seen.get_future();
  REQUIRE(f.wait_for(5s) == std::future_status::ready);
  char const* const left = f.get();
  INFO("the label a handler finds on the io thread after the requests: " << (left ? left : "(none)"));
  CHECK(left == nullptr);
}

TEST_CASE("under load beside two unlabeled burners, the hash's samples are under endpoint=/hash", "[AC3]")
{
  constexpr unsigned hz = 1000;
  task16::profiler prof({hz});
  prof.start();
  {
    INFO("start() has returned, and running() says the profiler does not run: there is nothing to watch");
    REQUIRE(prof.running());
  }
  net::io_context ioc;
  task16::hash_server server(ioc, any_loopback_port());
  server.start();
  auto const port = server.local_endpoint().port();
  sampled_io io(ioc, &prof, 2);
  burners noise(prof, 2);

  // Four clients at once, four requests each of about 40 ms of CPU.
  auto const rounds = rounds_for(40ms);
  auto const expected = digest_after(rounds);
  std::atomic<int> right{0};
  std::mutex mutex;
  std::string problem;
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c)
    clients.emplace_back([&] {
      workbook::test_client client(port, 10s);
      for (int k = 0; k < 4; ++k) {
        auto const r = client.get("/hash?rounds=" + std::to_string(rounds));
        if (r.status == 200 && r.body == expected) {
          ++right;
          continue;
        }
        std::lock_guard lock(mutex);
        if (problem.empty())
          problem = "GET /hash?rounds=" + std::to_string(rounds) + " answered " + std::to_string(r.status) + " \"" +
                    r.body.substr(0, 80) + "\"" + (r.error.empty() ? "" : " (" + r.error + ")");
      }
    });
  for (auto& t : clients) t.join();
  noise.stop();
  auto const snap = prof.snapshot();
  io.stop();
  prof.stop();

  auto const hash = samples_in(snap, address_of(&task16::sha256_compress), task16::hash_label);
  auto const background = samples_in(snap, address_of(&task16::churn), task16::hash_label);
  INFO("16 requests of " << rounds << " rounds on two sampled io threads, two burners beside them (" << ms_of(noise.cpu())
                         << " ms of CPU); samples in task16::sha256_compress: " << hash.total << ", "
                         << hash.under_label << " of them under \"" << task16::hash_label << "\"; samples in task16::churn: "
                         << background.total << ", " << background.unlabeled << " of them under no label; the profile: "
                         << describe(snap));
  INFO(problem);
  REQUIRE(right.load() == 16);
  CHECK(hash.total >= 100);
  CHECK(hash.share_under_label() >= 0.8);
  CHECK(background.total >= 100);
  CHECK(background.share_unlabeled() >= 0.8);
}
