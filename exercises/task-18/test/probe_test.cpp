// Task 18 · acceptance tests for half-open: exactly one probe once the reset
// period has passed on the injected clock [AC5], and the probe's outcome,
// and only the probe's, decides what comes next [AC6].
#include "fixtures.hpp"

#include <catch2/catch.hpp>

using namespace task18_test;

namespace {

constexpr auto one_tick = task18::clock_type::duration(1);  // the clock's resolution: 1 ns

} // namespace

// ---------------------------------------------------------------- AC5

TEST_CASE("calls fail fast until the reset period has passed on the injected clock", "[AC5]")
{
  rig r(5, 30s);
  REQUIRE(r.open_it());

  r.clock.advance(30s - one_tick);
  auto early = r.call("/status/200");
  INFO("1 ns before the reset period has passed (on the clock the breaker was given): " << early.describe());
  REQUIRE(early.completed);
  CHECK(early.ec == task18::breaker_errc::open);
  CHECK(r.upstream.calls() == 5);

  r.clock.advance(one_tick);
  auto probe = r.start("/hold");
  bool const reached = r.until_held(1);
  INFO("at exactly opened + reset_period, a call: it reached the upstream: "
       << (reached ? "yes" : "no (" + probe.wait(0ms).describe() + ")") << "; state() is "
       << task18::to_string(r.breaker.state())
       << ".\nIs the time read from options.clock, every time, and compared with >=?");
  REQUIRE(reached);
  CHECK(r.breaker.state() == breaker_state::half_open);

  // While the probe is out, nothing else goes through, however long it takes.
  r.clock.advance(90s);
  for (int i = 0; i < 5; ++i) {
    auto a = r.call("/status/200");
    INFO("the probe is still in flight 90 s later; another call -> " << a.describe());
    REQUIRE(a.completed);
    CHECK(a.ec == task18::breaker_errc::open);
  }
  CHECK(r.upstream.calls() == 6);

  r.upstream.release_all(200);
  auto p = probe.wait();
  INFO("the probe is answered 200: " << p.describe());
  REQUIRE(p.completed);
  CHECK(p.status == 200);
  CHECK(r.breaker.state() == breaker_state::closed);
}

TEST_CASE("a thousand calls at once during half-open make exactly one probe", "[AC5]")
{
  constexpr int threads = 8, per_thread = 125, total = threads * per_thread;
  rig r;
  REQUIRE(r.open_it());
  r.upstream.quiet(true);
  r.clock.advance(30s);
  // The first readings of the clock wait for each other (up to 8 threads,
  // for up to 250 ms): a breaker that decides "the period is over" on one
  // reading and claims the probe later lets every reader through.
  r.clock.gather(threads, 250ms);

  auto t = std::make_shared<tally>();
  call_from_threads(r.breaker, "/hold", threads, per_thread, t);
  // Every call has either been refused or reached the upstream (where the
  // probe is held until the test releases it).
  bool const settled = workbook::eventually(
      [&] { return t->refused + r.upstream.calls() - 5 >= total || t->dropped > 0; }, 1500ms);
  int const probes = r.upstream.calls() - 5;
  INFO(total << " calls from " << threads << " threads once the period had passed: " << probes
             << " reached the upstream; " << t->describe() << ". At most " << r.clock.met()
             << " threads were reading the clock at once.\nTwo callers that both see \"open, period over\" "
                "before either has claimed the probe both become probes: decide and claim in one step.");
  REQUIRE(settled);
  CHECK(probes == 1);
  CHECK(t->refused == total - 1);
  CHECK(t->completed() == t->refused);  // the probe is still held: its caller has no answer yet
  CHECK(r.breaker.state() == breaker_state::half_open);

  r.upstream.release_all(200);
  bool const answered = workbook::eventually([&] { return t->answered == probes; }, 1s);
  INFO("the probe answered 200: " << t->describe() << "; transitions " << r.log.text());
  REQUIRE(answered);
  CHECK(t->ok == 1);
  CHECK(r.breaker.state() == breaker_state::closed);
  CHECK(r.log.text() == "closed→open, open→half_open, half_open→closed");
}

// ---------------------------------------------------------------- AC6

TEST_CASE("a successful probe closes the breaker and the count starts again", "[AC6]")
{
  rig r;
  REQUIRE(r.open_it());
  r.clock.advance(30s);
  auto probe = r.call("/status/200");
  INFO("the probe -> " << probe.describe() << "; state() is " << task18::to_string(r.breaker.state()));
  REQUIRE(probe.completed);
  CHECK(probe.status == 200);
  CHECK(r.breaker.state() == breaker_state::closed);

  // Closed again, for real: calls go through, and it takes five new failures to open.
  for (int i = 0; i < 4; ++i) {
    auto a = r.call("/status/500");
    INFO("after the probe, failure " << i + 1 << " -> " << a.describe() << "; state() is "
                                     << task18::to_string(r.breaker.state()));
    REQUIRE(a.completed);
    CHECK(a.status == 500);
    CHECK(r.breaker.state() == breaker_state::closed);
  }
  r.must_answer("/status/500");
  CHECK(r.breaker.state() == breaker_state::open);
  CHECK(r.upstream.calls() == 11);
}

