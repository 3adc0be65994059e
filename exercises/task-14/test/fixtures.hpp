// Task 14 · test helpers: your server on 127.0.0.1 (port 0) with options the
// tests choose, the tests' own idea of an event's bytes, a parser of event
// streams that follows the HTML standard, and a client that reads a chunked
// stream as it arrives, keeping every chunk with the moment it came.
#pragma once

#include "event_stream.hpp"

#include <workbook/elapsed.hpp>
#include <workbook/http.hpp>
#include <workbook/io_threads.hpp>
#include <workbook/process.hpp>
#include <workbook/transcript.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace task14_test {

namespace net = boost::asio;
using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;
using workbook::between;
using workbook::since;
using workbook::transcript::printable;

// ---------------------------------------------------------------- what the server says

// The data the tests' event source gives event `id`.
inline std::string tick_data(std::uint64_t id) { return "tick " + std::to_string(id); }

// An event as the contract describes it, written independently of yours:
// the data cut at every "\r\n", "\n" and lone "\r".
inline std::string expected_event(std::uint64_t id, std::string_view data)
{
  std::string out = "id: " + std::to_string(id) + "\n";
  std::string line;
  for (std::size_t i = 0; i <= data.size(); ++i) {
    bool const end = i == data.size();
    if (end || data[i] == '\n' || data[i] == '\r') {
      out += "data: " + line + "\n";
      line.clear();
      if (!end && data[i] == '\r' && i + 1 < data.size() && data[i + 1] == '\n') ++i;
    } else {
      line += data[i];
    }
  }
  return out + "\n";
}

// What an EventSource hands its onmessage handler for that data: the lines
// joined by "\n".
inline std::string data_as_received(std::string_view data)
{
  std::string out;
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '\r') {
      out += '\n';
      if (i + 1 < data.size() && data[i + 1] == '\n') ++i;
    } else {
      out += data[i];
    }
  }
  return out;
}

// The options the tests start from: a 50 ms tick, no heartbeat, no retry
// line, deadlines long enough not to matter, and the tests' event source.
inline task14::stream_options test_options()
{
  task14::stream_options o;
  o.tick = milliseconds(50);
  o.heartbeat = milliseconds(0);
  o.retry = milliseconds(0);
  o.request_timeout = milliseconds(2000);
  o.write_timeout = milliseconds(2000);
  o.close_after = 0;
  o.page = "<!doctype html><title>events</title><p>events</p>\n";
  o.data = tick_data;
  return o;
}

// ---------------------------------------------------------------- the server

// Your server on 127.0.0.1, port 0, its io_context run by `threads` threads.
// Destroyed bottom-up: the threads stop before the server goes.
struct running_server {
  explicit running_server(task14::stream_options options = test_options(), int threads = 2)
      : server(ioc, {net::ip::make_address("127.0.0.1"), 0}, std::move(options))
  {
    server.start();
    port = server.local_endpoint().port();
    io.emplace(ioc, threads);
  }
  ~running_server() { io.reset(); }

  std::size_t open_streams() const { return server.open_streams(); }

  net::io_context ioc;
  task14::event_server server;
  unsigned short port = 0;
  std::optional<workbook::io_threads> io;
};

inline std::string get_request(std::string const& target = "/events", workbook::header_list const& extra = {})
{
  std::string out = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n";
  for (auto const& [name, value] : extra) out += name + ": " + value + "\r\n";
  return out + "\r\n";
}

// ---------------------------------------------------------------- the standard's parser

struct sse_event {
  std::string id;     // the last event id when it was dispatched
  std::string type;   // "message" unless an event: field said otherwise
  std::string data;
  clock_type::time_point at;
};

// The event-stream parser of the HTML standard (9.2.6, "Interpreting an
// event stream"), fed bytes as they arrive: lines end at CRLF, LF or CR; a
// blank line dispatches the event (unless its data is empty); a line that
// begins with ':' is a comment; unknown fields are ignored.
class sse_parser {
public:
  void feed(std::string_view bytes, clock_type::time_point at)
  {
    for (char const c : bytes) {
      if (after_cr_) {
        after_cr_ = false;
        if (c == '\n') continue;
      }
      if (c == '\r' || c == '\n') {
        line(at);
        after_cr_ = c == '\r';
        pending_.clear();
      } else {
        pending_ += c;
      }
    }
  }

