// Task 16 · acceptance tests for the SIGPROF handler's safety [AC6], checked
// by what it does, not by reading it:
//   - it allocates nothing: a thread that allocates nothing itself is
//     sampled hundreds of times, and the harness's per-thread count of
//     allocations (workbook::heap::thread_allocations, which counts every
//     operator new, and under ASan/TSan every malloc) does not move; errno
//     does not move either;
//   - it takes no lock: a sampled thread reads the profile in a loop, so
//     that SIGPROF often interrupts snapshot() itself. A handler that takes
//     a lock snapshot() holds waits for itself, for ever; that thread runs
//     in a child process, which the test kills when it stops making
//     progress, and reports;
//   - it is bounded when the table is full: it drops the sample and counts
//     it, instead of looking for room for ever (a child process again).
#include "fixtures.hpp"

#include <workbook/heap.hpp>

#include <catch2/catch.hpp>

#include <cerrno>

using namespace task16_test;

namespace {

// Longer than std::string's small-string buffer (15 characters): a copy of
// it allocates.
constexpr char quiet_label[] = "test=a-thread-that-never-allocates";
constexpr char reader_label[] = "test=reading-the-profile";

} // namespace

TEST_CASE("a sampled thread that allocates nothing still allocates nothing, errno intact", "[AC6]")
{
  // The thread burns until 200 samples have been counted under its label.
  constexpr unsigned hz = 2000;
  task16::profiler prof({hz});
  worker w(&prof);
  prof.start();
  {
    INFO("start() has returned, and running() says the profiler does not run: there is nothing to watch");
    REQUIRE(prof.running());
  }
  stepper st;
  std::uint64_t allocations = 0;
  std::uint64_t errno_changed = 0;
  w.start([&] {
    task16::label_scope scope(quiet_label);
    auto const before = workbook::heap::thread_allocations();
    errno = EDOM;
    std::uint64_t x = 1;
    while (st.step.load() == 0) {
      x = task16::churn(x, 2000);
      if (errno != EDOM) {
        ++errno_changed;
        errno = EDOM;
      }
    }
    allocations = workbook::heap::thread_allocations() - before;
    sink += x;
  });
  bool const sampled = until_seen(w, [&] { return samples_under(prof.snapshot(), quiet_label) >= 200; }, 2000ms);
  st.finish();
  REQUIRE(w.wait());
  auto const snap = prof.snapshot();
  prof.stop();

  auto const samples = samples_under(snap, quiet_label);
  INFO("a thread burned " << ms_of(w.cpu()) << " ms of CPU, allocating nothing itself, under \"" << quiet_label
                          << "\" at " << hz << " Hz: " << samples << " samples counted; it made " << allocations
                          << " allocation(s) meanwhile, and errno changed under it " << errno_changed << " time(s)");
  CHECK(sampled);
  CHECK(allocations == 0);
  CHECK(errno_changed == 0);
}

TEST_CASE("a sampled thread reading the profile in a loop is never stuck", "[AC6]")
{
  // The child reads the profile until it has seen 200 samples of its own
  // (at least 300 ms of CPU, at most 1.5 s).
  constexpr unsigned hz = 2000;
  auto const outcome = run_in_child([](child_report& report) {
    task16::profiler prof({hz});
    prof.start();
    if (!prof.running()) {
      report.say("start() returned, and running() says the profiler does not run");
      return 4;
    }
    task16::sampled_thread sampled(prof);
    task16::label_scope scope(reader_label);
    auto const start = thread_cpu();
    std::uint64_t snapshots = 0;
    std::uint64_t samples = 0;
    for (;;) {
      auto const snap = prof.snapshot();
      samples = samples_under(snap, reader_label);
      ++snapshots;
      report.progress.fetch_add(1);
      auto const used = thread_cpu() - start;
      if ((used >= 300ms && samples >= 200) || used >= 1500ms) break;
    }
    report.values[0] = samples;
    report.values[1] = snapshots;
    report.values[2] = static_cast<std::uint64_t>((thread_cpu() - start).count());
    return 0;
  });
  INFO(describe(outcome) << "; it took " << outcome.values[1] << " snapshots in "
                         << ms_of(nanoseconds(outcome.values[2])) << " ms of CPU and counted " << outcome.values[0]
                         << " samples under \"" << reader_label << "\"");
  REQUIRE_FALSE(outcome.stuck);
  CHECK(outcome.exited);
  CHECK(outcome.exit_code == 0);
  CHECK(outcome.values[0] >= 200);
}

TEST_CASE("a full table drops samples and counts them, and the handler never spins", "[AC6]")
{
  // 8 labels, each burned until a sample of it has been counted or
  // dropped, into a table of 4 entries.
  constexpr unsigned hz = 2000;
  constexpr std::size_t slots = 4;
  constexpr int labels = 8;
  auto const outcome = run_in_child([](child_report& report) {
    static char names[labels][24];
    for (int i = 0; i < labels; ++i) std::snprintf(names[i], sizeof names[i], "test=many-%02d", i);
    task16::profiler prof({hz, slots});
    prof.start();
    if (!prof.running()) {
      report.say("start() returned, and running() says the profiler does not run");
      return 4;
    }
    task16::sampled_thread sampled(prof);
    auto const start = thread_cpu();
    for (auto const& name : names) {
      task16::label_scope scope(name);
      auto const seen = [&] {
        auto const snap = prof.snapshot();
        return snap.samples() + snap.dropped;
      };
      auto const before = seen();
      auto const label_start = thread_cpu();
      while (seen() == before && thread_cpu() - label_start < 1s) burn(1ms);
      if (seen() == before) break;  // a second of CPU and not one sample: the rest would be the same
      report.progress.fetch_add(1);
    }
    auto const used = thread_cpu() - start;
    auto const snap = prof.snapshot();
    report.values[0] = snap.counts.size();
    report.values[1] = snap.samples();
    report.values[2] = snap.dropped;
    report.values[3] = static_cast<std::uint64_t>(used.count());
    report.values[4] = report.progress.load();
    return 0;
  });
  auto const pairs = outcome.values[0];
  auto const counted = outcome.values[1];
  auto const dropped = outcome.values[2];
  nanoseconds const used(outcome.values[3]);
  double const expected = expected_samples(used, hz);
  INFO(describe(outcome) << "; " << labels << " labels, " << ms_of(used) << " ms of CPU in all, at " << hz
                         << " Hz (about " << expected << " samples), into a table of " << slots << " entries: " << pairs
                         << " pairs, " << counted << " samples counted, " << dropped << " dropped");
  REQUIRE_FALSE(outcome.stuck);
  CHECK(outcome.exited);
  CHECK(outcome.exit_code == 0);
  INFO(outcome.values[4] << " of the " << labels << " labels got a sample (counted or dropped) within a second of CPU");
  CHECK(outcome.values[4] == labels);
  CHECK(pairs <= slots);
  CHECK(dropped > 0);
  if (counts_are_approximate) {
    WARN("ThreadSanitizer build: it merges signals that arrive close together, so only the upper bound of "
         "counted + dropped is checked");
  } else {
    CHECK(static_cast<double>(counted + dropped) >= 0.7 * expected);
  }
  CHECK(static_cast<double>(counted + dropped) <= 1.3 * expected + 5);
}
