// Stretch 1 · test helpers.
//
//   fake_upstream     a round tripper without a network that answers by
//                     target (below), keeps what each request carried
//                     (traceparent, tracestate, Host) and reports the
//                     connection to the request's client_trace when told to
//   test_clock        a manual clock shared by the transport and the fake,
//                     which moves it by the latency a target scripts
//   counting_random   ids you can predict: each draw is a counter, big-endian
//                     (…0001, …0002), after a given number of all-zero draws
//   fixed_wall_clock  2026-11-30T09:29:00.123Z
//   line_sink, span_log, clog_capture   what the transport logs and exports
//   exposition        a strict reader of the Prometheus text format 0.0.4
//   legacy_service    a client written once against a transport type: the
//                     one-line change is its template argument
//   rig               your observed_transport around the fake (or around a
//                     real upstream), on an io_context of two threads
//
// The fake upstream reads a target as path segments, in order:
//   /took/MS          first moves the shared clock on by MS milliseconds
//   /reuse/true|false reports the connection as reused or not (unless silent)
//   then one of
//   /status/N         answers N at once (body "status N from the upstream")
//   /seq/A,B,C        answers the n-th request for this target with the n-th
//                     status, the last repeating (500,500,200: a flaky upstream)
//   /refused          fails with connection_refused (a transport failure)
//   /hold...          holds the call until release()/fail(), or until the
//                     caller cancels it (then operation_aborted)
//   anything else     200
// The query is ignored.
#pragma once

#include "observed_transport.hpp"

#include <workbook/eventually.hpp>
#include <workbook/held_calls.hpp>
#include <workbook/http.hpp>
#include <workbook/io_threads.hpp>
#include <workbook/manual_clock.hpp>
#include <workbook/round_trip_call.hpp>
#include <workbook/round_tripper.hpp>
#include <workbook/transcript.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/http.hpp>

#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <streambuf>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace stretch1_test {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using namespace std::chrono_literals;
using stretch1::span_record;
using labels = std::map<std::string, std::string>;

inline asio::ip::tcp::endpoint local(unsigned short port) { return {asio::ip::make_address("127.0.0.1"), port}; }

using workbook::describe;

// "error_type" of a transport error, as the contract spells it: "system:111".
inline std::string error_type_of(error_code ec) { return std::string(ec.category().name()) + ":" + std::to_string(ec.value()); }

// Bytes as the transcript prints them: quotes, backslashes, tabs and line feeds escaped.
inline std::string printable(std::string_view s) { return workbook::transcript::printable(s, 2000); }

// ---------------------------------------------------------------- numbers

// The shortest text that reads back as the same double (std::to_chars), as
// the contract writes every number of the exposition.
inline std::string shortest(double d)
{
  char buf[64];
  auto const r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

// A duration in seconds, as a double: the form of every latency the
// exposition writes.
inline double seconds(nanoseconds d) { return std::chrono::duration<double>(d).count(); }

// A number of the text format: a float, or NaN, +Inf, -Inf.
inline std::optional<double> read_number(std::string_view s)
{
  if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (s == "+Inf") return std::numeric_limits<double>::infinity();
  if (s == "-Inf") return -std::numeric_limits<double>::infinity();
  if (s.empty() || s.front() == '+') return std::nullopt;
  double d = 0;
  auto const r = std::from_chars(s.data(), s.data() + s.size(), d);
  if (r.ec != std::errc{} || r.ptr != s.data() + s.size()) return std::nullopt;
  return d;
}

// ---------------------------------------------------------------- hex and trace ids

inline std::string hex(std::span<std::uint8_t const> bytes)
{
  static char const digits[] = "0123456789abcdef";
  std::string out;
  for (auto b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 0x0f];
  }
  return out;
}

