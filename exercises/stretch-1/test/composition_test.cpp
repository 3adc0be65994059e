// Stretch 1 · acceptance tests for composing the breaker (task 18) and the
// retrier (task 19) through options.breaker and options.retry [AC8]: the
// layers are call → breaker → retrier → attempt, so 500, 500, 200 is one
// call of three attempts (three counted attempts, two retries, three
// attempt spans under one call span, one log line), five calls that fail
// every attempt open the breaker (threshold 5) and the sixth is refused
// without reaching the upstream and without a retry, seen in the metrics,
// the call span and the log line; the caller's own on_retry and
// on_state_change are still called; and the retry and breaker families
// are written as soon as their options are set. Retries sleep 0.5 ms and
// 1 ms (base 1 ms, cap 2 ms, a random source that always says 0.5).
#include "fixtures.hpp"

#include <catch2/catch.hpp>

using namespace stretch1_test;

namespace {

struct hooks {
  std::shared_ptr<std::atomic<int>> retries = std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<line_sink> transitions = std::make_shared<line_sink>();
};

// options.retry and options.breaker as these tests set them; with `h`, the
// caller's own hooks.
std::function<void(stretch1::observe_options&)> composed(std::optional<hooks> h = std::nullopt)
{
  return [h](stretch1::observe_options& o) {
    task19::retry_options retry;
    retry.max_attempts = 3;
    retry.base = 1ms;
    retry.cap = 2ms;
    retry.random = [] { return 0.5; };
    task18::breaker_options breaker;
    breaker.failure_threshold = 5;
    breaker.reset_period = 30s;
    breaker.clock = o.clock;  // the rig's manual clock: the breaker stays open
    if (h) {
      retry.on_retry = [n = h->retries](task19::retry_event const&) { n->fetch_add(1); };
      breaker.on_state_change = [log = h->transitions->sink()](task18::breaker_state from, task18::breaker_state to) {
        log(std::string(task18::to_string(from)) + "->" + task18::to_string(to));
      };
    }
    o.retry = retry;
    o.breaker = breaker;
  };
}

labels client_only() { return {{"client", "test"}}; }
labels breaker_state(std::string const& s) { return {{"client", "test"}, {"state", s}}; }

std::string seen_text(std::vector<fake_upstream::seen> const& all)
{
  std::string out;
  for (auto const& s : all) {
    out += s.method + " " + s.target;
    for (auto const& t : s.traceparents) out += " traceparent: " + t;
    out += "\n";
  }
  return out.empty() ? "(nothing)\n" : out;
}

} // namespace

TEST_CASE("a call rescued by the retrier is one call of three attempts", "[AC8]")
{
  rig r(composed());
  auto const a = r.call("/seq/500,500,200");
  auto const m = r.metrics();
  auto const seen = r.upstream.requests();
  INFO("GET /seq/500,500,200 (the upstream answers 500, 500, then 200) -> "
       << a.describe() << "\nthe upstream received:\n"
       << seen_text(seen) << "spans:\n"
       << r.spans.text() << "log lines:\n"
       << r.lines.text() << m.describe());
  REQUIRE(a.completed);
  CHECK(a.status == 200);
  CHECK(r.upstream.calls() == 3);

  CHECK(m.value("http_client_requests_total", request_labels("test", "a.test", "GET", "500")) == 2);
  CHECK(m.value("http_client_requests_total", request_labels("test", "a.test", "GET", "200")) == 1);
  CHECK(m.value("http_client_request_duration_seconds_count", series_of("test", "a.test")) == 3);
  CHECK(m.value("http_client_retries_total", client_only()) == 2);
  CHECK(m.value("http_client_breaker_state", breaker_state("closed")) == 1);

  auto const calls = r.spans.calls();
  auto const attempts = r.spans.attempts();
  REQUIRE(calls.size() == 1);
  REQUIRE(attempts.size() == 3);
  CHECK(calls[0].attempts == 3);
  CHECK(calls[0].status == 200);
  std::set<std::string> ids;
  std::multiset<int> resends;
  for (auto const& s : attempts) {
    CHECK(s.trace_id == calls[0].trace_id);
    CHECK(s.parent_span_id == calls[0].span_id);
    ids.insert(s.span_id);
    resends.insert(s.resend_count);
  }
  CHECK(ids.size() == 3);
  CHECK(resends == std::multiset<int>{0, 1, 2});

  // On the wire: one trace, a parent id of its own for each attempt.
  REQUIRE(seen.size() == 3);
  std::set<std::string> parents;
  for (auto const& s : seen) {
    REQUIRE(s.traceparents.size() == 1);
    auto const tp = read_traceparent(s.traceparents[0]);
    REQUIRE(tp);
    CHECK(tp->trace_id == calls[0].trace_id);
    parents.insert(tp->parent_id);
  }
  CHECK(parents == ids);

  auto const lines = call_lines(r.lines.lines());
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["attempts"] == 3);
  CHECK(lines[0].value("outcome", "") == "response");
  CHECK(lines[0]["status"] == 200);
}

