// Stretch 1 · acceptance tests for spans and logs [AC7]: a call exports a
// call span and, as its child, an attempt span whose times come from the
// injected clock (a scripted 40 ms attempt lasts exactly 40 ms); each
// outcome gives its status and error type; spans and the log line are
// recorded before the caller's handler runs (the handler counts them); the
// log line, read with nlohmann::json, has the contract's fields and no
// other, the time from a fixed wall clock and the level of its outcome; a
// path with a quote, a backslash and a tab reads back exactly; the query
// and the Authorization field never appear; and lines written from eight
// threads at once are each whole, through a sink and through std::clog.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

using namespace stretch1_test;

namespace {

// The rig's one log line, parsed; nullopt when there is not exactly one, or it is not a JSON object.
std::optional<nlohmann::json> the_line(rig& r)
{
  auto const lines = r.lines.lines();
  if (lines.size() != 1) return std::nullopt;
  return json_object(lines[0]);
}

std::set<std::string> keys_of(nlohmann::json const& j)
{
  std::set<std::string> out;
  for (auto it = j.begin(); it != j.end(); ++it) out.insert(it.key());
  return out;
}

std::string joined(std::set<std::string> const& s)
{
  std::string out;
  for (auto const& k : s) out += (out.empty() ? "" : " ") + k;
  return out;
}

} // namespace

TEST_CASE("a call exports a call span and an attempt span that is its child", "[AC7]")
{
  rig r;
  auto const a = r.call("/took/40/status/200");
  REQUIRE(a.completed);
  auto const calls = r.spans.calls();
  auto const attempts = r.spans.attempts();
  auto const seen = r.upstream.last();
  REQUIRE(seen);
  INFO("GET /took/40/status/200 (the upstream takes 40 ms on the manual clock) -> " << a.describe() << "\nspans:\n"
                                                                                   << r.spans.text());
  REQUIRE(calls.size() == 1);
  REQUIRE(attempts.size() == 1);
  auto const& call = calls[0];
  auto const& attempt = attempts[0];

  CHECK(lower_hex(call.trace_id, 32));
  CHECK_FALSE(all_zeros(call.trace_id));
  CHECK(lower_hex(call.span_id, 16));
  CHECK(call.parent_span_id.empty());
  CHECK(call.flags == 1);
  CHECK(call.method == "GET");
  CHECK(call.host == "a.test");
  CHECK(call.status == 200);
  CHECK(call.error_type.empty());
  CHECK(call.attempts == 1);

  CHECK(attempt.trace_id == call.trace_id);
  CHECK(attempt.parent_span_id == call.span_id);
  CHECK(lower_hex(attempt.span_id, 16));
  CHECK(attempt.span_id != call.span_id);
  CHECK(attempt.flags == 1);
  CHECK(attempt.method == "GET");
  CHECK(attempt.host == "a.test");
  CHECK(attempt.status == 200);
  CHECK(attempt.error_type.empty());
  CHECK(attempt.resend_count == 0);

  CHECK(attempt.end - attempt.start == 40ms);
  CHECK(call.start <= attempt.start);
  CHECK(attempt.end <= call.end);
  CHECK(call.end - call.start == 40ms);

  REQUIRE(seen->traceparents.size() == 1);
  CHECK(seen->traceparents[0] == "00-" + call.trace_id + "-" + attempt.span_id + "-01");
}

TEST_CASE("each outcome gives its spans their status and error type", "[AC7]")
{
  struct outcome {
    std::string target;
    int status;
    std::string error_type;
  };
  std::vector<outcome> const outcomes{
      {"/status/404", 404, ""},
      {"/status/503", 503, "503"},
      {"/status/520", 520, "520"},
      {"/refused", 0, error_type_of(asio::error::connection_refused)},
      {"/hold", 0, "cancelled"},
  };
  for (auto const& o : outcomes) {
    rig r;
    auto const a = o.target == "/hold" ? r.cancelled(get(o.target)) : r.call(o.target);
    INFO("GET " << o.target << (o.target == "/hold" ? ", cancelled by the caller" : "") << " -> " << a.describe()
                << "\nspans:\n"
                << r.spans.text());
    REQUIRE(a.completed);
    REQUIRE(r.spans.size() == 2);
    for (auto const& s : r.spans.spans()) {
      INFO(kind_name(s.kind) << " span");
      CHECK(s.status == o.status);
      CHECK(s.error_type == o.error_type);
    }
  }
}

