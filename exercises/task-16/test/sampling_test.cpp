// Task 16 · acceptance tests for sampling [AC1]: each sampled thread has a
// timer on its own CPU clock that interrupts it alone, so the samples of a
// thread measure the CPU time it used, under the label it had; a thread
// that is not sampled, or does not run, is never interrupted; stop() leaves
// no timer and no handler behind, and a profiler starts again.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

#include <future>
#include <set>
#include <stdexcept>

using namespace task16_test;

namespace {

constexpr char busy_label[] = "test=busy";
constexpr char idle_label[] = "test=idle";
constexpr char unsampled_label[] = "test=not-sampled";
constexpr char again_label[] = "test=started-again";

} // namespace

TEST_CASE("a sampled thread's CPU time is counted under its label, at the rate", "[AC1]")
{
  // 2000 Hz is above the kernel's tick (250 Hz on Debian), where one
  // signal stands for several periods: the counts stay proportional to
  // CPU time only if si_overrun is counted too. The worker burns at least
  // 200 ms of CPU, and then until one more sample arrives: a sample counts
  // every period up to the moment it is delivered.
  constexpr unsigned hz = 2000;
  task16::profiler prof({hz});
  worker w(&prof);  // sampled before start(): start() arms its timer from this thread
  prof.start();
  {
    INFO("start() has returned, and running() says the profiler does not run: there is nothing to watch");
    REQUIRE(prof.running());
  }
  auto const armed_at = w.cpu();
  stepper st;
  w.start([&] {
    task16::label_scope scope(busy_label);
    st.burn_while(0);
  });
  std::uint64_t before = 0;
  bool const long_enough = until_seen(w, [&] {
    before = samples_under(prof.snapshot(), busy_label);
    return w.cpu() - armed_at >= 200ms;
  });
  std::uint64_t got = 0;
  nanoseconds used{};
  bool const another = until_seen(w, [&] {
    got = samples_under(prof.snapshot(), busy_label);
    used = w.cpu() - armed_at;
    return got != before;
  });
  st.finish();
  REQUIRE(w.wait());
  auto const snap = prof.snapshot();
  prof.stop();

  double const expected = expected_samples(used, hz);
  INFO("the worker had burned " << ms_of(used) << " ms of CPU under \"" << busy_label << "\" at " << hz
                                << " Hz when a sample arrived after the first 200 ms: about " << expected
                                << " samples expected, " << got << " counted under it; the profile: " << describe(snap));
  REQUIRE(long_enough);
  REQUIRE(another);
  if (counts_are_approximate) {
    WARN("ThreadSanitizer build: it delivers signals late and merges those that arrive meanwhile, so only the "
         "upper bound of the count is checked, and that there is one");
    CHECK(got > 0);
  } else {
    CHECK(static_cast<double>(got) >= 0.7 * expected);
  }
  CHECK(static_cast<double>(got) <= 1.3 * expected);
}

TEST_CASE("only a thread that is sampled and uses the CPU gets samples", "[AC1]")
{
  // Three threads at once: a sampled one burning CPU, a sampled one
  // waiting (no CPU), and one not sampled burning CPU, until the busy one
  // has 20 samples. A process-wide timer (setitimer, or a timer on the
  // process's CPU clock) would hand the busy threads' samples to whichever
  // thread it interrupts.
  constexpr unsigned hz = 1000;
  task16::profiler prof({hz});
  worker busy(&prof), idle(&prof), unsampled(nullptr);
  prof.start();
  {
    INFO("start() has returned, and running() says the profiler does not run: there is nothing to watch");
    REQUIRE(prof.running());
  }

  std::promise<void> release;
  auto released = release.get_future().share();
  idle.start([released] {
    task16::label_scope scope(idle_label);
    released.wait();
  });
  stepper st;
  busy.start([&] {
    task16::label_scope scope(busy_label);
    st.burn_while(0);
  });
  unsampled.start([&] {
    task16::label_scope scope(unsampled_label);
    st.burn_while(0);
  });
  bool const sampled = until_seen(busy, [&] { return samples_under(prof.snapshot(), busy_label) >= 20; });
  st.finish();
  bool const finished = busy.wait() && unsampled.wait();
  auto const snap = prof.snapshot();
  release.set_value();
  REQUIRE(idle.wait());
  prof.stop();
  REQUIRE(finished);

  INFO("the sampled busy thread burned " << ms_of(busy.cpu()) << " ms of CPU, the unsampled one "
                                         << ms_of(unsampled.cpu()) << " ms, while the sampled idle one waited; the profile: "
                                         << describe(snap));
  CHECK(sampled);
  CHECK(samples_under(snap, unsampled_label) == 0);
  CHECK(samples_under(snap, idle_label) <= 4);
}

