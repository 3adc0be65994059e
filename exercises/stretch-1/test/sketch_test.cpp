// Stretch 1 · acceptance tests for the latency sketch [AC3]: on uniform,
// bimodal, log-uniform (1 µs to 1 h, from a fixed-seed std::mt19937_64) and
// constant data, each fed forwards and reversed, quantile(q) is within 1 %
// of the exact nearest-rank value the test computes from the sorted
// samples; count and sum are exact; an empty sketch answers 0; values out
// of range are placed at its ends; a million samples grow the heap by less
// than 64 KiB (workbook/heap.hpp); eight threads recording at once lose
// nothing; and through the transport the summary's quantile lines are what
// a sketch fed the same scripted latencies answers.
#include "fixtures.hpp"

#include <workbook/heap.hpp>

#include <catch2/catch.hpp>

#include <random>

using namespace stretch1_test;

namespace {

using dataset = std::vector<nanoseconds>;

dataset uniform()
{
  dataset d;
  for (int ms = 1; ms <= 10000; ++ms) d.push_back(milliseconds(ms));
  return d;
}

dataset bimodal()
{
  dataset d;
  for (int i = 0; i < 10000; ++i) d.push_back(i % 10 == 9 ? milliseconds(800) : milliseconds(2));
  return d;
}

// Log-uniform between 1 µs and 1 h: exp of a uniform draw between their
// logarithms, the draw being the top 53 bits of a std::mt19937_64.
dataset log_uniform(std::size_t n, std::uint64_t seed = 20261130)
{
  std::mt19937_64 engine(seed);
  double const lo = std::log(1e3), hi = std::log(3.6e12);
  dataset d;
  d.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    double const u = static_cast<double>(engine() >> 11) * 0x1.0p-53;
    auto const ns = std::llround(std::exp(lo + u * (hi - lo)));
    d.push_back(nanoseconds(std::clamp<long long>(ns, 1000, 3'600'000'000'000)));
  }
  return d;
}

dataset constant() { return dataset(1000, milliseconds(7)); }

nanoseconds total(dataset const& d)
{
  nanoseconds s{0};
  for (auto x : d) s += x;
  return s;
}

// The sample at rank ceil(q × n), counted from 1, in sorted order.
nanoseconds nearest_rank(dataset sorted, double q)
{
  std::sort(sorted.begin(), sorted.end());
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

bool within_one_percent(nanoseconds got, nanoseconds exact)
{
  return std::abs(static_cast<double>(got.count() - exact.count())) <= 0.01 * static_cast<double>(exact.count());
}

std::string ns_text(nanoseconds d)
{
  std::ostringstream out;
  out << d.count() << " ns";
  if (d >= 1ms) out << " (" << static_cast<double>(d.count()) / 1e6 << " ms)";
  return out.str();
}

void check_sketch(std::string const& name, dataset const& samples, std::vector<double> const& qs)
{
  stretch1::latency_sketch sketch;
  for (auto d : samples) sketch.record(d);
  INFO(name << ": " << samples.size() << " samples, " << ns_text(total(samples)) << " in all");
  CHECK(sketch.count() == samples.size());
  CHECK(sketch.sum() == total(samples));
  for (double q : qs) {
    auto const exact = nearest_rank(samples, q);
    auto const got = sketch.quantile(q);
    INFO("quantile(" << q << "): the nearest-rank value is " << ns_text(exact) << "; the sketch answers "
                     << ns_text(got) << ", off by "
                     << 100.0 * std::abs(static_cast<double>(got.count() - exact.count())) /
                            static_cast<double>(exact.count())
                     << " %");
    CHECK(within_one_percent(got, exact));
  }
}

} // namespace

TEST_CASE("the sketch is within one percent of the nearest rank on uniform, bimodal and log-uniform data, in either order",
          "[AC3]")
{
  std::vector<double> const qs{0.01, 0.5, 0.95, 0.99, 1.0};
  std::vector<std::pair<std::string, dataset>> const sets{
      {"uniform 1..10000 ms", uniform()},
      {"bimodal, 90 % at 2 ms and 10 % at 800 ms", bimodal()},
      {"log-uniform 1 us..1 h", log_uniform(20000)},
      {"constant 7 ms", constant()},
  };
  for (auto const& [name, d] : sets) {
    check_sketch(name + ", in the order made", d, qs);
    dataset reversed(d.rbegin(), d.rend());
    check_sketch(name + ", reversed", reversed, qs);
  }
}

