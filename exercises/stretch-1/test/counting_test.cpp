// Stretch 1 · acceptance tests for exact counts [AC2]: a scripted workload
// over two hosts and requests without a Host field (answers 200, 201, 404,
// 503 and 520, refused connections, cancelled calls) gives exactly the
// scripted http_client_requests_total series and nothing else, and the
// duration summary's _count and _sum come out of latencies scripted on a
// manual clock (the fake upstream moves it); a handler reading the metrics
// already sees its own call; calls from eight threads at once are all
// counted; the in-flight gauge follows calls that end by an answer, an
// error and a cancellation.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

using namespace stretch1_test;

namespace {

struct step {
  std::string host;
  http::verb method;
  std::string target;
  int times;
  std::string status;  // the label expected
  int ms;              // the latency scripted (cancelled calls: none)
};

std::string label_of(http::verb v) { return std::string(http::to_string(v)); }

} // namespace

TEST_CASE("a scripted workload over two hosts gives exactly the scripted counts", "[AC2]")
{
  rig r([](stretch1::observe_options& o) { o.client = "shop"; });
  std::vector<step> const workload{
      {"a.test", http::verb::get, "/took/3/status/200", 37, "200", 3},
      {"b.test", http::verb::get, "/took/12/status/200", 20, "200", 12},
      {"a.test", http::verb::put, "/took/7/status/201", 5, "201", 7},
      {"b.test", http::verb::get, "/status/520", 6, "520", 0},
      {"a.test", http::verb::get, "/status/404", 9, "404", 0},
      {"b.test", http::verb::delete_, "/took/40/refused", 2, "error", 40},
      {"a.test", http::verb::get, "/took/250/status/503", 11, "503", 250},
      {"b.test", http::verb::get, "/took/1/status/503", 3, "503", 1},
      {"a.test", http::verb::get, "/hold", 2, "cancelled", 0},
      {"b.test", http::verb::put, "/hold", 1, "cancelled", 0},
      {"", http::verb::get, "/took/2/status/200", 4, "200", 2},  // no Host field: host ""
  };

  std::map<labels, int> expected;
  std::map<std::string, int> count;
  std::map<std::string, long long> sum_ms;
  for (auto const& s : workload) {
    for (int i = 0; i < s.times; ++i) {
      auto request = make_request(s.method, s.target, s.host);
      auto const a = s.status == "cancelled" ? r.cancelled(std::move(request)) : r.call(std::move(request));
      INFO(label_of(s.method) << " " << s.target << (s.host.empty() ? " without a Host field" : " Host: " + s.host)
                              << " -> " << a.describe());
      REQUIRE(a.completed);
      if (s.status == "cancelled") REQUIRE(a.ec == asio::error::operation_aborted);
    }
    expected[request_labels("shop", s.host, label_of(s.method), s.status)] += s.times;
    if (s.status != "cancelled") {
      count[s.host] += s.times;
      sum_ms[s.host] += static_cast<long long>(s.times) * s.ms;
    }
  }

  auto const m = r.metrics();
  std::string script;
  for (auto const& [l, n] : expected) script += "  " + describe(l) + " " + std::to_string(n) + "\n";
  INFO(m.describe() << "the script expects http_client_requests_total:\n" << script);
  CHECK(m.problems().empty());
  for (auto const& [l, n] : expected) {
    INFO("http_client_requests_total" << describe(l));
    CHECK(m.value("http_client_requests_total", l) == n);
  }
  CHECK(m.series("http_client_requests_total").size() == expected.size());

  for (auto const& host : {std::string("a.test"), std::string("b.test"), std::string()}) {
    auto const l = series_of("shop", host);
    auto const expected_sum = seconds(milliseconds(sum_ms[host]));
    auto const sum = m.value_text("http_client_request_duration_seconds_sum", l);
    INFO("host " << host << ": " << count[host] << " attempts that ended with an answer or an error, "
                 << sum_ms[host] << " ms on the manual clock in all: _sum should read " << shortest(expected_sum));
    CHECK(m.value("http_client_request_duration_seconds_count", l) == count[host]);
    REQUIRE(sum);
    CHECK(same_number(*sum, expected_sum));
    CHECK(m.value("http_client_requests_in_flight", l) == 0);
  }
}

