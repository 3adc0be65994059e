// Task 17 · test helpers: your server on 127.0.0.1 (port 0) with options the
// tests choose, the requests they send, the tests' own idea of an echo
// reply, and a client on a bare socket that speaks HTTP until the 101 and
// lines after it, every wait bounded, every byte in the transcript.
#pragma once

#include "upgrade.hpp"

#include <workbook/elapsed.hpp>
#include <workbook/http.hpp>
#include <workbook/io_threads.hpp>
#include <workbook/process.hpp>
#include <workbook/transcript.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace task17_test {

namespace net = boost::asio;
using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;
using workbook::between;
using workbook::since;
using workbook::transcript::printable;

// ---------------------------------------------------------------- what the server says

// The reply to a line (given without its line end), as the contract
// describes it, written independently of yours: ASCII a-z made A-Z, every
// other byte as it came, then "\n".
inline std::string expected_reply(std::string_view line)
{
  std::string out(line);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out + "\n";
}

// The options the tests start from: deadlines long enough not to matter,
// unless a test shortens the one it is about.
inline task17::upgrade_options test_options()
{
  task17::upgrade_options o;
  o.request_timeout = milliseconds(3000);
  o.write_timeout = milliseconds(3000);
  o.echo_timeout = milliseconds(3000);
  o.max_line = 64 * 1024;
  return o;
}

// ---------------------------------------------------------------- the server

// Your server on 127.0.0.1, port 0, its io_context run by `threads` threads.
// Destroyed bottom-up: the threads stop before the server goes.
struct running_server {
  explicit running_server(task17::upgrade_options options = test_options(), int threads = 2)
      : server(ioc, {net::ip::make_address("127.0.0.1"), 0}, options)
  {
    server.start();
    port = server.local_endpoint().port();
    io.emplace(ioc, threads);
  }
  ~running_server() { io.reset(); }

  std::size_t echo_connections() const { return server.echo_connections(); }

  net::io_context ioc;
  task17::upgrade_server server;
  unsigned short port = 0;
  std::optional<workbook::io_threads> io;
};

// ---------------------------------------------------------------- requests

// A request as bytes: the request line, Host, the fields given (in order,
// as given: the tests choose their case and their lists), the blank line.
inline std::string request_text(std::string const& target, workbook::header_list const& fields,
                                std::string const& method = "GET", std::string const& version = "HTTP/1.1")
{
  std::string out = method + " " + target + " " + version + "\r\nHost: 127.0.0.1\r\n";
  for (auto const& [name, value] : fields) out += name + ": " + value + "\r\n";
  return out + "\r\n";
}

// The plain upgrade to echo.
inline std::string upgrade_request(std::string const& target = "/echo")
{
  return request_text(target, {{"Upgrade", "echo"}, {"Connection", "Upgrade"}});
}

// ---------------------------------------------------------------- the client

struct response_head {
  int status = 0;
  std::string status_line;
  workbook::header_list fields;
  std::string raw;  // the head's bytes, blank line included

  std::optional<std::string> field(std::string_view name) const
  {
    for (auto const& [n, v] : fields)
      if (workbook::iequals(n, name)) return v;
    return std::nullopt;
  }

  // Does any line of this field hold `token` in its comma-separated list?
  bool has_token(std::string_view name, std::string_view token) const
  {
    for (auto const& [n, v] : fields) {
      if (!workbook::iequals(n, name)) continue;
      std::size_t at = 0;
      while (at <= v.size()) {
        auto const comma = std::min(v.find(',', at), v.size());
        std::string_view item = std::string_view(v).substr(at, comma - at);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (workbook::iequals(item, token)) return true;
        at = comma + 1;
      }
    }
    return false;
  }
};

struct http_answer {
  response_head head;
  std::string body;
};

