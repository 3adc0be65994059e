// Task 15 · test helpers: your server on 127.0.0.1 (port 0) with a record
// source the tests can watch, a client that reads a response's body a piece
// at a time and keeps none of it, and a checker that parses a stream of
// records as its pieces arrive (a quick path for plainly written records,
// Boost.JSON's basic_parser for the rest) and compares every record with
// the one the source made. For small bodies the tests also parse the whole
// body with nlohmann::json, a second parser that shares no code with the
// first.
#pragma once

#include "records.hpp"

#include <workbook/elapsed.hpp>
#include <workbook/eventually.hpp>
#include <workbook/http.hpp>
#include <workbook/io_threads.hpp>
#include <workbook/sanitizers.hpp>
#include <workbook/transcript.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/basic_parser_impl.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace task15_test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;
using workbook::since;
using workbook::transcript::printable;

// ---------------------------------------------------------------- sizes


// The big streams: the seed's million records in the dev build. A
// sanitizer makes the server and the test's parsing several times slower,
// so there the streams are scaled down (WORKBOOK_SANITIZED); what the tests
// prove does not depend on the size as long as a stream is far larger than
// the heap bound (200,000 records are about 9 MB) and than the sockets'
// buffers (a few MiB on loopback).
#ifdef WORKBOOK_SANITIZED
inline constexpr std::uint64_t big_stream = 200'000;
#else
inline constexpr std::uint64_t big_stream = 1'000'000;
#endif

inline constexpr std::size_t KiB = 1024;
inline constexpr std::size_t MiB = 1024 * 1024;

// What the whole test process may gain on the heap while a big stream goes
// through: the server's session and its batch, the test's client (a 64 KiB
// piece and a 64 KiB read buffer) and checker, and the transcript. The
// reference's streams gain about 0.1 MiB; a server that holds the body, or
// produces faster than the client reads, needs tens of megabytes.
inline constexpr std::size_t heap_bound = 2 * MiB;

// A receive buffer for clients that pause: small, so that the room between
// the two ends is mostly the server's send buffer.
inline constexpr int small_receive_buffer = 64 * 1024;

// The most a TCP socket's send buffer grows to on its own
// (/proc/sys/net/ipv4/tcp_wmem, third field): 4 MiB unless tuned.
inline std::size_t tcp_wmem_max()
{
  std::ifstream in("/proc/sys/net/ipv4/tcp_wmem");
  std::size_t low = 0, initial = 0, max = 0;
  in >> low >> initial >> max;
  return in && max > 0 ? max : 4 * MiB;
}

// ---------------------------------------------------------------- the source

// The record source the tests give your server: make_record(i), counted.
// It can hold the call for one record back until the client says it has
// its first records (at most 1 s): a server that produces that record
// before it has written the first ones makes the client wait in vain.
struct production {
  explicit production(std::optional<std::uint64_t> hold = std::nullopt) : hold_at(hold) {}

  std::atomic<std::uint64_t> calls{0};              // records the source has handed out
  std::optional<std::uint64_t> const hold_at;
  std::atomic<bool> hold_reached{false};            // the server asked for record hold_at
  std::atomic<bool> client_was_first{false};        // ... and the client had its first records by then
  std::atomic<bool> hold_over{false};               // ... and the source has answered that call

  // The hold is over, and the client was not first: the server produced
  // record hold_at before the client had anything.
  bool produced_too_early() const { return hold_over && !client_was_first; }

  // Called by the test once the client has parsed its first records.
  void client_has_first()
  {
    std::lock_guard lock(mutex_);
    client_has_first_ = true;
    cv_.notify_all();
  }

  void on_call(std::uint64_t i)
  {
    calls.fetch_add(1, std::memory_order_relaxed);
    if (!hold_at || i != *hold_at || hold_reached.exchange(true)) return;
    std::unique_lock lock(mutex_);
    client_was_first = cv_.wait_for(lock, std::chrono::seconds(1), [this] { return client_has_first_; });
    hold_over = true;
  }

private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool client_has_first_ = false;
};

inline task15::record_source observed(std::shared_ptr<production> p)
{
  return [p = std::move(p)](std::uint64_t i) {
    p->on_call(i);
    return task15::make_record(i);
  };
}

// ---------------------------------------------------------------- the server

// A stall deadline long enough that no test trips it by accident, short
// enough that a test against a server that hangs still ends.
inline task15::server_options test_options(milliseconds stall = milliseconds(3000))
{
  task15::server_options o;
  o.stall_timeout = stall;
  return o;
}