  std::vector<sse_event> events;
  std::vector<std::string> comments;
  std::optional<std::string> retry;
  std::string last_event_id;

private:
  void line(clock_type::time_point at)
  {
    std::string_view const l = pending_;
    if (l.empty()) {
      if (data_.empty()) {
        type_.clear();
        return;
      }
      if (data_.back() == '\n') data_.pop_back();
      events.push_back({last_event_id, type_.empty() ? "message" : type_, data_, at});
      data_.clear();
      type_.clear();
      return;
    }
    if (l.front() == ':') {
      comments.emplace_back(l.substr(1));
      return;
    }
    auto const colon = l.find(':');
    std::string_view name = l, value;
    if (colon != std::string_view::npos) {
      name = l.substr(0, colon);
      value = l.substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (name == "event") type_ = value;
    else if (name == "data") (data_ += value) += '\n';
    else if (name == "id" && value.find('\0') == std::string_view::npos) last_event_id = value;
    else if (name == "retry" && !value.empty() &&
             std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
      retry = std::string(value);
  }

  std::string pending_;
  bool after_cr_ = false;
  std::string data_;
  std::string type_;
};

// ---------------------------------------------------------------- a stream client

struct chunk {
  std::string data;
  clock_type::time_point at;  // when its last byte was read
};

// One connection on a bare non-blocking socket: it sends a request, then
// reads the response as it arrives, every wait bounded. A chunked body is
// taken apart strictly as Beast's make_chunk writes it (hex size, CRLF, the
// bytes, CRLF; the last chunk "0" CRLF CRLF), each chunk kept with the
// moment it was complete, and anything else is a framing error. Every byte of
// the body goes through the standard's parser too. Exchanges go to the
// transcript (the first 4 KiB of each direction) unless `quiet`.
class sse_connection {
public:
  explicit sse_connection(unsigned short port, int receive_buffer = 0, bool quiet = false)
      : quiet_(quiet)
  {
    if (!quiet_) id_ = workbook::transcript::open_connection();
    fd_ = workbook::unique_fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (fd_.get() < 0) {
      fail("socket: " + errno_text());
      return;
    }
    if (receive_buffer > 0) ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      if (errno != EINPROGRESS) {
        fail("connect to 127.0.0.1:" + std::to_string(port) + " failed: " + errno_text());
        return;
      }
      pollfd p{fd_.get(), POLLOUT, 0};
      if (::poll(&p, 1, 2000) <= 0) {
        fail("connect to 127.0.0.1:" + std::to_string(port) + ": no answer within 2000 ms");
        return;
      }
      int error = 0;
      socklen_t len = sizeof error;
      ::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &error, &len);
      if (error != 0) {
        fail("connect to 127.0.0.1:" + std::to_string(port) + " failed: " + std::strerror(error));
        return;
      }
    }
    connected_ = true;
    note("connected to 127.0.0.1:" + std::to_string(port) +
         (receive_buffer > 0 ? " (SO_RCVBUF " + std::to_string(receive_buffer) + ")" : ""));
  }

  bool connected() const { return connected_; }
  std::string const& error() const { return error_; }
  int fd() const { return fd_.get(); }