inline bool lower_hex(std::string_view s, std::size_t length)
{
  return s.size() == length &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

inline bool all_zeros(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

// A traceparent as the test reads it, without your parser: version 00,
// lower-case hex, ids not all zero.
struct wire_traceparent {
  std::string trace_id, parent_id, flags;
};

inline std::optional<wire_traceparent> read_traceparent(std::string_view v)
{
  if (v.size() != 55 || v.substr(0, 3) != "00-" || v[35] != '-' || v[52] != '-') return std::nullopt;
  wire_traceparent t{std::string(v.substr(3, 32)), std::string(v.substr(36, 16)), std::string(v.substr(53, 2))};
  if (!lower_hex(t.trace_id, 32) || !lower_hex(t.parent_id, 16) || !lower_hex(t.flags, 2)) return std::nullopt;
  if (all_zeros(t.trace_id) || all_zeros(t.parent_id)) return std::nullopt;
  return t;
}

// ---------------------------------------------------------------- the clocks

// A manual clock shared by the transport (options.clock) and the fake
// upstream, which moves it by the latency a target scripts.
class test_clock {
public:
  stretch1::clock_type::time_point now() const { return clock_->now(); }
  void advance(stretch1::clock_type::duration d) { clock_->advance(d); }
  std::function<stretch1::clock_type::time_point()> function() const
  {
    return [c = clock_] { return c->now(); };
  }

private:
  std::shared_ptr<workbook::manual_clock> clock_ = std::make_shared<workbook::manual_clock>();
};

// 2026-11-30T09:29:00.123Z.
inline stretch1::wall_clock_type::time_point fixed_time()
{
  using namespace std::chrono;
  return time_point_cast<stretch1::wall_clock_type::duration>(sys_days{year{2026} / November / 30} + hours{9} +
                                                              minutes{29} + milliseconds{123});
}
inline std::string const fixed_time_text = "2026-11-30T09:29:00.123Z";

inline std::function<stretch1::wall_clock_type::time_point()> fixed_wall_clock()
{
  return [] { return fixed_time(); };
}

// ---------------------------------------------------------------- random ids

// A random_source whose draws you can predict: draw n (1, 2, ...) is the
// number n, big-endian, in the last bytes of the buffer (so a 16-byte trace
// id reads 000…0001). The first `zeros_first` draws are all zeros. Safe
// from several threads; copies share the count.
class counting_random {
public:
  explicit counting_random(int zeros_first = 0) { state_->zeros_left = zeros_first; }

  stretch1::random_source source() const
  {
    return [s = state_](std::span<std::uint8_t> out) {
      s->draws.fetch_add(1);
      std::fill(out.begin(), out.end(), std::uint8_t{0});
      int z = s->zeros_left.load();
      while (z > 0 && !s->zeros_left.compare_exchange_weak(z, z - 1)) {
      }
      if (z > 0) {
        s->zero_draws.fetch_add(1);
        return;
      }
      std::uint64_t n = s->counter.fetch_add(1) + 1;
      for (std::size_t i = out.size(); i > 0 && n != 0; --i, n >>= 8) out[i - 1] = static_cast<std::uint8_t>(n & 0xff);
    };
  }
  int draws() const { return state_->draws.load(); }
  int zero_draws() const { return state_->zero_draws.load(); }

private:
  struct state {
    std::atomic<std::uint64_t> counter{0};
    std::atomic<int> zeros_left{0};
    std::atomic<int> draws{0};
    std::atomic<int> zero_draws{0};
  };
  std::shared_ptr<state> state_ = std::make_shared<state>();
};

// ---------------------------------------------------------------- sinks

// Every line handed to a log_sink, one entry per call. Copies share the lines.
class line_sink {
public:
  stretch1::log_sink sink() const
  {
    return [s = state_](std::string_view line) {
      std::lock_guard lock(s->mutex);
      s->lines.emplace_back(line);
    };
  }
  std::vector<std::string> lines() const
  {
    std::lock_guard lock(state_->mutex);
    return state_->lines;
  }
  std::size_t size() const
  {
    std::lock_guard lock(state_->mutex);
    return state_->lines.size();
  }
  std::string text() const
  {
    std::string out;
    for (auto const& l : lines()) out += printable(l) + "\n";
    return out.empty() ? "(no line)" : out;
  }

private:
  struct state {
    mutable std::mutex mutex;
    std::vector<std::string> lines;
  };
  std::shared_ptr<state> state_ = std::make_shared<state>();
};

inline char const* kind_name(span_record::kind_type k) { return k == span_record::kind_type::call ? "call" : "attempt"; }

inline std::string describe(span_record const& s)
{
  std::ostringstream out;
  out << kind_name(s.kind) << " span trace " << s.trace_id << " span " << s.span_id << " parent "
      << (s.parent_span_id.empty() ? "(none)" : s.parent_span_id) << " flags " << int(s.flags) << " " << s.method
      << " host \"" << printable(s.host) << "\" status " << s.status << " error_type \"" << s.error_type
      << "\" resend_count " << s.resend_count << " attempts " << s.attempts << " lasted "
      << std::chrono::duration_cast<nanoseconds>(s.end - s.start).count() << " ns";
  return out.str();
}

// Every span handed to a span_sink. Copies share the spans.
class span_log {
public:
  stretch1::span_sink sink() const
  {
    return [s = state_](span_record const& r) {
      std::lock_guard lock(s->mutex);
      s->spans.push_back(r);
    };
  }
  std::vector<span_record> spans() const
  {
    std::lock_guard lock(state_->mutex);
    return state_->spans;
  }
  std::size_t size() const
  {
    std::lock_guard lock(state_->mutex);
    return state_->spans.size();
  }
  std::vector<span_record> of_kind(span_record::kind_type k) const
  {
    std::vector<span_record> out;
    for (auto const& s : spans())
      if (s.kind == k) out.push_back(s);
    return out;
  }
  std::vector<span_record> calls() const { return of_kind(span_record::kind_type::call); }
  std::vector<span_record> attempts() const { return of_kind(span_record::kind_type::attempt); }
  std::string text() const
  {
    std::string out;
    for (auto const& s : spans()) out += describe(s) + "\n";
    return out.empty() ? "(no span)" : out;
  }

private:
  struct state {
    mutable std::mutex mutex;
    std::vector<span_record> spans;
  };
  std::shared_ptr<state> state_ = std::make_shared<state>();
};

// std::clog goes to a buffer of the test's for the scope of this object
// (make it before the transport, so that it is restored after). The buffer
// takes one write at a time, from any thread.
class clog_capture {
public:
  clog_capture() : previous_(std::clog.rdbuf(&buffer_)) {}
  ~clog_capture() { std::clog.rdbuf(previous_); }
  clog_capture(clog_capture const&) = delete;
  clog_capture& operator=(clog_capture const&) = delete;

  std::string text() const { return buffer_.text(); }
  // The text split at line feeds (a last line without one included).
  std::vector<std::string> lines() const
  {
    std::vector<std::string> out;
    auto const t = text();
    std::size_t start = 0;
    while (start < t.size()) {
      auto const end = t.find('\n', start);
      if (end == std::string::npos) {
        out.push_back(t.substr(start));
        break;
      }
      out.push_back(t.substr(start, end - start));
      start = end + 1;
    }
    return out;
  }

private:
  class locked_buffer : public std::streambuf {
  public:
    std::string text() const
    {
      std::lock_guard lock(mutex_);
      return text_;
    }

  protected:
    int_type overflow(int_type c) override
    {
      if (!traits_type::eq_int_type(c, traits_type::eof())) {
        std::lock_guard lock(mutex_);
        text_ += traits_type::to_char_type(c);
      }
      return traits_type::not_eof(c);
    }
    std::streamsize xsputn(char const* s, std::streamsize n) override
    {
      std::lock_guard lock(mutex_);
      text_.append(s, static_cast<std::size_t>(n));
      return n;
    }
    int sync() override { return 0; }

  private:
    mutable std::mutex mutex_;
    std::string text_;
  };
  locked_buffer buffer_;
  std::streambuf* previous_;
};

// ---------------------------------------------------------------- JSON lines

inline std::optional<nlohmann::json> json_object(std::string_view line)
{
  try {
    auto j = nlohmann::json::parse(line);
    if (j.is_object()) return j;
  } catch (nlohmann::json::exception const&) {
  }
  return std::nullopt;
}

// The lines that are call log lines ("msg":"http client call"), parsed.
inline std::vector<nlohmann::json> call_lines(std::vector<std::string> const& lines)
{
  std::vector<nlohmann::json> out;
  for (auto const& l : lines)
    if (auto j = json_object(l); j && j->contains("msg") && (*j)["msg"] == "http client call") out.push_back(*j);
  return out;
}

// ---------------------------------------------------------------- the exposition

struct sample {
  std::string name;
  labels label;
  std::string text;  // the value as written
  double value = 0;
  int line = 0;
};

struct family {
  std::string name, help, type;
  int help_lines = 0, type_lines = 0;
  std::vector<sample> samples;
};

inline std::string describe(labels const& l)
{
  std::string out = "{";
  for (auto const& [k, v] : l) {
    if (out.size() > 1) out += ",";
    out += k + "=\"" + printable(v) + "\"";
  }
  return out + "}";
}

// A strict reader of the text format 0.0.4: what it finds wrong is in
// problems(), one sentence each.
class exposition {
public:
  static exposition parse(std::string text)
  {
    exposition e;
    e.text_ = std::move(text);
    e.read();
    return e;
  }

  std::string const& text() const { return text_; }
  std::vector<std::string> const& problems() const { return problems_; }
  std::vector<family> const& families() const { return families_; }

  family const* find(std::string_view name) const
  {
    for (auto const& f : families_)
      if (f.name == name) return &f;
    return nullptr;
  }
  // Every sample with this name (a series' name: "x_count", not its family's).
  std::vector<sample> series(std::string_view name) const
  {
    std::vector<sample> out;
    for (auto const& f : families_)
      for (auto const& s : f.samples)
        if (s.name == name) out.push_back(s);
    return out;
  }
  std::optional<sample> get(std::string_view name, labels const& l) const
  {
    for (auto const& s : series(name))
      if (s.label == l) return s;
    return std::nullopt;
  }
  std::optional<double> value(std::string_view name, labels const& l) const
  {
    if (auto s = get(name, l)) return s->value;
    return std::nullopt;
  }
  std::optional<std::string> value_text(std::string_view name, labels const& l) const
  {
    if (auto s = get(name, l)) return s->text;
    return std::nullopt;
  }

  // The text and what is wrong with it, for failure messages.
  std::string describe() const
  {
    std::string out = text_.empty() ? "the exposition is empty\n" : "the exposition:\n" + text_;
    if (!text_.empty() && text_.back() != '\n') out += "\n";
    for (auto const& p : problems_) out += "problem: " + p + "\n";
    return out;
  }

private:
  void problem(int line, std::string what) { problems_.push_back("line " + std::to_string(line) + ": " + what); }

  static bool metric_name(std::string_view s)
  {
    if (s.empty()) return false;
    auto first = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; };
    return first(s[0]) && std::all_of(s.begin() + 1, s.end(), [&](char c) {
             return first(c) || std::isdigit(static_cast<unsigned char>(c));
           });
  }
  static bool label_name(std::string_view s)
  {
    if (s.empty()) return false;
    auto first = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; };
    return first(s[0]) && std::all_of(s.begin() + 1, s.end(), [&](char c) {
             return first(c) || std::isdigit(static_cast<unsigned char>(c));
           });
  }

  family* family_named(std::string_view name)
  {
    for (auto& f : families_)
      if (f.name == name) return &f;
    return nullptr;
  }

  // The line belongs to family `name`: it must be the current family or a
  // new one, never one that was left earlier.
  family& enter(std::string const& name, int line)
  {
    if (current_ != name) {
      if (!current_.empty()) left_.insert(current_);
      if (left_.count(name))
        problem(line, "the lines of family " + name + " are not together: another family came between them");
      current_ = name;
    }
    if (auto* f = family_named(name)) return *f;
    families_.push_back(family{});
    families_.back().name = name;
    return families_.back();
  }

  // "# HELP name text" / "# TYPE name type"; other comments are ignored.
  void read_comment(std::string_view l, int line)
  {
    auto rest = l.substr(1);
    auto skip = [&] {
      while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    };
    auto word = [&] {
      skip();
      auto const end = rest.find_first_of(" \t");
      auto w = rest.substr(0, end);
      rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
      return w;
    };
    auto const keyword = word();
    if (keyword != "HELP" && keyword != "TYPE") return;
    auto const name = std::string(word());
    if (!metric_name(name)) {
      problem(line, "# " + std::string(keyword) + " names \"" + name + "\", which is not a metric name");
      return;
    }
    if (!rest.empty()) rest.remove_prefix(1);  // the one blank after the name
    auto& f = enter(name, line);
    if (!f.samples.empty())
      problem(line, "# " + std::string(keyword) + " " + name + " comes after samples of its family");
    if (keyword == "HELP") {
      if (++f.help_lines > 1) problem(line, "a second # HELP line for " + name);
      std::string help;
      for (std::size_t i = 0; i < rest.size(); ++i) {
        if (rest[i] != '\\') {
          help += rest[i];
        } else if (i + 1 < rest.size() && (rest[i + 1] == '\\' || rest[i + 1] == 'n')) {
          help += rest[i + 1] == 'n' ? '\n' : '\\';
          ++i;
        } else {
          problem(line, "the help text of " + name + " has a backslash that escapes nothing it may escape");
        }
      }
      f.help = help;
    } else {
      if (++f.type_lines > 1) problem(line, "a second # TYPE line for " + name);
      auto const type = std::string(word());
      skip();
      if (!rest.empty()) problem(line, "# TYPE " + name + " has something after its type");
      static std::set<std::string> const types{"counter", "gauge", "summary", "histogram", "untyped"};
      if (!types.count(type)) problem(line, "# TYPE " + name + " says \"" + type + "\", which is not a type");
      f.type = type;
    }
  }

  // The family a sample's name belongs to: one with that name, or a
  // summary's (histogram's) whose _sum, _count (_bucket) it is.
  std::string family_of(std::string const& name)
  {
    if (family_named(name)) return name;
    for (std::string suffix : {"_sum", "_count", "_bucket"}) {
      if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        auto const base = name.substr(0, name.size() - suffix.size());
        if (auto* f = family_named(base); f && (f->type == "summary" || f->type == "histogram")) {
          if (suffix == "_bucket" && f->type != "histogram") continue;
          return base;
        }
      }
    }
    return name;
  }

  void read_sample(std::string_view l, int line)
  {
    std::size_t i = 0;
    while (i < l.size() && l[i] != '{' && l[i] != ' ' && l[i] != '\t') ++i;
    sample s;
    s.line = line;
    s.name = std::string(l.substr(0, i));
    if (!metric_name(s.name)) {
      problem(line, "\"" + printable(s.name) + "\" is not a metric name");
      return;
    }
    if (i < l.size() && l[i] == '{') {
      ++i;
      for (;;) {
        if (i < l.size() && l[i] == '}') {
          ++i;
          break;
        }
        std::size_t const n0 = i;
        while (i < l.size() && l[i] != '=') ++i;
        auto const name = std::string(l.substr(n0, i - n0));
        if (i >= l.size() || !label_name(name) || i + 1 >= l.size() || l[i + 1] != '"') {
          problem(line, "a label of " + s.name + " is not name=\"value\"");
          return;
        }
        i += 2;
        std::string value;
        bool closed = false;
        while (i < l.size()) {
          char const c = l[i++];
          if (c == '"') {
            closed = true;
            break;
          }
          if (c != '\\') {
            value += c;
            continue;
          }
          if (i < l.size() && (l[i] == '\\' || l[i] == '"' || l[i] == 'n')) {
            value += l[i] == 'n' ? '\n' : l[i];
            ++i;
          } else {
            problem(line, "the value of label " + name + " of " + s.name +
                              " has a backslash that does not escape \\, \" or n");
            return;
          }
        }
        if (!closed) {
          problem(line, "the value of label " + name + " of " + s.name + " is not closed by a quote on its line");
          return;
        }
        if (!s.label.emplace(name, value).second) problem(line, "label " + name + " twice in one sample of " + s.name);
        if (i < l.size() && l[i] == ',') ++i;
        else if (i < l.size() && l[i] == '}') continue;
        else {
          problem(line, "labels of " + s.name + " are not separated by commas or closed by }");
          return;
        }
      }
    }
    if (i >= l.size() || (l[i] != ' ' && l[i] != '\t')) {
      problem(line, "the sample of " + s.name + " has no blank before its value");
      return;
    }
    while (i < l.size() && (l[i] == ' ' || l[i] == '\t')) ++i;
    auto const end = l.find_first_of(" \t", i);
    s.text = std::string(l.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i));
    auto const v = read_number(s.text);
    if (!v) problem(line, "the value \"" + printable(s.text) + "\" of " + s.name + " is not a number");
    s.value = v.value_or(0);
    if (end != std::string_view::npos) {
      auto ts = l.substr(end);
      while (!ts.empty() && (ts.front() == ' ' || ts.front() == '\t')) ts.remove_prefix(1);
      std::int64_t t = 0;
      if (!ts.empty() && std::from_chars(ts.data(), ts.data() + ts.size(), t).ptr != ts.data() + ts.size())
        problem(line, "what follows the value of " + s.name + " is not a timestamp");
    }

    auto const fname = family_of(s.name);
    auto* known = family_named(fname);
    if (!known || known->type.empty())
      problem(line, "the sample " + s.name + " comes before a # TYPE line of its family");
    if (!known || known->help_lines == 0)
      problem(line, "the sample " + s.name + " comes before a # HELP line of its family");
    auto& f = enter(fname, line);
    if (f.type == "summary" && s.name == f.name && !s.label.count("quantile"))
      problem(line, "a sample of the summary " + f.name + " without a quantile label");
    if (f.type == "summary" && s.name != f.name && s.label.count("quantile"))
      problem(line, s.name + " has a quantile label");
    for (auto const& other : f.samples)
      if (other.name == s.name && other.label == s.label)
        problem(line, "the series " + s.name + stretch1_test::describe(s.label) + " is written twice");
    f.samples.push_back(std::move(s));
  }

  void read()
  {
    if (text_.empty()) return;
    if (text_.back() != '\n') problems_.push_back("the last line does not end with a line feed");
    int line = 0;
    std::size_t start = 0;
    while (start < text_.size()) {
      ++line;
      auto end = text_.find('\n', start);
      if (end == std::string::npos) end = text_.size();
      std::string_view l(text_.data() + start, end - start);
      start = end + 1;
      if (l.empty()) continue;
      if (l.front() == '#') read_comment(l, line);
      else read_sample(l, line);
    }
    for (auto const& f : families_) {
      if (f.help_lines == 0) problems_.push_back("family " + f.name + " has no # HELP line");
      if (f.type_lines == 0) problems_.push_back("family " + f.name + " has no # TYPE line");
      if (f.samples.empty()) problems_.push_back("family " + f.name + " is written without a sample");
      if (f.type == "counter" && (f.name.size() < 6 || f.name.compare(f.name.size() - 6, 6, "_total") != 0))
        problems_.push_back("the counter " + f.name + " does not end in _total");
    }
  }

  std::string text_;
  std::vector<std::string> problems_;
  std::vector<family> families_;
  std::string current_;
  std::set<std::string> left_;
};