TEST_CASE("spans and the log line are recorded before the handler runs", "[AC7]")
{
  for (std::string target : {"/status/200", "/status/503", "/refused", "/hold"}) {
    rig r;
    auto seen = std::make_shared<sinks_seen>();
    auto p = r.start(get(target), r.count_sinks(seen));
    if (target == "/hold") {
      REQUIRE(r.until_held(1));
      p.cancel();
    }
    auto const a = p.wait();
    INFO("GET " << target << (target == "/hold" ? ", cancelled by the caller" : "") << " -> " << a.describe()
                << "\nwhen the handler ran it saw " << seen->lines.load() << " log line(s) and " << seen->spans.load()
                << " span(s); in the end:\nlog lines:\n"
                << r.lines.text() << "spans:\n"
                << r.spans.text());
    REQUIRE(a.completed);
    CHECK(seen->lines.load() == 1);
    CHECK(seen->spans.load() == 2);
  }
}

TEST_CASE("the log line is one JSON object with the contract's fields", "[AC7]")
{
  struct outcome {
    http::verb method;
    std::string target;
    std::string level, result;
    int status;  // 0: none expected, an error instead
    int ms;
  };
  std::vector<outcome> const outcomes{
      {http::verb::get, "/took/25/status/200?page=2", "info", "response", 200, 25},
      {http::verb::put, "/status/404", "info", "response", 404, 0},
      {http::verb::get, "/took/5/status/503?x=1", "warn", "response", 503, 5},
      {http::verb::get, "/status/520", "warn", "response", 520, 0},
      {http::verb::delete_, "/took/7/refused", "error", "error", 0, 7},
      {http::verb::get, "/hold?wait=1", "info", "cancelled", 0, 0},
  };
  for (auto const& o : outcomes) {
    rig r([](stretch1::observe_options& opt) { opt.client = "shop"; });
    auto request = make_request(o.method, o.target, "a.test");
    auto const a = o.result == "cancelled" ? r.cancelled(std::move(request)) : r.call(std::move(request));
    auto const path = o.target.substr(0, o.target.find('?'));
    auto const calls = r.spans.calls();
    INFO(http::to_string(o.method) << " " << o.target << (o.result == "cancelled" ? ", cancelled by the caller" : "")
                                   << " -> " << a.describe() << "\nlog lines:\n"
                                   << r.lines.text() << "spans:\n"
                                   << r.spans.text());
    REQUIRE(a.completed);
    auto const j = the_line(r);
    REQUIRE(j);
    REQUIRE(calls.size() == 1);

    std::set<std::string> expected{"time",    "level",    "msg",         "client",   "method", "host",
                                   "path",    "outcome",  "attempts",    "duration_ms", "trace_id", "span_id"};
    expected.insert(o.status ? "status" : "error");
    INFO("the line's fields: " << joined(keys_of(*j)) << "\nthe contract's:   " << joined(expected));
    CHECK(keys_of(*j) == expected);
    CHECK(j->value("time", "") == fixed_time_text);
    CHECK(j->value("level", "") == o.level);
    CHECK(j->value("msg", "") == "http client call");
    CHECK(j->value("client", "") == "shop");
    CHECK(j->value("method", "") == std::string(http::to_string(o.method)));
    CHECK(j->value("host", "") == "a.test");
    CHECK(j->value("path", "") == path);
    CHECK(j->value("outcome", "") == o.result);
    if (o.status) {
      REQUIRE(j->contains("status"));
      CHECK((*j)["status"].is_number());
      CHECK((*j)["status"] == o.status);
    } else {
      REQUIRE(j->contains("error"));
      CHECK((*j)["error"] == a.ec.message());
    }
    REQUIRE(j->contains("attempts"));
    CHECK((*j)["attempts"] == 1);
    REQUIRE(j->contains("duration_ms"));
    CHECK((*j)["duration_ms"].is_number());
    CHECK((*j)["duration_ms"].get<double>() == o.ms);
    CHECK(j->value("trace_id", "") == calls[0].trace_id);
    CHECK(j->value("span_id", "") == calls[0].span_id);
  }
}