// One connection on a bare non-blocking socket with TCP_NODELAY: every send
// is a segment of its own, every wait is bounded, and what the server sends
// is kept until a test takes it, so the bytes after a response's head are
// there for the next read. Exchanges go to the transcript (the first 4 KiB
// of each direction). A receive_buffer > 0 sets SO_RCVBUF before connecting:
// a small window, for a client that stops reading.
class line_client {
public:
  explicit line_client(unsigned short port, int receive_buffer = 0)
  {
    id_ = workbook::transcript::open_connection();
    fd_ = workbook::unique_fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (fd_.get() < 0) {
      fail("socket: " + errno_text());
      return;
    }
    int const one = 1;
    ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (receive_buffer > 0) ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      if (errno != EINPROGRESS) {
        fail("connect to 127.0.0.1:" + std::to_string(port) + " failed: " + errno_text() +
             (port == 0 ? " (port 0: did the server bind and listen, and report its port?)" : ""));
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
    note("connected to 127.0.0.1:" + std::to_string(port));
  }

  bool connected() const { return connected_; }
  std::string const& error() const { return error_; }

  // Sends all of `bytes` within 2 s; false when that failed.
  bool send(std::string_view bytes)
  {
    if (!connected_) return false;
    record(workbook::transcript::direction::sent, bytes, sent_shown_);
    last_sent_at = clock_type::now();
    auto const deadline = clock_type::now() + milliseconds(2000);
    while (!bytes.empty()) {
      ssize_t const n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n > 0) {
        bytes.remove_prefix(static_cast<std::size_t>(n));
        last_sent_at = clock_type::now();
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        note("send failed: " + errno_text());
        return false;
      }
      pollfd p{fd_.get(), POLLOUT, 0};
      if (::poll(&p, 1, left_until(deadline)) <= 0) {
        note("send: the server took no more bytes within 2000 ms");
        return false;
      }
    }
    return true;
  }

  // Sends each piece as a segment of its own, with a short pause between
  // them, so that the server most likely reads them apart: what a slow
  // network does to a line. (The pause makes the split likely, not certain;
  // nothing is asserted about it.)
  bool send_pieces(std::vector<std::string> const& pieces, milliseconds gap = milliseconds(15))
  {
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      if (i > 0) std::this_thread::sleep_for(gap);
      if (!send(pieces[i])) return false;
    }
    return true;
  }

  // Sends as much of `bytes` as the socket takes now, without waiting: for a
  // client that writes more than it reads. Returns how much was taken.
  std::size_t send_some(std::string_view bytes)
  {
    if (!connected_) return 0;
    ssize_t const n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    return n > 0 ? static_cast<std::size_t>(n) : 0;
  }

  // A response's head: the status line, the fields, the blank line. The
  // bytes after it stay for the next read.
  std::optional<response_head> read_head(milliseconds within = milliseconds(1000))
  {
    auto const deadline = clock_type::now() + within;
    std::size_t end = std::string::npos;
    while ((end = input_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill(deadline)) {
        note(ended ? "no complete response head before the connection ended"
                   : "no complete response head within " + std::to_string(within.count()) + " ms");
        return std::nullopt;
      }
    }
    response_head head;
    head.raw = input_.substr(0, end + 4);
    input_.erase(0, end + 4);
    std::string_view const text(head.raw);
    auto const line_end = text.find("\r\n");
    head.status_line = std::string(text.substr(0, line_end));
    if (head.status_line.size() >= 12 && head.status_line.compare(0, 5, "HTTP/") == 0)
      head.status = std::atoi(head.status_line.substr(9, 3).c_str());
    for (std::size_t at = line_end + 2; at + 2 < text.size();) {
      auto const next = text.find("\r\n", at);
      std::string_view const field = text.substr(at, next - at);
      at = next + 2;
      auto const colon = field.find(':');
      if (colon == std::string_view::npos) continue;
      std::string_view value = field.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
      head.fields.emplace_back(std::string(field.substr(0, colon)), std::string(value));
    }
    return head;
  }

  // A whole response: the head and a Content-Length body (no body without
  // one: the server's responses other than the 101 all have one).
  std::optional<http_answer> read_response(milliseconds within = milliseconds(1000))
  {
    auto const deadline = clock_type::now() + within;
    auto head = read_head(within);
    if (!head) return std::nullopt;
    http_answer out{*head, {}};
    auto const length = head->field("Content-Length");
    if (!length) return out;
    std::size_t const n = std::strtoul(length->c_str(), nullptr, 10);
    auto body = read_exactly(n, between(clock_type::now(), deadline));
    if (!body) return std::nullopt;
    out.body = std::move(*body);
    return out;
  }

  // One line, its "\n" included, within `within`.
  std::optional<std::string> read_line(milliseconds within = milliseconds(1000))
  {
    auto const deadline = clock_type::now() + within;
    std::size_t eol = std::string::npos;
    while ((eol = input_.find('\n')) == std::string::npos) {
      if (!fill(deadline)) {
        note(ended ? "no complete line before the connection ended"
                   : "no complete line within " + std::to_string(within.count()) + " ms");
        return std::nullopt;
      }
    }
    std::string line = input_.substr(0, eol + 1);
    input_.erase(0, eol + 1);
    return line;
  }

  std::optional<std::string> read_exactly(std::size_t n, milliseconds within)
  {
    auto const deadline = clock_type::now() + within;
    while (input_.size() < n) {
      if (!fill(deadline)) {
        note("only " + std::to_string(input_.size()) + " of " + std::to_string(n) + " bytes arrived");
        return std::nullopt;
      }
    }
    std::string out = input_.substr(0, n);
    input_.erase(0, n);
    return out;
  }

  // True when nothing arrives for `d`: no byte, no close.
  bool stays_quiet(milliseconds d)
  {
    auto const deadline = clock_type::now() + d;
    std::size_t const before = input_.size();
    while (!ended && input_.size() == before && clock_type::now() < deadline) fill(deadline);
    return !ended && input_.size() == before;
  }

  // True when the server ends the connection (a FIN or a reset) within
  // `within`, or has already; bytes that come before the end are kept.
  bool wait_closed(milliseconds within)
  {
    auto const deadline = clock_type::now() + within;
    while (!ended && clock_type::now() < deadline) fill(deadline);
    return ended;
  }

  // What arrived and no read has taken yet.
  std::string const& unread() const { return input_; }

  // Ends this side's sending (a FIN); the client can still read.
  void shutdown_send()
  {
    if (!connected_) return;
    ::shutdown(fd_.get(), SHUT_WR);
    note("the client ends its side (FIN); it goes on reading");
  }

  // Closes this side with a FIN.
  void close()
  {
    if (fd_.get() >= 0) note("the client closes the connection");
    fd_.reset();
    connected_ = false;
  }

  bool ended = false;  // the server ended the connection
  bool reset = false;  // ... with a reset
  clock_type::time_point ended_at{};
  clock_type::time_point last_sent_at{};