// The contract's families and their types.
inline std::map<std::string, std::string> const contract_types{
    {"http_client_requests_total", "counter"},
    {"http_client_requests_in_flight", "gauge"},
    {"http_client_request_duration_seconds", "summary"},
    {"http_client_connections_total", "counter"},
    {"http_client_connection_reuse_ratio", "gauge"},
    {"http_client_retries_total", "counter"},
    {"http_client_breaker_refusals_total", "counter"},
    {"http_client_breaker_state", "gauge"},
};

// A value read back from text must be the shortest form of a double within
// a rounding of `expected` (the contract does not say how a latency is
// divided into seconds, only how the double is written).
inline bool same_number(std::string const& text, double expected)
{
  auto const v = read_number(text);
  if (!v) return false;
  double const tolerance = std::abs(expected) * 1e-12;
  return std::abs(*v - expected) <= tolerance && shortest(*v) == text;
}

// ---------------------------------------------------------------- requests

inline workbook::client_request make_request(http::verb method, std::string const& target, std::string const& host = "a.test",
                                             std::string body = {})
{
  workbook::client_request r;
  r.message = {method, target, 11};
  if (!host.empty()) r.message.set(http::field::host, host);
  r.message.body() = std::move(body);
  r.message.prepare_payload();
  return r;
}

