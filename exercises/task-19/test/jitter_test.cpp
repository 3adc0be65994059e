// Task 19 · acceptance tests for the jitter [AC4]: it comes from the
// injected source and from nothing else, so two clients seeded differently
// do not retry in lockstep and two seeded alike retry exactly alike; it is
// full jitter, spread over the whole of [0, ceiling); and calls that
// overlap on two threads draw from the source one at a time.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

using namespace task19_test;
using namespace std::chrono_literals;

namespace {

std::string show(std::vector<microseconds> const& delays)
{
  if (delays.empty()) return " nothing (no retry announced)";
  std::ostringstream out;
  for (auto d : delays) out << " " << d.count();
  out << " us";
  return out.str();
}

} // namespace

TEST_CASE("two clients seeded differently do not retry in lockstep on one upstream", "[AC4]")
{
  // Both clients send at the same moment to the same upstream, which fails
  // everything; each retries five times. With jitter, their retries land
  // at different moments; without it, they come back together every time.
  scripted_upstream upstream({status(500)});
  retry_log log_a, log_b;
  auto options_a = test_options(log_a, seeded(1));
  auto options_b = test_options(log_b, seeded(2));
  for (auto* o : {&options_a, &options_b}) {
    o->max_attempts = 6;
    o->base = 2ms;
    o->cap = 16ms;
  }
  rig a(upstream.port(), options_a);
  rig b(upstream.port(), options_b);

  auto request_a = get("/flaky");
  request_a.message.set("X-Client", "a");
  auto request_b = get("/flaky");
  request_b.message.set("X-Client", "b");
  call call_a(a, std::move(request_a));
  call call_b(b, std::move(request_b));
  REQUIRE(call_a.wait(3000ms));
  REQUIRE(call_b.wait(3000ms));

  // The upstream's view, for the failure message: when each client came.
  std::ostringstream arrivals;
  auto const seen = upstream.seen();
  for (auto const& s : seen)
    arrivals << "\n  client " << s.header("X-Client").value_or("?") << " at "
             << micros_between(seen.front().at, s.at).count() << " us";
  auto const delays_a = log_a.delays();
  auto const delays_b = log_b.delays();
  INFO("the upstream saw:" << arrivals.str());
  INFO("client a (seed 1) slept" << show(delays_a) << "\nclient b (seed 2) slept" << show(delays_b));
  REQUIRE(delays_a.size() == 5);
  REQUIRE(delays_b.size() == 5);
  CHECK(upstream.requests() == 12);

  // Each client's delays are its own seed's draws through the formula...
  auto const u_a = draws_of(1, 5);
  auto const u_b = draws_of(2, 5);
  int apart = 0;
  for (int n = 1; n <= 5; ++n) {
    auto const i = static_cast<std::size_t>(n - 1);
    CHECK(same_delay(delays_a[i], expected_delay(u_a[i], options_a.base, options_a.cap, n)));
    CHECK(same_delay(delays_b[i], expected_delay(u_b[i], options_b.base, options_b.cap, n)));
    // ... so they differ, by more than a twentieth of the window, almost every time.
    auto const window = expected_ceiling(options_a.base, options_a.cap, n);
    auto const difference = delays_a[i] > delays_b[i] ? delays_a[i] - delays_b[i] : delays_b[i] - delays_a[i];
    if (difference * 20 > window) ++apart;
  }
  CHECK(apart >= 4);
}

TEST_CASE("two clients with the same seed sleep exactly the same delays", "[AC4]")
{
  retry_log log_a, log_b;
  auto options_a = test_options(log_a, seeded(7));
  auto options_b = test_options(log_b, seeded(7));
  for (auto* o : {&options_a, &options_b}) {
    o->max_attempts = 8;
    o->base = 100us;
    o->cap = 1600us;
  }
  rig a({status(500)}, options_a);
  rig b({status(502)}, options_b);
  auto const res_a = round_trip(a, get("/"));
  auto const res_b = round_trip(b, get("/"));
  REQUIRE(res_a);
  REQUIRE(res_b);
  auto const delays_a = log_a.delays();
  auto const delays_b = log_b.delays();
  INFO("client a (seed 7) slept" << show(delays_a) << "\nclient b (seed 7) slept" << show(delays_b));
  REQUIRE(delays_a.size() == 7);
  CHECK(delays_a == delays_b);
  auto const u = draws_of(7, 7);
  for (int n = 1; n <= 7; ++n) {
    auto const i = static_cast<std::size_t>(n - 1);
    INFO("n = " << n << ": the formula says " << expected_delay(u[i], options_a.base, options_a.cap, n).count() << " us");
    CHECK(same_delay(delays_a[i], expected_delay(u[i], options_a.base, options_a.cap, n)));
  }
}

TEST_CASE("full jitter covers the window, from below a quarter to above three quarters", "[AC4]")
{
  // base = cap: every retry draws from the same window [0, 400 us).
  retry_log log;
  auto options = test_options(log, seeded(11));
  options.max_attempts = 41;
  options.base = 400us;
  options.cap = 400us;
  rig r({status(500)}, options);
  auto const res = round_trip(r, get("/"));
  REQUIRE(res);
  auto const delays = log.delays();
  INFO("40 delays in a window of 400 us:" << show(delays));
  REQUIRE(delays.size() == 40);
  auto const [low, high] = std::minmax_element(delays.begin(), delays.end());
  CHECK(*low >= 0us);
  CHECK(*low < 100us);
  CHECK(*high > 300us);
  CHECK(*high < 400us);
}

TEST_CASE("calls at once on two threads draw from the source one at a time", "[AC4]")
{
  // 64 calls of four attempts on an io_context run by two threads: 192
  // draws. The source stays inside each draw for 1 ms, and notes when a
  // second caller comes in meanwhile: a source need not be thread-safe.
  auto counter = std::make_shared<draw_counter>();
  retry_log log;
  auto options = test_options(log, sequence({0.5}, counter, 1ms));
  options.max_attempts = 4;
  options.base = 1us;
  options.cap = 2us;
  rig r({status(500)}, options, /*threads=*/2);

  std::vector<std::unique_ptr<call>> calls;
  for (int i = 0; i < 64; ++i) calls.push_back(std::make_unique<call>(r, get("/" + std::to_string(i))));
  int completed = 0, five_hundreds = 0;
  for (auto& c : calls) {
    if (!c->wait(5000ms)) continue;
    ++completed;
    if (!c->get().ec && c->get().response.result_int() == 500) ++five_hundreds;
  }
  INFO(completed << " of 64 calls completed, " << five_hundreds << " with the last 500; " << counter->calls.load()
                 << " draws; the fake upstream saw " << r.fake().count() << " attempts");
  CHECK(completed == 64);
  CHECK(five_hundreds == 64);
  CHECK(counter->calls.load() == 192);
  CHECK_FALSE(counter->overlapped.load());
}