TEST_CASE("each sampled thread has one SIGPROF timer, on its own CPU clock, aimed at it", "[AC1]")
{
  REQUIRE(sigprof_timers().empty());
  task16::profiler prof({1000});
  worker a(&prof), b(&prof);
  prof.start();
  {
    INFO("start() has returned, and running() says the profiler does not run: there is nothing to watch");
    REQUIRE(prof.running());
  }
  std::set<pid_t> expected{a.tid(), b.tid()};
  {
    worker c(&prof);  // sampled while the profiler runs
    expected.insert(c.tid());
    auto const timers = sigprof_timers();
    std::set<pid_t> aimed;
    for (auto const& t : timers) {
      INFO("a timer: " << t.describe());
      CHECK(t.on_a_thread_cpu_clock());
      aimed.insert(t.notified_thread());
    }
    INFO("the sampled threads are " << a.tid() << ", " << b.tid() << " and " << c.tid() << "; /proc/self/timers lists "
                                    << timers.size() << " SIGPROF timer(s)");
    CHECK(timers.size() == 3);
    CHECK(aimed == expected);
  }
  INFO("one sampled thread has ended");
  CHECK(sigprof_timers().size() == 2);
  prof.stop();
  INFO("after stop()");
  CHECK(sigprof_timers().empty());
  worker d(&prof);
  CHECK(sigprof_timers().empty());
}

TEST_CASE("stop puts back the SIGPROF disposition, and profilers start again", "[AC1]")
{
  sigprof_counter counter;  // the disposition start() replaces and stop() must put back
  task16::profiler prof({1000});
  worker w(&prof);

  prof.start();
  REQUIRE(prof.running());
  CHECK(someone_else_handles_sigprof());
  {
    stepper st;
    w.start([&] { st.burn_while(0); });
    bool const sampled = until_seen(w, [&] { return prof.snapshot().samples() > 0; });
    st.finish();
    REQUIRE(w.wait());
    INFO("the sampled thread burned CPU after start()");
    CHECK(sampled);
  }

  prof.stop();
  CHECK_FALSE(prof.running());
  {
    INFO("after stop(), SIGPROF's disposition is not the one start() found");
    CHECK(sigprof_counter::installed());
  }
  auto const frozen = prof.snapshot().samples();
  REQUIRE(w.run([] { burn(60ms); }));
  {
    INFO("the sampled thread burned 60 ms of CPU after stop(): " << sigprof_counter::received()
                                                                 << " SIGPROF(s) reached the test's handler");
    CHECK(sigprof_counter::received() == 0);
    CHECK(prof.snapshot().samples() == frozen);
  }

  // The same profiler again.
  prof.start();
  {
    stepper st;
    w.start([&] {
      task16::label_scope scope(again_label);
      st.burn_while(0);
    });
    bool const sampled = until_seen(w, [&] { return samples_under(prof.snapshot(), again_label) > 0; });
    st.finish();
    REQUIRE(w.wait());
    INFO("the sampled thread burned CPU after start() again");
    CHECK(sampled);
  }

  // One at a time.
  task16::profiler other({1000});
  CHECK_THROWS_AS(other.start(), std::logic_error);
  prof.stop();
  CHECK(sigprof_counter::installed());
  other.start();
  CHECK(other.running());
  CHECK_THROWS_AS(prof.start(), std::logic_error);
  other.stop();
  CHECK(sigprof_counter::installed());
  CHECK(sigprof_counter::received() == 0);
}