  // Sends all of `bytes` within 2 s; false when that failed.
  bool send(std::string_view bytes)
  {
    if (!connected_) return false;
    if (!quiet_) workbook::transcript::record(id_, workbook::transcript::direction::sent, bytes);
    auto const deadline = clock_type::now() + milliseconds(2000);
    while (!bytes.empty()) {
      ssize_t const n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n > 0) {
        bytes.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        note("send failed: " + errno_text());
        return false;
      }
      pollfd p{fd_.get(), POLLOUT, 0};
      if (::poll(&p, 1, static_cast<int>(std::max<long long>(0, between(clock_type::now(), deadline).count()))) <= 0) {
        note("send: the server took no more bytes within 2000 ms");
        return false;
      }
    }
    return true;
  }

  // Reads whatever the socket holds now (at most `max_bytes` of it), without
  // waiting.
  void pump(std::size_t max_bytes = std::numeric_limits<std::size_t>::max())
  {
    if (!connected_ || ended) return;
    char buffer[16 * 1024];
    while (max_bytes > 0) {
      ssize_t const n = ::recv(fd_.get(), buffer, std::min(sizeof buffer, max_bytes), 0);
      if (n > 0) {
        take(std::string_view(buffer, static_cast<std::size_t>(n)));
        max_bytes -= static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n < 0 && errno == EINTR) continue;
      ended = true;
      reset = n < 0;
      ended_at = clock_type::now();
      note(n == 0 ? "the server closed the connection (end of stream)"
                  : "the connection ended: " + errno_text());
      return;
    }
  }

  // Reads as bytes arrive until done() holds (-> true), the connection ends
  // or `within` passes (-> whether done() holds then). It asks done() at
  // least every 64 KiB, so a fast stream is not read further than needed.
  template <class Done>
  bool read_until(Done&& done, milliseconds within)
  {
    auto const deadline = clock_type::now() + within;
    for (;;) {
      pump(64 * 1024);
      if (done()) return true;
      if (!connected_ || ended) return false;
      auto const left = between(clock_type::now(), deadline);
      if (left.count() <= 0) return done();
      pollfd p{fd_.get(), POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(left.count()));
    }
  }

  bool read_head(milliseconds within = milliseconds(2000))
  {
    return read_until([this] { return head_done; }, within);
  }

  // Until the standard's parser has dispatched `n` events.
  bool read_events(std::size_t n, milliseconds within)
  {
    return read_until([this, n] { return parser.events.size() >= n; }, within);
  }

  // Until the server ends the connection.
  bool read_to_end(milliseconds within)
  {
    return read_until([this] { return ended; }, within);
  }

  // Closes this side with a FIN.
  void close()
  {
    if (fd_.get() >= 0) note("the client closes the connection");
    fd_.reset();
    connected_ = false;
  }

  // Closes this side with a reset (SO_LINGER 0).
  void abort()
  {
    if (fd_.get() < 0) return;
    linger l{1, 0};
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
    note("the client resets the connection");
    fd_.reset();
    connected_ = false;
  }

  std::optional<std::string> header(std::string_view name) const
  {
    for (auto const& [n, v] : headers)
      if (workbook::iequals(n, name)) return v;
    return std::nullopt;
  }

  // The response so far, for failure messages.
  std::string describe() const
  {
    std::string out;
    if (!connected_ && !error_.empty()) return "no connection: " + error_;
    if (!head_done) out += "no complete response head (" + std::to_string(raw_.size()) + " bytes: " + printable(raw_) + ")";
    else {
      out += "status " + std::to_string(status) + ", " + (chunked ? "chunked" : "not chunked") + ", " +
             std::to_string(chunks.size()) + " chunks, " + std::to_string(parser.events.size()) + " events, " +
             std::to_string(parser.comments.size()) + " comments";
      if (!framing_error.empty()) out += "; FRAMING: " + framing_error;
      out += "; body so far: " + printable(body, 400);
    }
    if (last_chunk) out += "; the last chunk came";
    if (ended) out += reset ? "; the connection was reset" : "; the server closed the connection";
    return out;
  }

  // The response head.
  bool head_done = false;
  int status = 0;
  workbook::header_list headers;
  clock_type::time_point head_at{};
  bool chunked = false;
  // The body: every chunk, the body's bytes, the first framing error.
  std::vector<chunk> chunks;
  std::string body;
  std::string framing_error;
  bool last_chunk = false;
  // How the connection ended, if it did.
  bool ended = false;
  bool reset = false;
  clock_type::time_point ended_at{};
  // The body read by the standard's parser.
  sse_parser parser;

