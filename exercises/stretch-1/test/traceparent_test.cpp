// Stretch 1 · acceptance tests for trace context on the wire [AC6]: the
// parser against a table of valid headers and of every way one is invalid,
// and format() back; through the transport (the fake upstream keeps what
// each request carried; ids come from counting_random), a call continues
// its caller's trace with a span of its own and passes tracestate on, only
// the sampled flag is propagated, an invalid or repeated traceparent starts
// a new trace and drops tracestate, all-zero draws are drawn again, and an
// unsampled call exports no span but is still counted and logged.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

using namespace stretch1_test;

namespace {

std::string const trace = "0af7651916cd43dd8448eb211c80319c";
std::string const parent = "b7ad6b7169203331";
std::string const caller_header = "00-" + trace + "-" + parent + "-01";
std::string const tracestate = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";

std::string header(std::string const& version, std::string const& t, std::string const& p, std::string const& flags)
{
  return version + "-" + t + "-" + p + "-" + flags;
}

std::string upper(std::string s)
{
  std::transform(s.begin(), s.end(), s.begin(), [](char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); });
  return s;
}

// The ways a traceparent is invalid, each with why.
std::vector<std::pair<std::string, std::string>> invalid_headers()
{
  std::string const zeros32(32, '0'), zeros16(16, '0');
  return {
      {"", "empty"},
      {header("ff", trace, parent, "01"), "version ff"},
      {header("0A", trace, parent, "01"), "an upper-case version"},
      {header("0g", trace, parent, "01"), "a version that is not hex"},
      {header("00", upper(trace), parent, "01"), "an upper-case trace id"},
      {header("00", trace, upper(parent), "01"), "an upper-case parent id"},
      {header("00", trace, parent, "0A"), "upper-case flags"},
      {header("00", zeros32, parent, "01"), "an all-zero trace id"},
      {header("00", trace, zeros16, "01"), "an all-zero parent id"},
      {header("00", trace, parent, "1"), "54 characters: flags of one digit"},
      {header("00", trace, parent, "010"), "56 characters at version 00"},
      {header("00", trace, parent, "01") + "-extra", "version 00 followed by more fields"},
      {header("cc", trace, parent, "01") + "x", "a higher version followed by something other than a dash"},
      {header("cc", trace, parent, "0"), "a higher version shorter than 55 characters"},
      {header("00", trace.substr(0, 31) + "g", parent, "01"), "a trace id with a digit that is not hex"},
      {header("00", trace, parent.substr(0, 15) + "z", "01"), "a parent id with a digit that is not hex"},
      {header("00", trace, parent, "0x"), "flags that are not hex"},
      {"00" + trace + "-" + parent + "-01", "a missing dash"},
      {"00-" + trace + "-" + parent + "_01", "an underscore for a dash"},
      {"00--" + trace + "-" + parent + "-01", "an extra dash"},
      {header("00", trace.substr(0, 31), parent + "0", "01"), "a 31-digit trace id and a 17-digit parent id"},
      {" " + caller_header, "a leading blank"},
      {caller_header + " ", "a trailing blank"},
      {"00-" + trace + "-" + parent, "no flags"},
  };
}

std::string bytes_hex(stretch1::trace_context const& c) { return hex(c.trace_id) + " " + hex(c.parent_id) + " " + std::to_string(c.flags); }

workbook::client_request with_parent(std::vector<std::string> const& traceparents, std::optional<std::string> state)
{
  auto r = get("/status/200");
  for (auto const& t : traceparents) r.message.insert("traceparent", t);
  if (state) r.message.insert("tracestate", *state);
  return r;
}

std::string seen_text(fake_upstream::seen const& s)
{
  std::string out = s.method + " " + s.target + "\n";
  for (auto const& t : s.traceparents) out += "  traceparent: " + printable(t) + "\n";
  for (auto const& t : s.tracestates) out += "  tracestate: " + printable(t) + "\n";
  return out;
}

} // namespace

