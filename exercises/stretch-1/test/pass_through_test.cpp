// Stretch 1 · acceptance tests for the one-line change [AC1]: a service
// written against plain_transport gets the same answers when its transport
// type becomes observed_transport, against a real upstream; with default
// options it gains metrics, a traceparent on the wire and JSON lines on
// std::clog (captured for the test); the caller's handler runs on its own
// executor, after the call's log line and spans are written; and a
// cancelled call ends at once with nothing left in flight.
#include "fixtures.hpp"

#include <workbook/ports.hpp>
#include <workbook/test_server.hpp>
#include <workbook/upstreams.hpp>

#include <catch2/catch.hpp>

#include <type_traits>

using namespace stretch1_test;

namespace {

// A real upstream that echoes what it read: method, target, the fields (but
// traceparent and tracestate, which are the observer's to add) and the
// body. /status/N answers N, a POST 201, anything else 200. It keeps every
// request it read.
class echo_upstream {
public:
  echo_upstream()
      : seen_(std::make_shared<record>()), server_(workbook::test_server::serving([s = seen_](workbook::request const& r) {
          {
            std::lock_guard lock(s->mutex);
            s->requests.push_back(r);
          }
          int status = r.method == "POST" ? 201 : 200;
          if (r.target.rfind("/status/", 0) == 0) status = std::stoi(r.target.substr(8));
          std::vector<std::string> fields;
          for (auto const& [k, v] : r.headers)
            if (!workbook::iequals(k, "traceparent") && !workbook::iequals(k, "tracestate")) fields.push_back(k + ": " + v);
          std::sort(fields.begin(), fields.end());
          std::string body = r.method + " " + r.target + "\n";
          for (auto const& f : fields) body += f + "\n";
          body += "\n" + r.body;
          return workbook::response{status, "", {{"X-Echo", "yes"}, {"Content-Type", "text/plain"}}, body, ""};
        }))
  {
  }
  unsigned short port() const { return server_.port(); }
  std::vector<workbook::request> requests() const
  {
    std::lock_guard lock(seen_->mutex);
    return seen_->requests;
  }

private:
  struct record {
    std::mutex mutex;
    std::vector<workbook::request> requests;
  };
  std::shared_ptr<record> seen_;
  workbook::test_server server_;
};

std::vector<std::string> traceparents_of(workbook::request const& r)
{
  std::vector<std::string> out;
  for (auto const& [k, v] : r.headers)
    if (workbook::iequals(k, "traceparent")) out.push_back(v);
  return out;
}

} // namespace