private:
  void take(std::string_view bytes)
  {
    auto const now = clock_type::now();
    if (!quiet_ && shown_ < 4096) {
      auto const part = bytes.substr(0, 4096 - shown_);
      workbook::transcript::record(id_, workbook::transcript::direction::received, part);
      shown_ += part.size();
      if (shown_ >= 4096) note("(what else arrives is not shown)");
    }
    raw_.append(bytes);
    if (!head_done) {
      auto const end = raw_.find("\r\n\r\n");
      if (end == std::string::npos) return;
      parse_head(raw_.substr(0, end + 2));
      raw_.erase(0, end + 4);
      head_done = true;
      head_at = now;
    }
    if (!chunked) {
      // Not chunked: the body is whatever comes (up to a Content-Length).
      std::string_view piece = raw_;
      if (content_length_ && body.size() + piece.size() > *content_length_) piece = piece.substr(0, *content_length_ - body.size());
      body.append(piece);
      parser.feed(piece, now);
      raw_.clear();
      return;
    }
    parse_chunks(now);
  }

  void parse_head(std::string_view head)
  {
    auto const line_end = head.find("\r\n");
    std::string_view const status_line = head.substr(0, line_end);
    if (status_line.size() >= 12 && status_line.substr(0, 5) == "HTTP/")
      status = std::atoi(std::string(status_line.substr(9, 3)).c_str());
    for (std::size_t at = line_end + 2; at < head.size();) {
      auto const end = head.find("\r\n", at);
      std::string_view const field = head.substr(at, end - at);
      at = end + 2;
      auto const colon = field.find(':');
      if (colon == std::string_view::npos) continue;
      std::string name(field.substr(0, colon));
      std::string_view value = field.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
      if (workbook::iequals(name, "transfer-encoding") && workbook::iequals(value, "chunked")) chunked = true;
      if (workbook::iequals(name, "content-length")) content_length_ = std::stoul(std::string(value));
      headers.emplace_back(std::move(name), std::string(value));
    }
  }

  void parse_chunks(clock_type::time_point now)
  {
    while (framing_error.empty()) {
      if (last_chunk) {
        if (!raw_.empty()) framing_error = "bytes after the last chunk: " + printable(raw_, 60);
        return;
      }
      auto const line_end = raw_.find("\r\n");
      if (line_end == std::string::npos) {
        if (raw_.size() > 20) framing_error = "a chunk size line that does not end: " + printable(raw_, 60);
        return;
      }
      std::string_view const size_text = std::string_view(raw_).substr(0, line_end);
      if (size_text.empty() || size_text.size() > 16 ||
          !std::all_of(size_text.begin(), size_text.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; })) {
        framing_error = "not a chunk size line: " + printable(raw_, 60);
        return;
      }
      std::size_t const size = std::stoul(std::string(size_text), nullptr, 16);
      if (size == 0) {
        if (raw_.size() < line_end + 4) return;
        if (raw_.compare(line_end + 2, 2, "\r\n") != 0) {
          framing_error = "the last chunk is not followed by CRLF: " + printable(raw_, 60);
          return;
        }
        last_chunk = true;
        raw_.erase(0, line_end + 4);
        continue;
      }
      if (raw_.size() < line_end + 2 + size + 2) return;  // the rest of this chunk is on its way
      if (raw_.compare(line_end + 2 + size, 2, "\r\n") != 0) {
        framing_error = "a chunk of " + std::to_string(size) + " bytes is not followed by CRLF";
        return;
      }
      chunks.push_back({raw_.substr(line_end + 2, size), now});
      body += chunks.back().data;
      parser.feed(chunks.back().data, now);
      raw_.erase(0, line_end + 2 + size + 2);
    }
  }

  void fail(std::string why)
  {
    error_ = std::move(why);
    note(error_);
  }

  void note(std::string const& text)
  {
    if (!quiet_) workbook::transcript::note(id_, text);
  }

  static std::string errno_text() { return std::strerror(errno); }

  bool quiet_;
  int id_ = 0;
  workbook::unique_fd fd_;
  bool connected_ = false;
  std::string error_;
  std::string raw_;
  std::optional<std::size_t> content_length_;
  std::size_t shown_ = 0;
};

// A stream client that has sent its request: GET `target` with `extra`
// headers.
inline std::unique_ptr<sse_connection> open_stream(unsigned short port, workbook::header_list const& extra = {},
                                                   std::string const& target = "/events", int receive_buffer = 0,
                                                   bool quiet = false)
{
  auto c = std::make_unique<sse_connection>(port, receive_buffer, quiet);
  if (c->connected()) c->send(get_request(target, extra));
  return c;
}

// The ids of the events the parser dispatched, as numbers (0 for an id that
// is not one).
inline std::vector<std::uint64_t> ids_of(std::vector<sse_event> const& events)
{
  std::vector<std::uint64_t> out;
  for (auto const& e : events) {
    std::uint64_t n = 0;
    bool ok = !e.id.empty();
    for (char const c : e.id) {
      if (c < '0' || c > '9') ok = false;
      else n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    out.push_back(ok ? n : 0);
  }
  return out;
}

inline std::vector<std::uint64_t> sequence(std::uint64_t first, std::size_t count)
{
  std::vector<std::uint64_t> out;
  for (std::size_t i = 0; i < count; ++i) out.push_back(first + i);
  return out;
}

inline std::string list(std::vector<std::uint64_t> const& ids)
{
  std::string out = "[";
  for (auto const id : ids) out += (out.size() > 1 ? ", " : "") + std::to_string(id);
  return out + "]";
}

} // namespace task14_test