// Your server on 127.0.0.1, port 0, its io_context run by `threads`
// threads. Destroyed bottom-up: the threads stop before the server goes.
struct running_server {
  explicit running_server(task15::record_source source = task15::make_record,
                          task15::server_options options = test_options(), int threads = 1)
      : server(ioc, {net::ip::make_address("127.0.0.1"), 0}, std::move(source), options)
  {
    server.start();
    io.emplace(ioc, threads);
  }
  ~running_server() { io.reset(); }

  unsigned short port() const { return server.local_endpoint().port(); }

  net::io_context ioc;
  task15::records_server server;
  std::optional<workbook::io_threads> io;
};

inline std::string get_request(std::string_view target, std::string_view more = {})
{
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + std::string(more) + "\r\n";
}

// ---------------------------------------------------------------- printing

inline std::string describe(task15::record const& r)
{
  return "{id " + std::to_string(r.id) + ", name \"" + printable(r.name) + "\", value " + std::to_string(r.value) + "}";
}

// ---------------------------------------------------------------- the client

// One client connection that sends what it is given and reads each
// response's body a piece at a time into a fixed 64 KiB buffer, keeping
// none of it (Beast's response_parser<buffer_body>, without the 8 MiB body
// limit). Every operation runs on a private io_context under its own
// deadline, as the harness's clients do, so every wait is bounded. The
// transcript shows the requests, each response's header and the first
// 2 KiB of its body.
class stream_client {
public:
  explicit stream_client(unsigned short port, milliseconds timeout = milliseconds(5000), int receive_buffer = 0)
      : timeout_(timeout), stream_(ioc_), piece_(64 * KiB), id_(workbook::transcript::open_connection())
  {
    beast::error_code ec;
    stream_.socket().open(tcp::v4(), ec);
    // A receive buffer set before connecting keeps the kernel from growing it.
    if (!ec && receive_buffer > 0) stream_.socket().set_option(net::socket_base::receive_buffer_size(receive_buffer), ec);
    ec = run([&](auto handler) {
      stream_.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), std::move(handler));
    });
    connected_ = !ec;
    if (connected_) {
      beast::error_code ignored;
      workbook::transcript::register_client_port(stream_.socket().local_endpoint(ignored).port());
      workbook::transcript::note(id_, "connected to 127.0.0.1:" + std::to_string(port));
    } else {
      workbook::transcript::note(id_, "connect to 127.0.0.1:" + std::to_string(port) + " failed: " + ec.message());
    }
    buffer_.reserve(piece_.size());  // reads as large as a piece (beast::read_size)
  }

  bool connected() const { return connected_; }

  // Sends `GET target` and reads the response's header.
  bool get(std::string_view target, std::string_view more_fields = {})
  {
    return send(get_request(target, more_fields)) && read_header();
  }

  bool send(std::string_view bytes)
  {
    if (!connected_) return false;
    workbook::transcript::record(id_, workbook::transcript::direction::sent, bytes);
    auto const ec = run([&](auto handler) {
      net::async_write(stream_, net::buffer(bytes.data(), bytes.size()), std::move(handler));
    });
    if (ec) return failed(ec, "send failed");
    return true;
  }

  // Reads the next response's status line and fields.
  bool read_header()
  {
    parser_.emplace();
    parser_->body_limit(boost::none);  // a million records are far more than Beast's 8 MiB
    body_bytes_ = 0;
    recorded_ = 0;
    headers_.clear();
    status_ = 0;
    if (!connected_ || error_) return false;
    auto const ec = run([&](auto handler) { http::async_read_header(stream_, buffer_, *parser_, std::move(handler)); });
    if (ec) return failed(ec, "no response header");
    auto const& msg = parser_->get();
    status_ = static_cast<int>(msg.result_int());
    for (auto const& f : msg) headers_.emplace_back(std::string(f.name_string()), std::string(f.value()));
    std::ostringstream head;
    head << msg.base();
    workbook::transcript::record(id_, workbook::transcript::direction::received, head.str());
    return true;
  }

  int status() const { return status_; }
  std::optional<std::string> header(std::string_view name) const
  {
    for (auto const& [k, v] : headers_)
      if (workbook::iequals(k, name)) return v;
    return std::nullopt;
  }
  // The response's media type, without parameters, in lower case.
  std::string media_type() const
  {
    auto type = header("Content-Type").value_or("(none)");
    type = type.substr(0, type.find(';'));
    while (!type.empty() && type.back() == ' ') type.pop_back();
    for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return type;
  }
  bool chunked() const { return parser_ && parser_->chunked(); }

  // The next piece of the body (a view of the client's buffer, valid until
  // the next call). Empty once the body is complete (done()) or when reading
  // failed (error(): the connection's end, a reset, or a timeout).
  std::string_view read_some()
  {
    while (parser_ && !parser_->is_done() && !error_) {
      auto& body = parser_->get().body();
      body.data = piece_.data();
      body.size = piece_.size();
      auto ec = run([&](auto handler) { http::async_read_some(stream_, buffer_, *parser_, std::move(handler)); });
      if (ec == http::error::need_buffer) ec = {};
      std::size_t const got = piece_.size() - body.size;
      body_bytes_ += got;
      record_body({piece_.data(), got});
      if (ec) {
        failed(ec, "the body ended after " + std::to_string(body_bytes_) + " bytes");
        if (got == 0) return {};
      }
      if (got > 0) return {piece_.data(), got};
    }
    return {};
  }

  // Reads the rest of a (small) body into a string.
  std::string read_rest()
  {
    std::string out;
    for (auto piece = read_some(); !piece.empty(); piece = read_some()) out.append(piece);
    return out;
  }

  bool done() const { return parser_ && parser_->is_done(); }
  beast::error_code error() const { return error_; }
  std::uint64_t body_bytes() const { return body_bytes_; }

  // Closes the connection at once, whatever is still unread: the kernel
  // answers anything the server sends from now on with a reset.
  void close()
  {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    workbook::transcript::note(id_, "the client closed the connection");
  }

  // What went wrong, for a failure message.
  std::string describe_error() const
  {
    if (!error_) return "the connection is fine";
    if (error_ == beast::error::timeout) return "nothing arrived for as long as the client waits (" + std::to_string(timeout_.count()) + " ms)";
    if (error_ == http::error::partial_message) return "the connection closed in the middle of the body";
    if (error_ == http::error::end_of_stream || error_ == net::error::eof) return "the connection closed";
    return error_.message();
  }