inline workbook::client_request get(std::string const& target, std::string const& host = "a.test")
{
  return make_request(http::verb::get, target, host);
}

// ---------------------------------------------------------------- the fake upstream

class fake_upstream : public workbook::round_tripper {
public:
  // One request as the upstream received it.
  struct seen {
    std::string method, target, host;
    std::vector<std::string> traceparents, tracestates;
    bool traced = false;  // it carried a client_trace with on_connection
  };

  fake_upstream(asio::io_context& ioc, test_clock clock) : held_(ioc, "upstream"), clock_(std::move(clock)) {}

  int calls() const { return calls_.load(); }
  int held() const { return held_.held(); }
  int reports() const { return reports_.load(); }  // connections reported to a client_trace
  asio::any_io_executor executor() const { return held_.executor(); }
  void quiet(bool q) { held_.quiet(q); }     // no transcript entries
  void silent(bool s) { silent_.store(s); }  // never reports a connection

  std::vector<seen> requests() const
  {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  std::optional<seen> last() const
  {
    std::lock_guard lock(mutex_);
    if (seen_.empty()) return std::nullopt;
    return seen_.back();
  }

  // Answers the held calls whose target begins with `prefix` with
  // `status`, or fails them with `ec`.
  void release(std::string prefix, int status) { held_.release(std::move(prefix), status); }
  void fail(std::string prefix, error_code ec) { held_.fail(std::move(prefix), ec); }

protected:
  void do_round_trip(workbook::client_request request, workbook::round_trip_handler handler) override
  {
    calls_.fetch_add(1);
    auto const& m = request.message;
    seen s;
    s.method = std::string(m.method_string());
    s.target = std::string(m.target());
    if (auto it = m.find(http::field::host); it != m.end()) s.host = std::string(it->value());
    for (auto const& f : m) {
      if (workbook::iequals(f.name_string(), "traceparent")) s.traceparents.emplace_back(f.value());
      if (workbook::iequals(f.name_string(), "tracestate")) s.tracestates.emplace_back(f.value());
    }
    s.traced = request.trace && request.trace->on_connection;
    {
      std::lock_guard lock(mutex_);
      seen_.push_back(s);
    }
    std::string tp;
    for (auto const& t : s.traceparents) tp += " traceparent: " + t;
    held_.note(workbook::transcript::direction::received, s.method + " " + printable(s.target) + " Host: " + printable(s.host) + tp);
    asio::post(held_.executor(), [this, target = s.target, trace = request.trace, handler = std::move(handler)]() mutable {
      serve(target, std::move(trace), std::move(handler));
    });
  }

private:
  // On the strand, from here down.
  void serve(std::string target, std::shared_ptr<workbook::client_trace const> trace, workbook::round_trip_handler handler)
  {
    std::string path = target.substr(0, target.find('?'));
    std::vector<std::string> parts;
    for (std::size_t i = 1; i <= path.size();) {
      auto const end = std::min(path.find('/', i), path.size());
      parts.push_back(path.substr(i, end - i));
      i = end + 1;
    }
    std::size_t k = 0;
    auto next = [&]() -> std::string { return k < parts.size() ? parts[k++] : std::string(); };
    std::optional<bool> reused;
    for (;;) {
      auto const p = next();
      if (p == "took") {
        clock_.advance(milliseconds(std::stoi(next())));
      } else if (p == "reuse") {
        reused = next() == "true";
      } else if (p == "status") {
        report(trace, reused);
        return held_.complete(std::move(handler), {}, workbook::held_calls::response(std::stoi(next())));
      } else if (p == "seq") {
        std::vector<int> statuses;
        std::istringstream list(next());
        for (std::string item; std::getline(list, item, ',');) statuses.push_back(std::stoi(item));
        int const n = ++sequence_[path];
        report(trace, reused);
        return held_.complete(
            std::move(handler), {},
            workbook::held_calls::response(statuses[std::min<std::size_t>(static_cast<std::size_t>(n), statuses.size()) - 1]));
      } else if (p == "refused") {
        return held_.complete(std::move(handler), asio::error::connection_refused, {});
      } else if (p == "hold") {
        // Its connection is reported when the test releases or fails it.
        return held_.hold(target, std::move(handler), [this, trace, reused] { report(trace, reused); });
      } else {
        report(trace, reused);
        return held_.complete(std::move(handler), {}, workbook::held_calls::response(200));
      }
    }
  }

  void report(std::shared_ptr<workbook::client_trace const> const& trace, std::optional<bool> reused)
  {
    if (silent_.load() || !reused || !trace || !trace->on_connection) return;
    reports_.fetch_add(1);
    trace->on_connection({*reused, local(8080)});
  }

  workbook::held_calls held_;
  test_clock clock_;
  std::atomic<int> calls_{0};
  std::atomic<int> reports_{0};
  std::atomic<bool> silent_{false};
  mutable std::mutex mutex_;
  std::vector<seen> seen_;
  std::map<std::string, int> sequence_;        // on the strand: requests per /seq/ path
};

// ---------------------------------------------------------------- answers

// One call on a round tripper and its answer: workbook/round_trip_call.hpp.
// rig::start makes one; start_call(transport, request, cancel_on, caller)
// one on a transport of the test's own.
using answer = workbook::call_answer;
using pending = workbook::pending_call;

// How many log lines and spans the rig's sinks held when a handler ran,
// written by rig::count_sinks() in the handler. Shared with the handler, so
// one that runs after the test stopped waiting writes into live memory.
struct sinks_seen {
  std::atomic<std::size_t> lines{0}, spans{0};
};

// Counts the answers of calls made without waiting for each.
struct tally {
  std::atomic<int> answered{0};
  std::atomic<int> errors{0};
  std::atomic<int> dropped{0};
  int completed() const { return answered + errors; }
  std::string describe() const
  {
    return std::to_string(answered.load()) + " answered, " + std::to_string(errors.load()) + " errors, " +
           std::to_string(dropped.load()) + " handlers dropped uncalled";
  }
};

class counting_handler {
public:
  explicit counting_handler(std::shared_ptr<tally> t) : t_(std::move(t)) {}
  counting_handler(counting_handler&&) noexcept = default;
  counting_handler& operator=(counting_handler&&) noexcept = default;
  counting_handler(counting_handler const&) = delete;
  counting_handler& operator=(counting_handler const&) = delete;
  ~counting_handler()
  {
    if (t_) t_->dropped.fetch_add(1);
  }
  void operator()(error_code ec, workbook::client_response)
  {
    auto t = std::move(t_);
    if (ec) t->errors.fetch_add(1);
    else t->answered.fetch_add(1);
  }

private:
  std::shared_ptr<tally> t_;
};

// `threads` threads, released together, each starting `per_thread` calls
// made by `make` without waiting for their answers.
inline void call_from_threads(workbook::round_tripper& rt, std::function<workbook::client_request()> const& make,
                              int threads, int per_thread, std::shared_ptr<tally> const& t)
{
  std::mutex m;
  std::condition_variable cv;
  bool go = false;
  std::vector<std::thread> callers;
  for (int i = 0; i < threads; ++i)
    callers.emplace_back([&] {
      {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return go; });
      }
      for (int j = 0; j < per_thread; ++j) rt.async_round_trip(make(), counting_handler(t));
    });
  {
    std::lock_guard lock(m);
    go = true;
  }
  cv.notify_all();
  for (auto& c : callers) c.join();
}