TEST_CASE("the parser accepts valid headers and rejects every invalid form", "[AC6]")
{
  struct valid {
    std::string text;
    std::uint8_t flags;
    std::string why;
  };
  std::vector<valid> const good{
      {caller_header, 0x01, "version 00, sampled"},
      {header("00", trace, parent, "00"), 0x00, "version 00, not sampled"},
      {header("00", trace, parent, "ff"), 0xff, "version 00, every flag"},
      {header("cc", trace, parent, "01"), 0x01, "a higher version of 55 characters"},
      {header("cc", trace, parent, "01") + "-what-the-future-will-be-like", 0x01, "a higher version with more fields"},
  };
  for (auto const& g : good) {
    auto const c = stretch1::parse_traceparent(g.text);
    INFO("parse_traceparent(\"" << printable(g.text) << "\"): " << g.why << " -> "
                                << (c ? bytes_hex(*c) : std::string("nullopt")));
    REQUIRE(c);
    CHECK(hex(c->trace_id) == trace);
    CHECK(hex(c->parent_id) == parent);
    CHECK(c->flags == g.flags);
    CHECK(c->sampled() == ((g.flags & 1) != 0));
    // format() writes version 00, whatever version was read.
    CHECK(stretch1::format_traceparent(*c) == header("00", trace, parent, g.text.substr(53, 2)));
  }

  auto const bad = invalid_headers();
  REQUIRE(bad.size() >= 14);
  for (auto const& [text, why] : bad) {
    auto const c = stretch1::parse_traceparent(text);
    INFO("parse_traceparent(\"" << printable(text) << "\"): " << why << " -> " << (c ? bytes_hex(*c) : std::string("nullopt")));
    CHECK_FALSE(c.has_value());
  }

  // format() of a context made by hand.
  stretch1::trace_context made;
  for (std::size_t i = 0; i < 16; ++i) made.trace_id[i] = static_cast<std::uint8_t>(0xf0 + i);
  for (std::size_t i = 0; i < 8; ++i) made.parent_id[i] = static_cast<std::uint8_t>(0x0a * (i + 1));
  made.flags = 0x01;
  auto const text = stretch1::format_traceparent(made);
  INFO("format_traceparent of trace id f0f1..ff, parent id 0a141e28323c4650, flags 01: \"" << printable(text) << "\"");
  CHECK(text == "00-f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff-0a141e28323c4650-01");
  auto const back = stretch1::parse_traceparent(text);
  REQUIRE(back);
  CHECK(back->trace_id == made.trace_id);
  CHECK(back->parent_id == made.parent_id);
}

TEST_CASE("a call continues its caller's trace with a span of its own", "[AC6]")
{
  // Version cc is read as its first 55 characters; what goes on is version 00.
  for (auto const& incoming : {caller_header, header("cc", trace, parent, "01") + "-later-fields"}) {
    rig r;
    auto const a = r.call(with_parent({incoming}, tracestate));
    REQUIRE(a.completed);
    auto const s = r.upstream.last();
    REQUIRE(s);
    INFO("the caller sent traceparent \"" << incoming << "\" and tracestate \"" << tracestate
                                         << "\"; the upstream received:\n"
                                         << seen_text(*s) << "spans:\n"
                                         << r.spans.text());
    REQUIRE(s->traceparents.size() == 1);
    auto const tp = read_traceparent(s->traceparents[0]);
    REQUIRE(tp);
    CHECK(tp->trace_id == trace);
    CHECK(tp->parent_id != parent);
    CHECK(tp->flags == "01");
    CHECK(s->tracestates == std::vector<std::string>{tracestate});

    auto const calls = r.spans.calls();
    auto const attempts = r.spans.attempts();
    REQUIRE(calls.size() == 1);
    REQUIRE(attempts.size() == 1);
    CHECK(calls[0].trace_id == trace);
    CHECK(calls[0].parent_span_id == parent);
    CHECK(attempts[0].trace_id == trace);
    CHECK(attempts[0].parent_span_id == calls[0].span_id);
    CHECK(tp->parent_id == attempts[0].span_id);
    CHECK(calls[0].span_id != parent);
  }
}

TEST_CASE("only the sampled flag is propagated", "[AC6]")
{
  std::vector<std::pair<std::string, std::string>> const flags{{"ff", "01"}, {"fe", "00"}, {"09", "01"}, {"01", "01"}};
  for (auto const& [in, out] : flags) {
    rig r;
    auto const a = r.call(with_parent({header("00", trace, parent, in)}, std::nullopt));
    REQUIRE(a.completed);
    auto const s = r.upstream.last();
    REQUIRE(s);
    INFO("the caller's flags " << in << "; the upstream received:\n" << seen_text(*s) << "spans:\n" << r.spans.text());
    REQUIRE(s->traceparents.size() == 1);
    auto const tp = read_traceparent(s->traceparents[0]);
    REQUIRE(tp);
    CHECK(tp->trace_id == trace);
    CHECK(tp->flags == out);
    for (auto const& span : r.spans.spans()) CHECK(int(span.flags) == std::stoi(out, nullptr, 16));
  }
}