private:
  template <class Start>
  beast::error_code run(Start start)
  {
    beast::error_code result = net::error::would_block;
    stream_.expires_after(timeout_);
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc_.restart();
    ioc_.run();
    return result;
  }

  bool failed(beast::error_code ec, std::string const& what)
  {
    error_ = ec;
    workbook::transcript::note(id_, what + ": " + describe_error());
    return false;
  }

  // The first 2 KiB of each body go to the transcript; the rest is counted.
  void record_body(std::string_view piece)
  {
    constexpr std::size_t shown = 2 * KiB;
    if (recorded_ >= shown || piece.empty()) return;
    auto const part = piece.substr(0, shown - recorded_);
    workbook::transcript::record(id_, workbook::transcript::direction::received, part);
    recorded_ += part.size();
    if (recorded_ == shown) workbook::transcript::note(id_, "(the rest of the body is read, checked and not shown)");
  }

  milliseconds timeout_;
  net::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::buffer_body>> parser_;
  std::vector<char> piece_;
  int id_;
  bool connected_ = false;
  beast::error_code error_;
  int status_ = 0;
  workbook::header_list headers_;
  std::uint64_t body_bytes_ = 0;
  std::size_t recorded_ = 0;
};

// ---------------------------------------------------------------- checking a stream

enum class format { json, ndjson };

// The record the source made for index i: make_record, or a test's own.
using expected_records = std::function<task15::record(std::uint64_t)>;

// JSON's whitespace (RFC 8259 §2).
inline bool json_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

inline char const* skip_space(char const* p, char const* end)
{
  while (p != end && json_space(*p)) ++p;
  return p;
}

// The quick way through one record, for the records a server writes
// plainly: an object whose members are "id", "name" and "value" once each,
// in any order, with whitespace anywhere between tokens; integers without
// a fraction, exponent or leading zero; a name of well-formed UTF-8 with
// the two-character escapes and \u escapes of ASCII characters. It reads
// from p, and on `ok` leaves p after the closing brace. Anything else (a
// \u escape beyond ASCII, bytes that are not UTF-8, another member, a
// number it cannot take, the end of the input) is `other`: the caller then
// hands the whole record to Boost.JSON, which parses it strictly and says
// what is wrong. So this path never accepts what JSON does not, and never
// has to explain a rejection. (It exists for speed: a million records in a
// build without optimisation.)
enum class quick { ok, other };