TEST_CASE("a single sample, values out of range and an empty sketch are answered as the contract says", "[AC3]")
{
  stretch1::latency_sketch empty;
  CHECK(empty.count() == 0);
  CHECK(empty.sum() == 0ns);
  CHECK(empty.quantile(0.5) == 0ns);
  CHECK(empty.quantile(1.0) == 0ns);

  check_sketch("one sample of 42 ms", {milliseconds(42)}, {0.01, 0.5, 1.0});

  // 0 and 500 ns are placed as 1 µs, 2 h as 1 h; count and sum keep them as given.
  stretch1::latency_sketch out_of_range;
  for (auto d : {nanoseconds(0), nanoseconds(500), nanoseconds(std::chrono::hours(2))}) out_of_range.record(d);
  INFO("recorded 0 ns, 500 ns and 2 h");
  CHECK(out_of_range.count() == 3);
  CHECK(out_of_range.sum() == nanoseconds(500) + std::chrono::hours(2));
  auto const low = out_of_range.quantile(0.5), high = out_of_range.quantile(1.0);
  INFO("quantile(0.5) is " << ns_text(low) << " (1 us expected), quantile(1) is " << ns_text(high) << " (1 h expected)");
  CHECK(within_one_percent(low, std::chrono::microseconds(1)));
  CHECK(within_one_percent(high, std::chrono::hours(1)));
}

TEST_CASE("a million samples do not grow the sketch's memory", "[AC3]")
{
  auto const samples = log_uniform(1'000'000, 7);  // made before the measure
  stretch1::latency_sketch sketch;
  workbook::heap::reset_peak();
  auto const before = workbook::heap::live_bytes();
  for (auto d : samples) sketch.record(d);
  auto const peak = workbook::heap::peak_bytes();
  auto const grew = peak > before ? peak - before : 0;
  INFO("recording a million log-uniform samples took the heap to " << grew << " bytes above where it was ("
       << sketch.count() << " counted); a sketch keeps counts per bucket, not the samples");
  CHECK(sketch.count() == 1'000'000);
  CHECK(grew < 64 * 1024);
}

TEST_CASE("eight threads recording at once lose nothing", "[AC3]")
{
  stretch1::latency_sketch sketch;
  std::mutex m;
  std::condition_variable cv;
  bool go = false;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return go; });
      }
      for (int i = 0; i < 100000; ++i) sketch.record(std::chrono::microseconds(1 + (i + t) % 5000));
    });
  {
    std::lock_guard lock(m);
    go = true;
  }
  cv.notify_all();
  for (auto& t : threads) t.join();

  nanoseconds expected_sum{0};
  for (int t = 0; t < 8; ++t)
    for (int i = 0; i < 100000; ++i) expected_sum += std::chrono::microseconds(1 + (i + t) % 5000);
  INFO("8 threads recorded 100000 samples each: count() " << sketch.count() << ", sum() " << sketch.sum().count()
                                                          << " ns (" << expected_sum.count() << " expected)");
  CHECK(sketch.count() == 800'000);
  CHECK(sketch.sum() == expected_sum);
}

TEST_CASE("the summary's quantile lines are what a sketch fed the same latencies answers", "[AC3]")
{
  rig r;
  r.upstream.quiet(true);
  stretch1::latency_sketch expected;
  std::mt19937_64 engine(18);
  for (int i = 0; i < 200; ++i) {
    int const ms = i % 20 == 0 ? 1000 + static_cast<int>(engine() % 3000) : 1 + static_cast<int>(engine() % 200);
    auto const target = "/took/" + std::to_string(ms) + "/status/200";
    auto const a = r.call(target);
    INFO("GET " << target << " -> " << a.describe());
    REQUIRE(a.completed);
    expected.record(milliseconds(ms));
  }

  auto const m = r.metrics();
  INFO(m.describe());
  auto const l = series_of("test", "a.test");
  for (std::string q : {"0.5", "0.95", "0.99"}) {
    auto more = l;
    more["quantile"] = q;
    auto const want = seconds(expected.quantile(std::stod(q)));
    auto const got = m.value_text("http_client_request_duration_seconds", more);
    INFO("quantile " << q << ": a latency_sketch fed the 200 scripted latencies answers " << shortest(want)
                     << " s; the summary says " << (got ? *got : std::string("nothing")));
    REQUIRE(got);
    CHECK(same_number(*got, want));
  }
  CHECK(m.value("http_client_request_duration_seconds_count", l) == 200);
  auto const sum = m.value_text("http_client_request_duration_seconds_sum", l);
  REQUIRE(sum);
  CHECK(same_number(*sum, seconds(expected.sum())));
}