TEST_CASE("a failed probe reopens it with the period counted from the failure", "[AC6]")
{
  rig r;
  REQUIRE(r.open_it());
  r.clock.advance(30s);

  // The probe takes 10 s on the breaker's clock, and fails.
  auto probe = r.start("/hold");
  REQUIRE(r.until_held(1));
  r.clock.advance(10s);
  r.upstream.release_all(503);
  auto p = probe.wait();
  INFO("the probe, 10 s long, answered 503: " << p.describe() << "; state() is "
                                              << task18::to_string(r.breaker.state()));
  REQUIRE(p.completed);
  CHECK(p.status == 503);
  CHECK(r.breaker.state() == breaker_state::open);

  auto now = r.call("/status/200");
  INFO("right after the failed probe: " << now.describe());
  REQUIRE(now.completed);
  CHECK(now.ec == task18::breaker_errc::open);

  // 30 s after the probe began, but 20 s after it failed: still open.
  r.clock.advance(20s);
  auto from_start = r.call("/status/200");
  INFO("30 s after the probe began, 20 s after it failed: " << from_start.describe()
       << "\nThe new period starts when the probe fails, not when it began.");
  REQUIRE(from_start.completed);
  CHECK(from_start.ec == task18::breaker_errc::open);

  r.clock.advance(10s - one_tick);
  auto just_before = r.call("/status/200");
  REQUIRE(just_before.completed);
  CHECK(just_before.ec == task18::breaker_errc::open);
  CHECK(r.upstream.calls() == 6);

  // 30 s after the failure: the next probe, which fails with a transport
  // error, and opens it again from that moment.
  r.clock.advance(one_tick);
  auto second = r.call("/refused");
  INFO("exactly 30 s after the failed probe, a call: " << second.describe() << "; state() is "
                                                       << task18::to_string(r.breaker.state()));
  REQUIRE(second.completed);
  CHECK(second.ec == asio::error::connection_refused);
  CHECK(r.upstream.calls() == 7);
  CHECK(r.breaker.state() == breaker_state::open);
  r.clock.advance(30s - one_tick);
  CHECK(r.call("/status/200").ec == task18::breaker_errc::open);
  r.clock.advance(one_tick);
  auto third = r.call("/status/200");
  CHECK(third.status == 200);
  CHECK(r.breaker.state() == breaker_state::closed);
  CHECK(r.log.text() ==
        "closed→open, open→half_open, half_open→open, open→half_open, half_open→open, open→half_open, half_open→closed");
}

TEST_CASE("a call made before the breaker opened changes nothing when it ends late", "[AC6]")
{
  rig r;
  // A slow call goes through while closed; five quick failures open the breaker behind it.
  auto slow = r.start("/hold");
  REQUIRE(r.until_held(1));
  REQUIRE(r.open_it());

  r.upstream.release_all(200);
  auto s = slow.wait();
  INFO("a call made while closed succeeds after the breaker opened: " << s.describe() << "; state() is "
                                                                      << task18::to_string(r.breaker.state())
                                                                      << "; transitions " << r.log.text());
  REQUIRE(s.completed);
  CHECK(s.status == 200);
  CHECK(r.breaker.state() == breaker_state::open);
  auto after = r.call("/status/200");
  INFO("and the next call: " << after.describe() << ". Only the probe, after the period, may close it.");
  CHECK(after.ec == task18::breaker_errc::open);
  CHECK(r.log.text() == "closed→open");
}

TEST_CASE("late failures from before a probe neither reopen nor count later", "[AC6]")
{
  rig r;
  // Eight slow calls go through while closed; five failures open the breaker behind them.
  std::vector<pending> early, later;
  for (int i = 0; i < 4; ++i) early.push_back(r.start("/hold/early"));
  for (int i = 0; i < 4; ++i) later.push_back(r.start("/hold/later"));
  REQUIRE(r.until_held(8));
  REQUIRE(r.open_it());
  r.clock.advance(30s);
  auto probe = r.start("/hold/probe");
  REQUIRE(r.until_held(9));

  // While the probe is out, four of the old calls fail.
  r.upstream.fail("/hold/early", asio::error::connection_reset);
  for (auto& call : early) REQUIRE(call.wait().completed);
  auto during = r.call("/status/200");
  INFO("half-open, the probe in flight, and four calls made while closed fail: state() is "
       << task18::to_string(r.breaker.state()) << "; transitions " << r.log.text() << "; another call -> "
       << during.describe() << ". Only the probe decides.");
  CHECK(r.breaker.state() == breaker_state::half_open);
  CHECK(r.log.text() == "closed→open, open→half_open");
  CHECK(during.ec == task18::breaker_errc::open);

  r.upstream.release("/hold/probe", 200);
  auto p = probe.wait();
  INFO("the probe -> " << p.describe() << "; transitions " << r.log.text());
  REQUIRE(p.completed);
  CHECK(p.status == 200);
  CHECK(r.breaker.state() == breaker_state::closed);

  // Closed again; now the other four old calls fail.
  r.upstream.fail("/hold/later", asio::error::connection_reset);
  for (auto& call : later) {
    auto a = call.wait();
    REQUIRE(a.completed);
    CHECK(a.ec == asio::error::connection_reset);
  }
  INFO("after the probe closed the breaker, four calls made before it opened failed: state() is "
       << task18::to_string(r.breaker.state()) << "; transitions " << r.log.text());
  CHECK(r.breaker.state() == breaker_state::closed);
  // They belong to a period that is over: four new failures still leave it closed.
  for (int i = 0; i < 4; ++i) r.must_answer("/status/500");
  INFO("then four new failures: state() is " << task18::to_string(r.breaker.state())
                                              << ". Counted with the four late ones they would have opened it.");
  CHECK(r.breaker.state() == breaker_state::closed);
  r.must_answer("/status/500");
  CHECK(r.breaker.state() == breaker_state::open);
}