private:
  // Waits until `deadline` for bytes or the end, and takes what there is.
  // False when nothing came: the time is up, or the connection is over.
  bool fill(clock_type::time_point deadline)
  {
    if (!connected_ || ended) return false;
    for (;;) {
      char buffer[16 * 1024];
      ssize_t const n = ::recv(fd_.get(), buffer, sizeof buffer, 0);
      if (n > 0) {
        std::string_view const got(buffer, static_cast<std::size_t>(n));
        record(workbook::transcript::direction::received, got, received_shown_);
        input_.append(got);
        return true;
      }
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        ended = true;
        reset = n < 0;
        ended_at = clock_type::now();
        note(n == 0 ? "the server closed the connection (end of stream)" : "the connection ended: " + errno_text());
        return false;
      }
      if (n < 0 && errno == EINTR) continue;
      int const wait = left_until(deadline);
      if (wait <= 0) return false;
      pollfd p{fd_.get(), POLLIN, 0};
      ::poll(&p, 1, wait);
    }
  }

  static int left_until(clock_type::time_point deadline)
  {
    auto const left = between(clock_type::now(), deadline).count();
    return static_cast<int>(std::max<long long>(0, left));
  }

  void record(workbook::transcript::direction dir, std::string_view bytes, std::size_t& shown)
  {
    constexpr std::size_t limit = 4096;
    if (shown >= limit) return;
    auto const part = bytes.substr(0, limit - shown);
    workbook::transcript::record(id_, dir, part);
    shown += part.size();
    if (shown >= limit)
      note(std::string("(what else is ") + (dir == workbook::transcript::direction::sent ? "sent" : "received") +
           " is not shown)");
  }

  void fail(std::string why)
  {
    error_ = std::move(why);
    note(error_);
  }

  void note(std::string const& text) { workbook::transcript::note(id_, text); }

  static std::string errno_text() { return std::strerror(errno); }

  int id_ = 0;
  workbook::unique_fd fd_;
  bool connected_ = false;
  std::string error_;
  std::string input_;
  std::size_t sent_shown_ = 0;
  std::size_t received_shown_ = 0;
};

// A client that has sent `request` and read the response's head.
struct opened {
  std::unique_ptr<line_client> client;
  std::optional<response_head> head;

  bool upgraded() const { return head && head->status == 101; }
  std::string describe() const
  {
    if (!client->connected()) return "no connection: " + client->error();
    if (!head) return "no response head; received " + printable(client->unread());
    return "the response head: " + printable(head->raw);
  }
};

inline opened open_with(unsigned short port, std::string const& request)
{
  opened o{std::make_unique<line_client>(port), std::nullopt};
  if (o.client->connected() && o.client->send(request)) o.head = o.client->read_head();
  return o;
}

// A connection switched to echo by the plain upgrade request.
inline opened open_echo(unsigned short port) { return open_with(port, upgrade_request()); }

// Sends `line` and its line end, and reads one reply; "" with a note when
// none came.
inline std::string round_trip(line_client& c, std::string_view line, std::string_view end = "\n",
                            milliseconds within = milliseconds(1000))
{
  if (!c.send(std::string(line) + std::string(end))) return "(could not send)";
  auto reply = c.read_line(within);
  return reply ? *reply : std::string("(no reply: ") + (c.ended ? "the connection ended)" : "none in time)");
}

} // namespace task17_test