// ---------------------------------------------------------------- a service written once

// What a call of the service came back with.
struct service_result {
  bool completed = false;
  bool dropped = false;  // the handler was destroyed without being called
  error_code ec;
  int status = 0;
  workbook::header_list fields;
  std::string body;

  std::string describe() const
  {
    if (dropped) return "no answer: the handler was destroyed without being called";
    if (!completed) return "no answer within 3 s";
    if (ec) return "error " + stretch1_test::describe(ec);
    std::string out = std::to_string(status);
    for (auto const& [k, v] : fields) out += " | " + k + ": " + v;
    return out + " | \"" + printable(body) + "\"";
  }
};

// A client written once against a transport type, as an application's
// service would be: constructed as plain_transport is, called through
// async_round_trip. Replacing the transport is its template argument.
template <class Transport>
class legacy_service {
public:
  legacy_service(asio::any_io_executor executor, asio::ip::tcp::endpoint upstream)
      : transport_{std::move(executor), upstream}, host_("127.0.0.1:" + std::to_string(upstream.port()))
  {
  }

  service_result fetch(std::string const& target) { return send(make_request(http::verb::get, target, host_)); }

  service_result create(std::string const& target, std::string const& order, std::string body)
  {
    auto r = make_request(http::verb::post, target, host_, std::move(body));
    r.message.set("X-Order", order);
    r.message.set(http::field::content_type, "application/json");
    r.message.prepare_payload();
    return send(std::move(r));
  }

