// Task 19 · acceptance tests for the backoff [AC3]: after attempt n the
// retrier sleeps floor(u × min(cap, base × 2^(n−1))) microseconds, u being
// its source's next draw, exactly; the sleep is real (the next attempt
// never comes sooner); and a hundred attempts reach the cap without the
// ceiling overflowing on the way.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

using namespace task19_test;
using namespace std::chrono_literals;

namespace {

// What the log says against what the formula says, for failure messages.
std::string compare(std::vector<microseconds> const& got, std::vector<microseconds> const& want)
{
  std::ostringstream out;
  out << "delay after attempt n: announced / expected (us)";
  for (std::size_t i = 0; i < std::max(got.size(), want.size()); ++i) {
    out << "\n  n = " << i + 1 << ": ";
    if (i < got.size()) out << got[i].count();
    else out << "-";
    out << " / ";
    if (i < want.size()) out << want[i].count();
    else out << "-";
    if (i < got.size() && i < want.size() && !same_delay(got[i], want[i])) out << "   <-- differs";
  }
  return out.str();
}

bool all_same(std::vector<microseconds> const& got, std::vector<microseconds> const& want)
{
  if (got.size() != want.size()) return false;
  for (std::size_t i = 0; i < got.size(); ++i)
    if (!same_delay(got[i], want[i])) return false;
  return true;
}

} // namespace

TEST_CASE("the delays are floor(u * min(cap, base * 2^(n-1))) for the source's draws", "[AC3]")
{
  std::vector<double> const u{0.5, 0.75, 0.999, 0.1, 0.6};
  auto counter = std::make_shared<draw_counter>();
  retry_log log;
  auto options = test_options(log, sequence(u, counter));
  options.max_attempts = 6;
  options.base = 1ms;
  options.cap = 5ms;
  rig r({status(500)}, options);

  auto const res = round_trip(r, get("/"));
  INFO(describe(res));
  REQUIRE(res);
  std::vector<microseconds> want;
  for (int n = 1; n <= 5; ++n) want.push_back(expected_delay(u[static_cast<std::size_t>(n - 1)], options.base, options.cap, n));
  auto const got = log.delays();
  INFO("base 1 ms, cap 5 ms, draws 0.5, 0.75, 0.999, 0.1, 0.6\n" << compare(got, want));
  CHECK(all_same(got, want));
  CHECK(counter->calls.load() == 5);
  auto const events = log.events();
  for (std::size_t i = 0; i < events.size(); ++i) {
    CHECK(events[i].attempt == static_cast<int>(i) + 1);
    CHECK_FALSE(events[i].from_retry_after);
  }
  CHECK(r.fake().count() == 6);
}

TEST_CASE("each sleep is real, the next attempt never starting before it is over", "[AC3]")
{
  retry_log log;
  auto options = test_options(log, constant(0.999));
  options.max_attempts = 4;
  options.base = 4ms;
  options.cap = 16ms;
  rig r({status(503)}, options);

  auto const res = round_trip(r, get("/"));
  INFO(describe(res));
  REQUIRE(res);
  auto const calls = r.fake().calls();
  auto const delays = log.delays();
  REQUIRE(calls.size() == 4);
  REQUIRE(delays.size() == 3);
  for (std::size_t i = 0; i < delays.size(); ++i) {
    auto const gap = micros_between(calls[i].at, calls[i + 1].at);
    INFO("attempt " << i + 1 << " to attempt " << i + 2 << ": " << gap.count() << " us apart; the delay announced was "
                    << delays[i].count() << " us (the formula says "
                    << expected_delay(0.999, options.base, options.cap, static_cast<int>(i) + 1).count() << ")");
    CHECK(same_delay(delays[i], expected_delay(0.999, options.base, options.cap, static_cast<int>(i) + 1)));
    CHECK(gap >= delays[i]);
  }
}

TEST_CASE("a hundred attempts reach the cap and stay there, never overflowing", "[AC3]")
{
  retry_log log;
  auto options = test_options(log, constant(0.5));
  options.max_attempts = 100;
  options.base = 1us;
  options.cap = 64us;
  rig r({status(500)}, options);

  auto const res = round_trip(r, get("/"), 5000ms);
  INFO(describe(res));
  REQUIRE(res);
  std::vector<microseconds> want;
  for (int n = 1; n <= 99; ++n) want.push_back(expected_delay(0.5, options.base, options.cap, n));
  auto const got = log.delays();
  INFO("base 1 us, cap 64 us, every draw 0.5\n" << compare(got, want));
  CHECK(all_same(got, want));
  CHECK(r.fake().count() == 100);
}