TEST_CASE("the observed transport answers exactly as the plain transport it replaces", "[AC1]")
{
  // The one-line change is possible: the same constructor parameters, the same base.
  static_assert(std::is_base_of_v<workbook::round_tripper, stretch1::observed_transport>);
  static_assert(std::is_constructible_v<stretch1::observed_transport, asio::any_io_executor, asio::ip::tcp::endpoint>);
  static_assert(
      std::is_constructible_v<stretch1::observed_transport, asio::any_io_executor, workbook::round_tripper&>);

  clog_capture clog;  // the default options log to std::clog
  echo_upstream upstream;
  workbook::refusing_port refusing;
  asio::io_context ioc;
  legacy_service<workbook::plain_transport> plain(ioc.get_executor(), local(upstream.port()));
  legacy_service<stretch1::observed_transport> observed(ioc.get_executor(), local(upstream.port()));
  workbook::io_threads threads(ioc, 2);

  // Each request once through each service, plain first: the upstream's
  // requests alternate, plain's at even positions.
  std::vector<std::pair<std::string, std::function<service_result(bool)>>> calls{
      {"POST /orders with X-Order: 7 and a JSON body",
       [&](bool obs) { return obs ? observed.create("/orders", "7", R"({"tea":2})") : plain.create("/orders", "7", R"({"tea":2})"); }},
      {"GET /status/201", [&](bool obs) { return obs ? observed.fetch("/status/201") : plain.fetch("/status/201"); }},
      {"GET /status/503", [&](bool obs) { return obs ? observed.fetch("/status/503") : plain.fetch("/status/503"); }},
      {"GET /status/404", [&](bool obs) { return obs ? observed.fetch("/status/404") : plain.fetch("/status/404"); }},
  };
  int const expected_status[] = {201, 201, 503, 404};
  for (std::size_t i = 0; i < calls.size(); ++i) {
    auto const p = calls[i].second(false);
    auto const o = calls[i].second(true);
    INFO(calls[i].first << "\nthrough plain_transport:    " << p.describe() << "\nthrough observed_transport: "
                        << o.describe());
    REQUIRE(p.completed);
    CHECK(p.status == expected_status[i]);
    CHECK(o.describe() == p.describe());
  }

  // What the upstream read: the observed requests carry one traceparent each.
  auto const seen = upstream.requests();
  REQUIRE(seen.size() == 2 * calls.size());
  for (std::size_t i = 0; i < seen.size(); ++i) {
    auto const tps = traceparents_of(seen[i]);
    std::string shown;
    for (auto const& t : tps) shown += " \"" + printable(t) + "\"";
    INFO("request " << i + 1 << " the upstream read (" << (i % 2 ? "observed" : "plain") << "): " << seen[i].method
                    << " " << seen[i].target << ", traceparent fields:" << (shown.empty() ? " none" : shown));
    if (i % 2 == 0) {
      CHECK(tps.empty());
    } else {
      REQUIRE(tps.size() == 1);
      CHECK(read_traceparent(tps[0]).has_value());
    }
  }

  // A refused connection is the same error through both.
  legacy_service<workbook::plain_transport> plain_nowhere(ioc.get_executor(), local(refusing.port()));
  legacy_service<stretch1::observed_transport> observed_nowhere(ioc.get_executor(), local(refusing.port()));
  auto const p = plain_nowhere.fetch("/");
  auto const o = observed_nowhere.fetch("/");
  INFO("GET / to a port that refuses connections\nthrough plain_transport:    "
       << p.describe() << "\nthrough observed_transport: " << o.describe());
  REQUIRE(o.completed);
  CHECK(p.ec == asio::error::connection_refused);
  CHECK(o.ec == asio::error::connection_refused);
  threads.stop();
}

TEST_CASE("with default options the replaced transport gains metrics, traces and logs", "[AC1]")
{
  clog_capture clog;
  echo_upstream upstream;
  workbook::refusing_port refusing;
  asio::io_context ioc;
  legacy_service<stretch1::observed_transport> observed(ioc.get_executor(), local(upstream.port()));
  legacy_service<stretch1::observed_transport> nowhere(ioc.get_executor(), local(refusing.port()));
  workbook::io_threads threads(ioc, 2);

  std::vector<service_result> results;
  results.push_back(observed.create("/orders", "7", R"({"tea":2})"));
  for (auto target : {"/status/201", "/status/503", "/status/404"}) results.push_back(observed.fetch(target));
  results.push_back(nowhere.fetch("/"));
  std::string answers;
  for (auto const& r : results) answers += r.describe() + "\n";
  INFO("what the five calls came back with:\n" << answers);
  for (auto const& r : results) REQUIRE(r.completed);

  // Metrics: one series per status, under client "default" and the Host sent.
  auto const m = exposition::parse(observed.transport().metrics().exposition());
  INFO(m.describe());
  CHECK(m.problems().empty());
  auto const host = observed.host();
  CHECK(m.value("http_client_requests_total", request_labels("default", host, "POST", "201")) == 1);
  for (auto status : {"201", "503", "404"})
    CHECK(m.value("http_client_requests_total", request_labels("default", host, "GET", status)) == 1);
  CHECK(m.value("http_client_request_duration_seconds_count", series_of("default", host)) == 4);
  auto const n = exposition::parse(nowhere.transport().metrics().exposition());
  INFO("the transport whose upstream refused the connection:\n" << n.describe());
  CHECK(n.value("http_client_requests_total", request_labels("default", nowhere.host(), "GET", "error")) == 1);

  // Traces: every request the upstream read has one valid traceparent, each a trace of its own.
  std::set<std::string> trace_ids;
  for (auto const& r : upstream.requests()) {
    auto const tps = traceparents_of(r);
    INFO("the upstream read " << r.method << " " << r.target << " with " << tps.size() << " traceparent field(s)"
                              << (tps.empty() ? "" : ": \"" + printable(tps[0]) + "\""));
    REQUIRE(tps.size() == 1);
    auto const tp = read_traceparent(tps[0]);
    REQUIRE(tp);
    CHECK(tp->flags == "01");
    trace_ids.insert(tp->trace_id);
  }
  CHECK(trace_ids.size() == 4);

  // Logs: each call a log line and two spans, each line a JSON object, on std::clog.
  bool const all = workbook::eventually([&] { return clog.lines().size() >= 15; }, 1s);
  auto const lines = clog.lines();
  std::string shown;
  for (auto const& l : lines) shown += printable(l) + "\n";
  INFO("std::clog received " << lines.size() << " lines (5 calls: 5 log lines and 10 spans expected):\n" << shown);
  CHECK(all);
  CHECK(lines.size() == 15);
  for (auto const& l : lines) CHECK(json_object(l).has_value());
  auto const calls = call_lines(lines);
  CHECK(calls.size() == 5);
  std::set<std::string> logged_traces;
  for (auto const& j : calls) {
    CHECK(j.value("client", "") == "default");
    logged_traces.insert(j.value("trace_id", ""));
  }
  for (auto const& t : trace_ids) CHECK(logged_traces.count(t) == 1);
  threads.stop();
}