  Transport& transport() { return transport_; }
  std::string const& host() const { return host_; }

private:
  service_result send(workbook::client_request r)
  {
    r.message.set(http::field::user_agent, "legacy-service/1.0");
    service_result out;
    // The error comes back as a value, not as a system_error thrown by
    // get(): an exception object handed from an io thread to this one is
    // reference-counted inside libstdc++, where ThreadSanitizer cannot see
    // it, and its release on the io thread was reported as a race.
    auto f = transport_.async_round_trip(std::move(r), asio::use_future([](error_code ec, workbook::client_response res) {
      return std::pair{ec, std::move(res)};
    }));
    if (f.wait_for(3s) != std::future_status::ready) return out;
    out.completed = true;
    try {
      auto [ec, response] = f.get();
      out.ec = ec;
      if (ec) return out;
      out.status = static_cast<int>(response.result_int());
      for (auto const& field : response) out.fields.emplace_back(std::string(field.name_string()), std::string(field.value()));
      out.body = response.body();
    } catch (std::future_error const&) {
      out.completed = false;
      out.dropped = true;
    }
    return out;
  }

  Transport transport_;
  std::string host_;
};

// ---------------------------------------------------------------- the rig

// Your observed_transport on an io_context of two threads, around the fake
// upstream (or, with an endpoint, around a plain_transport of its own),
// with the test's clock, ids, wall clock and sinks; `adjust` changes the
// options before the transport is made. Destroyed bottom-up: the threads
// stop before the transport goes, and the transport before the fake.
struct rig {
  explicit rig(std::function<void(stretch1::observe_options&)> const& adjust = {},
               std::optional<asio::ip::tcp::endpoint> upstream_endpoint = std::nullopt, int zero_draws = 0)
      : random(zero_draws)
  {
    options.client = "test";
    options.clock = clock.function();
    options.wall_clock = fixed_wall_clock();
    options.random = random.source();
    options.log = lines.sink();
    options.on_span = spans.sink();
    if (adjust) adjust(options);
    auto const executor = asio::make_strand(ioc.get_executor());
    if (upstream_endpoint) transport.emplace(executor, *upstream_endpoint, options);
    else transport.emplace(executor, upstream, options);
  }