TEST_CASE("a path with a quote, a backslash and a tab reads back exactly", "[AC7]")
{
  std::string const path = "/a\"b\\c\td%09e";
  std::string const host = "h\"o\\st";
  rig r([](stretch1::observe_options& o) { o.on_span = {}; });  // spans are log lines too
  auto const a = r.call(path + "?q=\"1\"", host);
  auto const lines = r.lines.lines();
  INFO("GET " << printable(path + "?q=\"1\"") << " Host: " << printable(host) << " -> " << a.describe()
              << "\nlog lines:\n"
              << r.lines.text());
  REQUIRE(a.completed);
  CHECK(lines.size() == 3);
  for (auto const& l : lines) {
    INFO("line: " << printable(l));
    CHECK(json_object(l).has_value());
  }
  auto const calls = call_lines(lines);
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].value("path", "") == path);
  CHECK(calls[0].value("host", "") == host);
}

TEST_CASE("the query string and the authorization never reach the log", "[AC7]")
{
  auto request = [] {
    auto r = get("/orders?token=s3cr3t&page=2");
    r.message.set(http::field::authorization, "Bearer s3cr3t");
    r.message.set(http::field::cookie, "session=s3cr3t");
    return r;
  };
  rig r([](stretch1::observe_options& o) { o.on_span = {}; });  // spans are log lines too
  REQUIRE(r.call(request()).completed);
  auto const lines = r.lines.lines();
  INFO("GET /orders?token=s3cr3t&page=2 with Authorization: Bearer s3cr3t and Cookie: session=s3cr3t\nlog lines:\n"
       << r.lines.text() << r.metrics().describe());
  auto const calls = call_lines(lines);
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].value("path", "") == "/orders");
  CHECK(lines.size() == 3);
  for (auto const& l : lines) CHECK(l.find("s3cr3t") == std::string::npos);
  CHECK(r.text().find("s3cr3t") == std::string::npos);

  rig s;  // spans to a span sink
  REQUIRE(s.call(request()).completed);
  INFO("spans:\n" << s.spans.text());
  CHECK(s.spans.size() == 2);
  for (auto const& span : s.spans.spans())
    for (auto const* field : {&span.trace_id, &span.span_id, &span.parent_span_id, &span.method, &span.host, &span.error_type})
      CHECK(field->find("s3cr3t") == std::string::npos);
}

TEST_CASE("lines written from eight threads at once are each whole", "[AC7]")
{
  {
    rig r([](stretch1::observe_options& o) { o.on_span = {}; });
    r.upstream.quiet(true);
    auto t = std::make_shared<tally>();
    call_from_threads(*r.transport, [] { return get("/status/200"); }, 8, 200, t);
    bool const all = workbook::eventually([&] { return t->completed() + t->dropped == 1600; }, 10s);
    INFO("8 threads x 200 calls: " << t->describe());
    REQUIRE(all);
    auto const lines = r.lines.lines();
    INFO("the log sink was called " << lines.size() << " times (1600 log lines and 3200 spans expected)");
    CHECK(lines.size() == 4800);
    int broken = 0;
    for (auto const& l : lines)
      if (l.find('\n') != std::string::npos || !json_object(l)) {
        if (++broken <= 3) UNSCOPED_INFO("not one whole JSON object: " << printable(l));
      }
    CHECK(broken == 0);
    CHECK(call_lines(lines).size() == 1600);
  }
  {
    clog_capture clog;  // before the rig: restored after it
    rig r([](stretch1::observe_options& o) {
      o.log = stretch1::clog_sink;
      o.on_span = {};
    });
    r.upstream.quiet(true);
    auto t = std::make_shared<tally>();
    call_from_threads(*r.transport, [] { return get("/status/200"); }, 8, 50, t);
    bool const all = workbook::eventually([&] { return t->completed() + t->dropped == 400; }, 10s);
    INFO("8 threads x 50 calls through the default sink: " << t->describe());
    REQUIRE(all);
    auto const lines = clog.lines();
    INFO("std::clog received " << lines.size() << " lines (400 log lines and 800 spans expected)");
    CHECK(lines.size() == 1200);
    int broken = 0;
    for (auto const& l : lines)
      if (!json_object(l)) {
        if (++broken <= 3) UNSCOPED_INFO("not one whole JSON object: " << printable(l));
      }
    CHECK(broken == 0);
    CHECK(call_lines(lines).size() == 400);
  }
}