TEST_CASE("the caller's handler runs on its own executor once the call is recorded", "[AC1]")
{
  // The caller's own io_context on a thread of its own; declared first, so
  // that it outlives the transport's threads, which post to it.
  asio::io_context callers;
  workbook::io_threads caller_thread(callers);
  std::promise<std::thread::id> id;
  asio::post(callers, [&] { id.set_value(std::this_thread::get_id()); });
  auto const callers_id = id.get_future().get();

  rig r;
  std::size_t n = 0;
  for (auto target : {"/status/200", "/status/500", "/refused"}) {
    ++n;
    auto seen = std::make_shared<sinks_seen>();
    auto a = r.start(get(target), r.count_sinks(seen), callers.get_executor()).wait();
    INFO("GET " << target << " with a handler bound to the caller's io_context: " << a.describe()
                << "\nit ran on the caller's thread: " << (a.thread == callers_id ? "yes" : "no") << "; it saw "
                << seen->lines.load() << " log lines and " << seen->spans.load() << " spans\nlog lines:\n"
                << r.lines.text() << "spans:\n"
                << r.spans.text());
    REQUIRE(a.completed);
    CHECK(a.thread == callers_id);
    CHECK(seen->lines.load() == n);
    CHECK(seen->spans.load() == 2 * n);
  }
}

TEST_CASE("cancelling a held call ends it at once and nothing stays in flight", "[AC1]")
{
  rig r;
  auto call = r.start(get("/hold"));
  REQUIRE(r.until_held(1));
  auto const in_flight = series_of("test", "a.test");
  bool const one = workbook::eventually([&] { return r.metrics().value("http_client_requests_in_flight", in_flight) == 1; }, 1s);
  INFO("while the upstream holds the call:\n" << r.metrics().describe());
  CHECK(one);

  call.cancel();
  auto const cancelled_at = std::chrono::steady_clock::now();
  auto const a = call.wait(1s);
  auto const took = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - cancelled_at);
  INFO("the caller cancelled through its handler's slot; then: " << a.describe() << " after " << took.count()
       << " ms.\nDoes the call to the inner transport carry the caller's cancellation slot?");
  REQUIRE(a.completed);
  CHECK(a.ec == asio::error::operation_aborted);
  auto const m = r.metrics();
  INFO("after the call ended:\n" << m.describe());
  CHECK(m.value("http_client_requests_in_flight", in_flight) == 0);

  // The same through a real plain_transport, to an upstream that never answers.
  auto silent = workbook::test_server::scripted(workbook::upstreams::silent());
  rig real({}, local(silent.port()));
  auto c = start_call(*real.transport, get("/never", "b.test"), real.ioc.get_executor(), real.caller);
  bool const arrived = workbook::eventually([&] { return silent.requests() == 1 || c.done(); }, 2s);
  INFO("the silent upstream has read " << silent.requests() << " request(s)");
  REQUIRE(arrived);
  REQUIRE_FALSE(c.done());
  c.cancel();
  auto const b = c.wait(1s);
  INFO("through a plain_transport of its own, the caller cancelled; then: " << b.describe());
  REQUIRE(b.completed);
  CHECK(b.ec == asio::error::operation_aborted);
  CHECK(real.metrics().value("http_client_requests_in_flight", series_of("test", "b.test")) == 0);
}