  // Starts a call; `inside` runs in its handler, before the answer is kept.
  // wait() on it waits up to 2 s.
  pending start(workbook::client_request request, std::function<void()> inside = {},
                std::optional<asio::any_io_executor> handler_executor = std::nullopt)
  {
    auto call = workbook::start_call(*transport, std::move(request), upstream.executor(), caller, std::move(inside),
                                     handler_executor);
    call.patience = 2s;
    return call;
  }
  // A hook for start(): counts the log lines and spans the sinks hold when
  // the handler runs into `seen` (the sinks share their state: no reference
  // to the rig is kept).
  std::function<void()> count_sinks(std::shared_ptr<sinks_seen> seen) const
  {
    return [seen = std::move(seen), log = lines, exported = spans] {
      seen->lines = log.size();
      seen->spans = exported.size();
    };
  }
  answer call(workbook::client_request request, milliseconds within = 2s)
  {
    return start(std::move(request)).wait(within);
  }
  answer call(std::string const& target, std::string const& host = "a.test") { return call(get(target, host)); }

  // Waits until the upstream holds n calls.
  bool until_held(int n, milliseconds within = 2s)
  {
    bool const ok = workbook::eventually([&] { return upstream.held() == n; }, within);
    UNSCOPED_INFO("the upstream holds " << upstream.held() << " calls; the test waited for " << n);
    return ok;
  }

  // A call to /hold... cancelled by its caller once the upstream holds it.
  answer cancelled(workbook::client_request request)
  {
    int const before = upstream.held();
    auto p = start(std::move(request));
    if (!until_held(before + 1)) return p.wait(0ms);
    p.cancel();
    return p.wait(2s);
  }

  std::string text() const { return transport->metrics().exposition(); }
  exposition metrics() const { return exposition::parse(text()); }

  asio::io_context ioc;
  test_clock clock;
  fake_upstream upstream{ioc, clock};
  counting_random random;
  line_sink lines;
  span_log spans;
  stretch1::observe_options options;
  int caller = workbook::transcript::open_connection("caller");
  std::optional<stretch1::observed_transport> transport;
  workbook::io_threads threads{ioc, 2};  // last: joined first
};

// The labels of a series of the rig's client.
inline labels series_of(std::string const& client, std::string const& host, labels more = {})
{
  more["client"] = client;
  more["host"] = host;
  return more;
}

inline labels request_labels(std::string const& client, std::string const& host, std::string const& method,
                             std::string const& status)
{
  return series_of(client, host, {{"method", method}, {"status", status}});
}

} // namespace stretch1_test