TEST_CASE("an invalid or repeated traceparent starts a new trace and drops tracestate", "[AC6]")
{
  // (Beast trims a field's value: a blank around it never reaches the transport.)
  std::vector<std::pair<std::string, std::string>> cases;
  for (auto const& c : invalid_headers())
    if (c.first.empty() || (c.first.front() != ' ' && c.first.back() != ' ')) cases.push_back(c);
  std::vector<std::vector<std::string>> sent;
  for (auto const& [text, why] : cases) sent.push_back({text});
  // Two fields, even two valid ones, are no parent at all.
  sent.push_back({caller_header, caller_header});
  cases.emplace_back("", "two traceparent fields, the same valid value twice");
  sent.push_back({caller_header, header("00", trace, "00f067aa0ba902b7", "01")});
  cases.emplace_back("", "two traceparent fields, both valid");

  for (std::size_t i = 0; i < sent.size(); ++i) {
    rig r;
    auto const a = r.call(with_parent(sent[i], tracestate));
    REQUIRE(a.completed);
    auto const s = r.upstream.last();
    REQUIRE(s);
    std::string shown;
    for (auto const& t : sent[i]) shown += " \"" + printable(t) + "\"";
    INFO("the caller sent traceparent" << shown << " (" << cases[i].second << ") and a tracestate; the upstream received:\n"
                                       << seen_text(*s) << "spans:\n"
                                       << r.spans.text());
    REQUIRE(s->traceparents.size() == 1);
    auto const tp = read_traceparent(s->traceparents[0]);
    REQUIRE(tp);
    CHECK(tp->trace_id != trace);
    CHECK(tp->flags == "01");
    CHECK(s->tracestates.empty());
    auto const calls = r.spans.calls();
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].parent_span_id.empty());
    CHECK(calls[0].trace_id == tp->trace_id);
  }
}

TEST_CASE("all-zero random draws are drawn again", "[AC6]")
{
  rig r({}, std::nullopt, 3);  // the first three draws are all zeros
  auto const a = r.call("/status/200");
  REQUIRE(a.completed);
  auto const s = r.upstream.last();
  REQUIRE(s);
  INFO("random gave " << r.random.zero_draws() << " all-zero draws of " << r.random.draws()
                      << "; the upstream received:\n"
                      << seen_text(*s) << "spans:\n"
                      << r.spans.text());
  REQUIRE(s->traceparents.size() == 1);
  CHECK(read_traceparent(s->traceparents[0]).has_value());
  CHECK(r.random.zero_draws() == 3);
  CHECK(r.random.draws() > 3);
  for (auto const& span : r.spans.spans()) {
    CHECK(lower_hex(span.trace_id, 32));
    CHECK_FALSE(all_zeros(span.trace_id));
    CHECK(lower_hex(span.span_id, 16));
    CHECK_FALSE(all_zeros(span.span_id));
  }
  CHECK(r.spans.size() == 2);
}

TEST_CASE("an unsampled call is propagated unsampled and exports no span, but is counted and logged", "[AC6]")
{
  rig r;
  auto const a = r.call(with_parent({header("00", trace, parent, "00")}, std::nullopt));
  REQUIRE(a.completed);
  auto const s = r.upstream.last();
  REQUIRE(s);
  auto const m = r.metrics();
  INFO("the caller sent flags 00; the upstream received:\n"
       << seen_text(*s) << "spans exported:\n"
       << r.spans.text() << "log lines:\n"
       << r.lines.text() << m.describe());
  REQUIRE(s->traceparents.size() == 1);
  auto const tp = read_traceparent(s->traceparents[0]);
  REQUIRE(tp);
  CHECK(tp->trace_id == trace);
  CHECK(tp->parent_id != parent);
  CHECK(tp->flags == "00");
  CHECK(r.spans.size() == 0);
  CHECK(m.value("http_client_requests_total", request_labels("test", "a.test", "GET", "200")) == 1);
  auto const lines = call_lines(r.lines.lines());
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].value("trace_id", "") == trace);

  // Without a span sink, spans would be log lines: still only the call's line.
  rig quiet([](stretch1::observe_options& o) { o.on_span = {}; });
  REQUIRE(quiet.call(with_parent({header("00", trace, parent, "00")}, std::nullopt)).completed);
  INFO("with no span sink, the log received:\n" << quiet.lines.text());
  CHECK(quiet.lines.size() == 1);
  CHECK(call_lines(quiet.lines.lines()).size() == 1);
}