TEST_CASE("a handler that reads the metrics already sees its own call", "[AC2]")
{
  rig r;
  for (int i = 1; i <= 10; ++i) {
    auto const status = i % 2 ? 200 : 503;
    auto const target = "/status/" + std::to_string(status);
    // The hook runs on the rig's threads, which the rig joins before any of it goes.
    auto read = std::make_shared<std::string>();
    auto a = r.start(get(target), [&r, read] { *read = r.text(); }).wait();
    REQUIRE(a.completed);
    auto const seen = exposition::parse(*read);
    auto const expected = (i + 1 - (status == 200 ? 0 : 1)) / 2;  // calls so far with this status
    INFO("call " << i << ": GET " << target << " -> " << a.describe()
                 << "\nwhat its handler read from exposition():\n"
                 << seen.describe() << "it should count " << expected << " answers of " << status
                 << " and nothing in flight");
    CHECK(seen.value("http_client_requests_total", request_labels("test", "a.test", "GET", std::to_string(status))) ==
          expected);
    CHECK(seen.value("http_client_requests_in_flight", series_of("test", "a.test")) == 0);
    CHECK(seen.value("http_client_request_duration_seconds_count", series_of("test", "a.test")) == i);
  }
}

TEST_CASE("eight threads making calls at once are all counted", "[AC2]")
{
  rig r;
  r.upstream.quiet(true);
  auto t = std::make_shared<tally>();
  call_from_threads(*r.transport, [] { return get("/status/200"); }, 8, 500, t);
  bool const all = workbook::eventually([&] { return t->completed() + t->dropped == 4000; }, 10s);
  INFO("8 threads x 500 calls: " << t->describe());
  REQUIRE(all);
  REQUIRE(t->answered == 4000);
  auto const m = r.metrics();
  INFO(m.describe());
  CHECK(m.value("http_client_requests_total", request_labels("test", "a.test", "GET", "200")) == 4000);
  CHECK(m.value("http_client_request_duration_seconds_count", series_of("test", "a.test")) == 4000);
  CHECK(m.value("http_client_requests_in_flight", series_of("test", "a.test")) == 0);
}

TEST_CASE("the in-flight gauge follows calls that end by an answer, an error and a cancellation", "[AC2]")
{
  rig r;
  auto const gauge = series_of("test", "a.test");
  auto answered = r.start(get("/hold/answered"));
  auto failed = r.start(get("/hold/failed"));
  auto cancelled = r.start(get("/hold/cancelled"));
  REQUIRE(r.until_held(3));
  bool const three = workbook::eventually([&] { return r.metrics().value("http_client_requests_in_flight", gauge) == 3; }, 1s);
  {
    INFO("three calls held by the upstream:\n" << r.metrics().describe());
    CHECK(three);
  }

  r.upstream.release("/hold/answered", 200);
  auto const a = answered.wait();
  {
    INFO("one held call answered 200: " << a.describe() << "\n" << r.metrics().describe());
    REQUIRE(a.completed);
    CHECK(r.metrics().value("http_client_requests_in_flight", gauge) == 2);
  }

  r.upstream.fail("/hold/failed", asio::error::connection_reset);
  auto const b = failed.wait();
  {
    INFO("one held call failed with connection_reset: " << b.describe() << "\n" << r.metrics().describe());
    REQUIRE(b.completed);
    CHECK(b.ec == asio::error::connection_reset);
    CHECK(r.metrics().value("http_client_requests_in_flight", gauge) == 1);
  }

  cancelled.cancel();
  auto const c = cancelled.wait();
  auto const m = r.metrics();
  INFO("the last one cancelled by its caller: " << c.describe() << "\n" << m.describe());
  REQUIRE(c.completed);
  CHECK(c.ec == asio::error::operation_aborted);
  CHECK(m.value("http_client_requests_in_flight", gauge) == 0);
  CHECK(m.value("http_client_requests_total", request_labels("test", "a.test", "GET", "200")) == 1);
  CHECK(m.value("http_client_requests_total", request_labels("test", "a.test", "GET", "error")) == 1);
  CHECK(m.value("http_client_requests_total", request_labels("test", "a.test", "GET", "cancelled")) == 1);
  CHECK(m.value("http_client_request_duration_seconds_count", gauge) == 2);
}