TEST_CASE("failed calls open the breaker, and its refusal is neither sent nor retried", "[AC8]")
{
  rig r(composed());
  for (int i = 1; i <= 5; ++i) {
    auto const a = r.call("/status/503");
    INFO("call " << i << ": GET /status/503, three attempts each -> " << a.describe() << "; the upstream has received "
                 << r.upstream.calls() << " requests");
    REQUIRE(a.completed);
    CHECK_FALSE(a.ec);
    CHECK(a.status == 503);
  }
  CHECK(r.upstream.calls() == 15);
  auto const retries_before = r.metrics().value("http_client_retries_total", client_only());

  auto const a = r.call("/status/503");
  auto const m = r.metrics();
  INFO("call 6: GET /status/503 -> " << a.describe() << "\nthe upstream has received " << r.upstream.calls()
                                     << " requests\nspans:\n"
                                     << r.spans.text() << "log lines:\n"
                                     << r.lines.text() << m.describe());
  REQUIRE(a.completed);
  CHECK(a.ec == task18::breaker_errc::open);
  CHECK(r.upstream.calls() == 15);

  CHECK(retries_before == 10);
  CHECK(m.value("http_client_retries_total", client_only()) == 10);
  CHECK(m.value("http_client_breaker_refusals_total", client_only()) == 1);
  CHECK(m.value("http_client_breaker_state", breaker_state("open")) == 1);
  CHECK(m.value("http_client_breaker_state", breaker_state("closed")) == 0);
  CHECK(m.value("http_client_breaker_state", breaker_state("half_open")) == 0);
  CHECK(m.value("http_client_requests_total", request_labels("test", "a.test", "GET", "503")) == 15);
  CHECK(m.series("http_client_requests_total").size() == 1);

  // The refused call: a call span with no attempt, a log line at warn.
  std::vector<span_record> refused;
  for (auto const& s : r.spans.calls())
    if (s.error_type == "breaker_open") refused.push_back(s);
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].attempts == 0);
  CHECK(refused[0].status == 0);
  for (auto const& s : r.spans.attempts()) CHECK(s.trace_id != refused[0].trace_id);
  CHECK(r.spans.calls().size() == 6);
  CHECK(r.spans.attempts().size() == 15);

  auto const lines = call_lines(r.lines.lines());
  REQUIRE(lines.size() == 6);
  int refusals = 0;
  for (auto const& j : lines) {
    if (j.value("outcome", "") != "refused") continue;
    ++refusals;
    CHECK(j.value("level", "") == "warn");
    CHECK(j["attempts"] == 0);
    CHECK_FALSE(j.contains("status"));
    CHECK(j.value("error", "") == a.ec.message());
    CHECK(j.value("trace_id", "") == refused[0].trace_id);
  }
  CHECK(refusals == 1);
}

TEST_CASE("the caller's own on_retry and on_state_change are still called", "[AC8]")
{
  hooks h;
  rig r(composed(h));
  REQUIRE(r.call("/seq/500,500,200").completed);
  CHECK(h.retries->load() == 2);
  for (int i = 0; i < 5; ++i) REQUIRE(r.call("/status/503").completed);
  auto const m = r.metrics();
  INFO("the caller's on_retry was called " << h.retries->load() << " times; its on_state_change saw:\n"
                                           << h.transitions->text() << m.describe());
  CHECK(h.retries->load() == 12);
  CHECK(m.value("http_client_retries_total", client_only()) == 12);
  CHECK(h.transitions->lines() == std::vector<std::string>{"closed->open"});
  CHECK(m.value("http_client_breaker_state", breaker_state("open")) == 1);
}

TEST_CASE("the retry and breaker families are written as soon as their options are set", "[AC8]")
{
  rig without;
  REQUIRE(without.call("/status/200").completed);
  auto const plain = without.metrics();
  {
    INFO("without options.retry and options.breaker:\n" << plain.describe());
    CHECK(plain.find("http_client_requests_total"));
    CHECK_FALSE(plain.find("http_client_retries_total"));
    CHECK_FALSE(plain.find("http_client_breaker_refusals_total"));
    CHECK_FALSE(plain.find("http_client_breaker_state"));
  }

  rig with(composed());
  REQUIRE(with.call("/status/200").completed);
  auto const m = with.metrics();
  INFO("with both, after one call answered 200 at once:\n" << m.describe());
  CHECK(m.problems().empty());
  for (auto name : {"http_client_retries_total", "http_client_breaker_refusals_total", "http_client_breaker_state"}) {
    INFO("family " << name);
    REQUIRE(m.find(name));
    CHECK(m.find(name)->type == contract_types.at(name));
  }
  CHECK(m.value("http_client_retries_total", client_only()) == 0);
  CHECK(m.value("http_client_breaker_refusals_total", client_only()) == 0);
  CHECK(m.value("http_client_breaker_state", breaker_state("closed")) == 1);
  CHECK(m.value("http_client_breaker_state", breaker_state("open")) == 0);
  CHECK(m.value("http_client_breaker_state", breaker_state("half_open")) == 0);
}