inline bool quick_digits(char const*& p, char const* end, std::uint64_t& out)
{
  if (p == end || *p < '0' || *p > '9') return false;
  if (*p == '0' && p + 1 != end && p[1] >= '0' && p[1] <= '9') return false;  // a leading zero is not JSON
  std::uint64_t n = 0;
  for (; p != end && *p >= '0' && *p <= '9'; ++p) {
    if (n > (UINT64_MAX - 9) / 10) return false;  // near overflow: let Boost.JSON judge
    n = n * 10 + static_cast<std::uint64_t>(*p - '0');
  }
  // A number ends at whitespace, a comma or a brace; a point, an exponent
  // or anything else is for Boost.JSON.
  if (p == end || !(json_space(*p) || *p == ',' || *p == '}')) return false;
  out = n;
  return true;
}

// The length of the well-formed UTF-8 sequence at p (RFC 3629, table 3-7
// of Unicode), 0 when there is none.
inline std::size_t utf8_sequence(char const* p, char const* end)
{
  auto const at = [&](std::size_t i) { return static_cast<unsigned char>(p[i]); };
  auto const left = static_cast<std::size_t>(end - p);
  auto const in = [&](std::size_t i, unsigned lo, unsigned hi) { return i < left && at(i) >= lo && at(i) <= hi; };
  unsigned const c = at(0);
  if (c >= 0xc2 && c <= 0xdf) return in(1, 0x80, 0xbf) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    unsigned const lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
    return in(1, lo, hi) && in(2, 0x80, 0xbf) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    unsigned const lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
    return in(1, lo, hi) && in(2, 0x80, 0xbf) && in(3, 0x80, 0xbf) ? 4 : 0;
  }
  return 0;
}

inline int hex_digit(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

inline bool quick_name(char const*& p, char const* end, std::string& out)
{
  if (p == end || *p != '"') return false;
  ++p;
  out.clear();
  char const* run = p;
  while (p != end) {
    auto const c = static_cast<unsigned char>(*p);
    if (c == '"') {
      out.append(run, static_cast<std::size_t>(p - run));
      ++p;
      return true;
    }
    if (c < 0x20) return false;  // a raw control character: not JSON
    if (c >= 0x80) {
      auto const n = utf8_sequence(p, end);
      if (n == 0) return false;
      p += n;
      continue;
    }
    if (c != '\\') {
      ++p;
      continue;
    }
    out.append(run, static_cast<std::size_t>(p - run));
    if (++p == end) return false;
    switch (*p) {
    case '"': out += '"'; break;
    case '\\': out += '\\'; break;
    case '/': out += '/'; break;
    case 'b': out += '\b'; break;
    case 'f': out += '\f'; break;
    case 'n': out += '\n'; break;
    case 'r': out += '\r'; break;
    case 't': out += '\t'; break;
    case 'u': {
      // \u00XX for a character of ASCII; any other code point is Boost.JSON's.
      if (end - p < 5) return false;
      int code = 0;
      for (int i = 1; i <= 4; ++i) {
        int const d = hex_digit(p[i]);
        if (d < 0) return false;
        code = code * 16 + d;
      }
      if (code >= 0x80) return false;
      out += static_cast<char>(code);
      p += 4;
      break;
    }
    default: return false;  // not an escape
    }
    run = ++p;
  }
  return false;
}

inline quick quick_record(char const*& from, char const* end, task15::record& out)
{
  char const* p = from;
  if (p == end || *p != '{') return quick::other;
  bool seen_id = false, seen_name = false, seen_value = false;
  for (int member = 0; member < 3; ++member) {
    p = skip_space(p + 1, end);  // after the brace or the comma
    // The member's name: id, name or value, each once.
    if (end - p < 4 || *p != '"') return quick::other;
    bool* seen = nullptr;
    if (std::memcmp(p, "\"id\"", 4) == 0) seen = &seen_id, p += 4;
    else if (end - p >= 6 && std::memcmp(p, "\"name\"", 6) == 0) seen = &seen_name, p += 6;
    else if (end - p >= 7 && std::memcmp(p, "\"value\"", 7) == 0) seen = &seen_value, p += 7;
    if (!seen || *seen) return quick::other;
    *seen = true;
    p = skip_space(p, end);
    if (p == end || *p != ':') return quick::other;
    p = skip_space(p + 1, end);
    if (seen == &seen_id) {
      if (!quick_digits(p, end, out.id)) return quick::other;
    } else if (seen == &seen_name) {
      if (!quick_name(p, end, out.name)) return quick::other;
    } else {
      bool const negative = p != end && *p == '-';
      if (negative) ++p;
      std::uint64_t magnitude = 0;
      auto const limit = static_cast<std::uint64_t>(INT64_MAX) + (negative ? 1 : 0);
      if (!quick_digits(p, end, magnitude) || magnitude > limit) return quick::other;
      // -2^63 has no positive twin in int64: negate in unsigned arithmetic.
      out.value = negative ? static_cast<std::int64_t>(0 - magnitude) : static_cast<std::int64_t>(magnitude);
    }
    p = skip_space(p, end);
    if (p == end || *p != (member < 2 ? ',' : '}')) return quick::other;
  }
  from = p + 1;
  return quick::ok;
}

// Boost.JSON's SAX handler (the interface of boost::json::basic_parser) for
// one record, the strict way: the document must be an object with exactly
// the members id, name and value, of the right types. It collects the
// record; the first problem is kept, and stops the parse.
class record_events {
public:
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);
  using error_code = boost::system::error_code;
  using string_view = boost::json::string_view;

  record_events()
  {
    key_.reserve(64);
    record_.name.reserve(1024);
  }

  // A new document, record `index` of the stream.
  void start(std::uint64_t index)
  {
    index_ = index;
    depth_ = 0;
    seen_id_ = seen_name_ = seen_value_ = complete_ = false;
    key_.clear();
    record_.name.clear();
    problem_.clear();
  }
  bool complete() const { return complete_; }
  task15::record const& record() const { return record_; }
  std::string const& problem() const { return problem_; }

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_array_begin(error_code& ec) { return fail(ec, where() + " is an array" + (depth_ == 0 ? ", not a record" : "")); }
  bool on_array_end(std::size_t, error_code&) { return true; }
  bool on_object_begin(error_code& ec)
  {
    if (depth_ != 0) return fail(ec, where() + " is an object");
    depth_ = 1;
    return true;
  }
  bool on_object_end(std::size_t, error_code& ec)
  {
    char const* missing = !seen_id_ ? "id" : !seen_name_ ? "name" : !seen_value_ ? "value" : nullptr;
    if (missing) return fail(ec, name() + " has no member \"" + missing + "\"");
    depth_ = 0;
    complete_ = true;
    return true;
  }
  bool on_key_part(string_view s, std::size_t, error_code&)
  {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(string_view s, std::size_t, error_code& ec)
  {
    key_.append(s.data(), s.size());
    bool* seen = key_ == "id" ? &seen_id_ : key_ == "name" ? &seen_name_ : key_ == "value" ? &seen_value_ : nullptr;
    if (!seen) return fail(ec, name() + " has a member \"" + printable(key_) + "\"");
    if (*seen) return fail(ec, name() + " has \"" + key_ + "\" twice");
    *seen = true;
    member_ = key_ == "id" ? member::id : key_ == "name" ? member::name : member::value;
    key_.clear();
    return true;
  }
  bool on_string_part(string_view s, std::size_t, error_code& ec)
  {
    if (depth_ != 1 || member_ != member::name) return fail(ec, where() + " is a string");
    record_.name.append(s.data(), s.size());
    return true;
  }
  bool on_string(string_view s, std::size_t, error_code& ec) { return on_string_part(s, 0, ec); }
  bool on_number_part(string_view, error_code&) { return true; }
  bool on_int64(std::int64_t i, string_view text, error_code& ec)
  {
    if (depth_ != 1 || member_ == member::name) return fail(ec, where() + " is the number " + std::string(text));
    if (member_ == member::value) record_.value = i;
    else if (i < 0) return fail(ec, name() + " has a negative id, " + std::string(text));
    else record_.id = static_cast<std::uint64_t>(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, string_view text, error_code& ec)
  {
    if (depth_ != 1 || member_ != member::id)
      return fail(ec, where() + " is the number " + std::string(text) + (member_ == member::value ? ", beyond int64" : ""));
    record_.id = u;
    return true;
  }
  bool on_double(double, string_view text, error_code& ec)
  {
    return fail(ec, where() + " is " + std::string(text) + ", not an integer");
  }
  bool on_bool(bool, error_code& ec) { return fail(ec, where() + " is true or false"); }
  bool on_null(error_code& ec) { return fail(ec, where() + " is null"); }
  bool on_comment_part(string_view, error_code&) { return true; }
  bool on_comment(string_view, error_code&) { return true; }

private:
  enum class member { id, name, value };

  std::string name() const { return "record " + std::to_string(index_); }
  std::string where() const
  {
    if (depth_ == 0) return name();
    return name() + "'s \"" + (member_ == member::id ? "id" : member_ == member::name ? "name" : "value") + "\"";
  }
  bool fail(error_code& ec, std::string what)
  {
    if (problem_.empty()) problem_ = std::move(what);
    ec = make_error_code(boost::system::errc::invalid_argument);
    return false;
  }

  std::uint64_t index_ = 0;
  int depth_ = 0;
  std::string key_;
  member member_ = member::id;
  bool seen_id_ = false, seen_name_ = false, seen_value_ = false, complete_ = false;
  task15::record record_;
  std::string problem_;
};

// Checks a body of records as its pieces arrive, holding no more than one
// record: a JSON array, its framing ([, commas, ]) followed byte by byte
// and each element parsed as soon as it is whole; or NDJSON, cut into
// lines, each line one record. Every record is compared with expected(i).
// A record is parsed by quick_record() when it can be, by Boost.JSON's
// basic_parser otherwise. feed() returns false once the body has gone
// wrong; finish() says whether what ended was whole.
class stream_checker {
public:
  explicit stream_checker(format f, expected_records expected = task15::make_record)
      : format_(f), expected_(std::move(expected)), parser_(boost::json::parse_options{})
  {
    carry_.reserve(4 * KiB);
    record_.name.reserve(1024);
  }
  stream_checker(stream_checker const&) = delete;
  stream_checker& operator=(stream_checker const&) = delete;

  std::uint64_t records() const { return records_; }
  std::string const& problem() const { return problem_; }
  bool ok() const { return problem_.empty(); }

  bool feed(std::string_view piece)
  {
    if (!ok()) return false;
    if (format_ == format::json) feed_array(piece.data(), piece.data() + piece.size());
    else feed_lines(piece);
    offset_ += piece.size();
    return ok();
  }

  // The body has ended: was it whole?
  bool finish()
  {
    if (!ok()) return false;
    if (format_ == format::json && (place_ != place::done || !carry_.empty()))
      fail("the body ended (after " + std::to_string(offset_) + " bytes and " + std::to_string(records_) +
           " records) before the array did");
    if (format_ == format::ndjson && !carry_.empty())
      fail("the body ends with a line that has no \"\\n\": \"" + printable(carry_) + "\"");
    return ok();
  }

private:
  // Where the JSON array's framing is, between elements.
  enum class place { before_array, first, next, after, done };

  void fail(std::string what)
  {
    if (problem_.empty()) problem_ = std::move(what);
  }

  void compare(task15::record const& got)
  {
    auto const want = expected_(records_);
    if (!(got == want))
      fail("record " + std::to_string(records_) + " is " + describe(got) + " where the source made " + describe(want));
    ++records_;
  }

  // One whole record's text in [b, e), the strict way: Boost.JSON, and
  // nothing but whitespace after the record.
  void parse_strictly(char const* b, char const* e)
  {
    parser_.reset();
    parser_.handler().start(records_);
    boost::system::error_code ec;
    auto const n = parser_.write_some(false, b, static_cast<std::size_t>(e - b), ec);
    auto const& events = parser_.handler();
    if (!events.problem().empty()) return fail(events.problem());
    std::string_view const text(b, static_cast<std::size_t>(e - b));
    if (ec) return fail("record " + std::to_string(records_) + " is not JSON (" + ec.message() + "): \"" + printable(text) + "\"");
    if (skip_space(b + n, e) != e)
      return fail("record " + std::to_string(records_) + " is followed by more than whitespace: \"" + printable(text) + "\"");
    compare(events.record());
  }

  // Where the element that starts with the brace at `from` ends (after its
  // closing brace), following strings and nesting; nullptr when it goes
  // on past `end`. `scan` carries the state from an earlier piece.
  struct scan {
    int depth = 0;
    bool in_string = false;
    bool escaped = false;
  };
  static char const* element_end(scan& s, char const* p, char const* end)
  {
    for (; p != end; ++p) {
      char const c = *p;
      if (s.in_string) {
        if (s.escaped) s.escaped = false;
        else if (c == '\\') s.escaped = true;
        else if (c == '"') s.in_string = false;
      } else if (c == '"') {
        s.in_string = true;
      } else if (c == '{' || c == '[') {
        ++s.depth;
      } else if ((c == '}' || c == ']') && --s.depth == 0) {
        return p + 1;
      }
    }
    return nullptr;
  }

  void feed_array(char const* p, char const* end)
  {
    if (!carry_.empty()) {
      // An element began in an earlier piece: find its end in this one.
      scan s;
      element_end(s, carry_.data(), carry_.data() + carry_.size());
      auto const stop = element_end(s, p, end);
      if (!stop) return carry(p, end);
      carry_.append(p, stop);
      parse_strictly(carry_.data(), carry_.data() + carry_.size());
      carry_.clear();
      p = stop;
      place_ = place::after;
    }
    while (ok()) {
      p = skip_space(p, end);
      if (p == end) return;
      switch (place_) {
      case place::before_array:
        if (*p != '[') return fail("the body does not begin with '[': \"" + printable({p, static_cast<std::size_t>(end - p)}, 60) + "\"");
        ++p;
        place_ = place::first;
        break;
      case place::first:
        if (*p == ']') {
          ++p;
          place_ = place::done;
          break;
        }
        [[fallthrough]];
      case place::next:
        p = element(p, end);
        break;
      case place::after:
        if (*p == ',') place_ = place::next;
        else if (*p == ']') place_ = place::done;
        else return fail("after record " + std::to_string(records_ - 1) + " comes \"" + printable({p, static_cast<std::size_t>(end - p)}, 60) + "\", not a comma or ']'");
        ++p;
        break;
      case place::done:
        return fail("after the array comes \"" + printable({p, static_cast<std::size_t>(end - p)}, 60) + "\"");
      }
    }
  }

  // The element at p (whitespace skipped); returns where the framing goes on.
  char const* element(char const* p, char const* end)
  {
    if (*p != '{') {
      fail("element " + std::to_string(records_) + " is not an object: \"" + printable({p, static_cast<std::size_t>(end - p)}, 60) + "\"" +
           (*p == ']' ? " (a comma before ']'?)" : ""));
      return end;
    }
    char const* q = p;
    if (quick_record(q, end, record_) == quick::ok) {
      compare(record_);
      place_ = place::after;
      return q;
    }
    scan s;
    auto const stop = element_end(s, p, end);
    if (!stop) {
      carry(p, end);
      return end;
    }
    parse_strictly(p, stop);
    place_ = place::after;
    return stop;
  }

  void carry(char const* p, char const* end)
  {
    carry_.append(p, end);
    if (carry_.size() > 64 * KiB) fail("a record of more than 64 KiB: \"" + printable(carry_) + "\"");
  }

  void feed_lines(std::string_view piece)
  {
    while (!piece.empty() && ok()) {
      auto const* nl = static_cast<char const*>(std::memchr(piece.data(), '\n', piece.size()));
      if (!nl) return carry(piece.data(), piece.data() + piece.size());
      auto const length = static_cast<std::size_t>(nl - piece.data());
      if (carry_.empty()) {
        line(piece.data(), nl);
      } else {
        carry_.append(piece.data(), length);
        line(carry_.data(), carry_.data() + carry_.size());
        carry_.clear();
      }
      piece.remove_prefix(length + 1);
    }
  }

  void line(char const* b, char const* e)
  {
    if (skip_space(b, e) == e) return fail("line " + std::to_string(records_) + " is empty");
    char const* q = skip_space(b, e);
    if (quick_record(q, e, record_) == quick::ok && skip_space(q, e) == e) return compare(record_);
    parse_strictly(b, e);
  }

  format format_;
  expected_records expected_;
  boost::json::basic_parser<record_events> parser_;
  task15::record record_;
  std::string carry_;  // a record (or line) that began in an earlier piece
  place place_ = place::before_array;
  std::uint64_t records_ = 0;
  std::uint64_t offset_ = 0;
  std::string problem_;
};

// Reads and checks until at least `records` have been parsed; false when
// the body ended, failed or went wrong first.
inline bool read_records(stream_client& client, stream_checker& checker, std::uint64_t records)
{
  while (checker.records() < records) {
    auto const piece = client.read_some();
    if (piece.empty() || !checker.feed(piece)) return false;
  }
  return true;
}

// Why reading stopped, for a failure message: the checker's problem, or
// the client's error ("" when neither has one).
inline std::string reading_problem(stream_client const& client, stream_checker const& checker)
{
  if (!checker.ok()) return checker.problem();
  if (client.error()) return "after " + std::to_string(checker.records()) + " records: " + client.describe_error();
  return "";
}

// Reads the rest of the client's response through a checker; returns what
// is wrong ("" when nothing is): a problem in the records, a body that did
// not end as it should, or a count that is not `n`.
inline std::string read_and_check(stream_client& client, stream_checker& checker, std::uint64_t n)
{
  for (auto piece = client.read_some(); !piece.empty(); piece = client.read_some())
    if (!checker.feed(piece)) return checker.problem();
  if (!client.done())
    return "the body did not end as its chunks said it would, after " + std::to_string(client.body_bytes()) +
           " bytes and " + std::to_string(checker.records()) + " records: " + client.describe_error();
  if (!checker.finish()) return checker.problem();
  if (checker.records() != n)
    return "the body holds " + std::to_string(checker.records()) + " records; it should hold " + std::to_string(n);
  return "";
}

// What is wrong with a streamed response's header ("" when nothing is).
inline std::string stream_header_problem(stream_client const& client, std::string_view media_type)
{
  if (client.status() != 200) return "status " + std::to_string(client.status()) + ", expected 200";
  if (client.media_type() != media_type)
    return "Content-Type " + client.header("Content-Type").value_or("(none)") + ", expected " + std::string(media_type);
  if (!client.chunked())
    return "the body is not chunked (Transfer-Encoding: " + client.header("Transfer-Encoding").value_or("(none)") + ")";
  if (client.header("Content-Length"))
    return "a chunked response with a Content-Length (" + *client.header("Content-Length") + ")";
  return "";
}

// ---------------------------------------------------------------- whole small bodies

// A record as nlohmann::json parsed it, or what is wrong with it.
inline std::string record_problem(nlohmann::json const& j, task15::record const& want, std::string const& what)
{
  if (!j.is_object()) return what + " is not an object: " + j.dump();
  if (j.size() != 3 || !j.contains("id") || !j.contains("name") || !j.contains("value"))
    return what + " does not have exactly the members id, name and value: " + j.dump();
  auto const& id = j["id"];
  auto const& name = j["name"];
  auto const& value = j["value"];
  if (!id.is_number_integer() || !name.is_string() || !value.is_number_integer())
    return what + " has a member of the wrong type: " + j.dump();
  // nlohmann::json keeps a number without a sign as unsigned.
  if (!id.is_number_unsigned()) return what + " has a negative id: " + id.dump();
  if (value.is_number_unsigned() && value.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
    return what + "'s value is beyond int64: " + value.dump();
  task15::record got;
  got.id = id.get<std::uint64_t>();
  got.value = value.get<std::int64_t>();
  got.name = name.get<std::string>();
  if (!(got == want)) return what + " is " + describe(got) + " where the source made " + describe(want);
  return "";
}

// A whole body parsed by nlohmann::json: a JSON array of n records, or n
// lines of NDJSON; "" when it is exactly that.
inline std::string whole_body_problem(std::string const& body, format f, std::uint64_t n,
                                      expected_records const& expected = task15::make_record)
{
  try {
    if (f == format::json) {
      auto const j = nlohmann::json::parse(body);
      if (!j.is_array()) return "the body is not a JSON array: \"" + printable(body) + "\"";
      if (j.size() != n) return "the array holds " + std::to_string(j.size()) + " elements, not " + std::to_string(n);
      for (std::uint64_t i = 0; i < n; ++i)
        if (auto p = record_problem(j[i], expected(i), "element " + std::to_string(i)); !p.empty()) return p;
      return "";
    }
    if (n == 0) return body.empty() ? "" : "the body of no records is \"" + printable(body) + "\", not empty";
    if (body.empty() || body.back() != '\n') return "the body does not end in \"\\n\": \"" + printable(body) + "\"";
    std::uint64_t i = 0;
    for (std::size_t at = 0; at < body.size(); ++i) {
      auto const nl = body.find('\n', at);
      auto const line = body.substr(at, nl - at);
      at = nl + 1;
      if (i >= n) return "more than " + std::to_string(n) + " lines; line " + std::to_string(i) + " is \"" + printable(line) + "\"";
      auto const j = nlohmann::json::parse(line);
      if (auto p = record_problem(j, expected(i), "line " + std::to_string(i)); !p.empty()) return p;
    }
    if (i != n) return std::to_string(i) + " lines, not " + std::to_string(n);
    return "";
  } catch (nlohmann::json::exception const& e) {
    return std::string("nlohmann::json cannot parse the body: ") + e.what() + "; the body: \"" + printable(body, 400) + "\"";
  }
}

} // namespace task15_test
