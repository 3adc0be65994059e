// Task 11 · test helpers: your server on 127.0.0.1 (port 0) with limits the
// tests choose, the application behind it, a plain-socket client that can
// send a byte at a time and tell the server's FIN from a reset, a reader for
// the listening socket's backlog (NETLINK_SOCK_DIAG), and guards for the
// process's limit on open files.
#pragma once

#include "tuned_server.hpp"

#include <workbook/elapsed.hpp>
#include <workbook/http.hpp>
#include <workbook/io_threads.hpp>
#include <workbook/process.hpp>
#include <workbook/transcript.hpp>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace task11_test {

namespace net = boost::asio;
namespace http = boost::beast::http;
using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;
using workbook::since;

// ---------------------------------------------------------------- the application

// GET /big answers 16 MiB (GET /big?bytes=N, N bytes): more than the
// client's receive buffer and the server's send buffer hold together, so its
// write completes only as fast as the client reads. GET /blob answers 32 KiB.
// A POST answers how many body bytes arrived; anything else answers "ok\n".
inline constexpr std::size_t big_body_size = 16 * 1024 * 1024;
inline constexpr std::size_t blob_body_size = 32 * 1024;

inline task11::response application(task11::request const& req)
{
  task11::response res{http::status::ok, req.version()};
  res.set(http::field::content_type, "text/plain");
  std::string_view const target = req.target();
  if (target == "/big") res.body().assign(big_body_size, 'b');
  else if (target.substr(0, 11) == "/big?bytes=") res.body().assign(std::stoull(std::string(target.substr(11))), 'b');
  else if (target == "/blob") res.body().assign(blob_body_size, 'o');
  else if (req.method() == http::verb::post) res.body() = "received " + std::to_string(req.body().size()) + " bytes\n";
  else res.body() = "ok\n";
  return res;
}

// The limits the tests start from: a short header deadline and long ones
// for the other phases. Each test shortens the deadline it is about, so a
// deadline applied to the wrong phase shows as a close at the wrong time.
inline task11::server_limits scaled_limits()
{
  task11::server_limits l;
  l.header_timeout = milliseconds(200);
  l.body_timeout = milliseconds(2000);
  l.write_timeout = milliseconds(2000);
  l.idle_timeout = milliseconds(2000);
  l.header_limit = 8 * 1024;
  l.body_limit = 64 * 1024;
  return l;
}

// The most a TCP socket's send buffer may grow to on its own
// (/proc/sys/net/ipv4/tcp_wmem, third field): 4 MiB unless tuned. 0 if unknown.
inline std::size_t tcp_wmem_max()
{
  std::ifstream in("/proc/sys/net/ipv4/tcp_wmem");
  std::size_t low = 0, initial = 0, max = 0;
  in >> low >> initial >> max;
  return in ? max : 0;
}

// ---------------------------------------------------------------- the server

// Your server on 127.0.0.1, port 0, its io_context run by `threads` threads
// (from the constructor, or from run() for a test that wants connections to
// queue up first). Destroyed bottom-up: the threads stop before the server.
struct running_server {
  explicit running_server(task11::server_limits limits = scaled_limits(), int threads = 2, bool run_now = true)
      : server(ioc, {net::ip::make_address("127.0.0.1"), 0}, limits, application)
  {
    server.start();
    port = server.local_endpoint().port();
    if (run_now) run(threads);
  }
  ~running_server() { io.reset(); }

  void run(int threads = 2) { io.emplace(ioc, threads); }

  net::io_context ioc;
  task11::tuned_server server;
  unsigned short port = 0;
  std::optional<workbook::io_threads> io;
};

inline std::string get(std::string const& target = "/")
{
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
}

// ---------------------------------------------------------------- a plain client

// One TCP connection on a bare non-blocking socket, every wait bounded. It
// sends exactly the bytes it is given, when it is told to (one at a time, if
// need be), and when the connection ends it says how: the server's FIN (end
// of stream) or a reset. Exchanges go to the transcript, large bodies as a
// count.
class plain_connection {
public:
  // receive_buffer > 0: SO_RCVBUF set before connecting, which also stops
  // Linux from growing the buffer on its own (it may grow to 32 MiB).
  explicit plain_connection(unsigned short port, int receive_buffer = 0, milliseconds timeout = milliseconds(2000))
      : id_(workbook::transcript::open_connection())
  {
    fd_ = workbook::unique_fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (fd_.get() < 0) {
      fail("socket: " + errno_text());
      return;
    }
    int const one = 1;
    ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // a byte sent is a byte on the wire
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
      if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
        fail("connect to 127.0.0.1:" + std::to_string(port) + ": no answer within " +
             std::to_string(timeout.count()) + " ms");
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
    connected_at_ = clock_type::now();
    workbook::transcript::note(id_, "connected to 127.0.0.1:" + std::to_string(port) +
                                        (receive_buffer > 0 ? " (SO_RCVBUF " + std::to_string(receive_buffer) + ")" : ""));
  }

  bool connected() const { return connected_; }
  std::string const& error() const { return error_; }
  clock_type::time_point connected_at() const { return connected_at_; }
  int fd() const { return fd_.get(); }

  // Sends all of `bytes` within `within`; false when the connection failed.
  bool send(std::string_view bytes, milliseconds within = milliseconds(2000))
  {
    if (!connected_) return false;
    if (bytes.size() <= 4096) workbook::transcript::record(id_, workbook::transcript::direction::sent, bytes);
    else
      workbook::transcript::record(id_, workbook::transcript::direction::sent,
                                   std::string(bytes.substr(0, 1024)) + "... (" + std::to_string(bytes.size()) + " bytes)");
    auto const deadline = clock_type::now() + within;
    while (!bytes.empty()) {
      ssize_t const n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n > 0) {
        bytes.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        workbook::transcript::note(id_, "send failed: " + errno_text());
        return false;
      }
      if (!wait(POLLOUT, deadline)) {
        workbook::transcript::note(id_, "send: the server took no more bytes within " + std::to_string(within.count()) + " ms");
        return false;
      }
    }
    return true;
  }

  // One response: the head, then a body of Content-Length bytes.
  workbook::response read_response(milliseconds within = milliseconds(2000))
  {
    workbook::response out;
    auto const deadline = clock_type::now() + within;
    std::size_t head_end;
    while ((head_end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (auto problem = receive_more(deadline)) return failed(out, *problem);
    }
    std::string_view head(pending_.data(), head_end + 2);
    // Status line: HTTP/1.1 200 OK
    auto const line_end = head.find("\r\n");
    std::string_view const status_line = head.substr(0, line_end);
    if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/") return failed(out, "not an HTTP response");
    out.status = std::atoi(std::string(status_line.substr(9, 3)).c_str());
    out.reason = std::string(status_line.size() > 13 ? status_line.substr(13) : std::string_view{});
    std::size_t content_length = 0;
    for (std::size_t at = line_end + 2; at < head.size();) {
      auto const end = head.find("\r\n", at);
      std::string_view const field = head.substr(at, end - at);
      at = end + 2;
      auto const colon = field.find(':');
      if (colon == std::string_view::npos) continue;
      std::string name(field.substr(0, colon));
      std::string_view value = field.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      if (workbook::iequals(name, "content-length")) content_length = std::stoul(std::string(value));
      out.headers.emplace_back(std::move(name), std::string(value));
    }
    std::string const head_text(head);
    pending_.erase(0, head_end + 4);
    while (pending_.size() < content_length) {
      if (auto problem = receive_more(deadline)) {
        workbook::transcript::record(id_, workbook::transcript::direction::received, head_text + "\r\n");
        out.status = 0;
        return failed(out, *problem + " (after " + std::to_string(pending_.size()) + " of " +
                               std::to_string(content_length) + " body bytes)");
      }
    }
    out.body = pending_.substr(0, content_length);
    pending_.erase(0, content_length);
    workbook::transcript::record(id_, workbook::transcript::direction::received,
                                 head_text + "\r\n" +
                                     (out.body.size() <= 4096 ? out.body
                                                              : "(" + std::to_string(out.body.size()) + " body bytes)"));
    return out;
  }

  // How the connection ended, if it did.
  struct ending {
    bool closed = false;     // the server ended it: FIN or reset
    bool reset = false;      // ... with a reset
    std::size_t bytes = 0;   // bytes received (and dropped) on the way
    milliseconds at{};       // when, counted from the `start` given
    std::string describe() const
    {
      if (!closed) return "the connection was still open (" + std::to_string(bytes) + " bytes received meanwhile)";
      return std::string(reset ? "reset" : "closed (FIN)") + " by the server after " + std::to_string(at.count()) +
             " ms, " + std::to_string(bytes) + " bytes received before that";
    }
  };

  // Reads, counting and dropping the bytes, until the server ends the
  // connection or `within` has passed.
  ending wait_closed(milliseconds within, clock_type::time_point start)
  {
    ending out;
    out.bytes = pending_.size();
    pending_.clear();
    auto const deadline = clock_type::now() + within;
    std::array<char, 64 * 1024> scratch;
    for (;;) {
      ssize_t const n = ::recv(fd_.get(), scratch.data(), scratch.size(), 0);
      if (n > 0) {
        out.bytes += static_cast<std::size_t>(n);
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        out.closed = true;
        out.reset = n < 0;
        out.at = std::chrono::duration_cast<milliseconds>(clock_type::now() - start);
        workbook::transcript::note(id_, out.describe());
        return out;
      }
      if (!wait(POLLIN, deadline)) break;
    }
    workbook::transcript::note(id_, "still open after waiting " + std::to_string(within.count()) + " ms for the server to close it (" +
                                        std::to_string(out.bytes) + " bytes received)");
    return out;
  }

  // Sends `bytes` one at a time, one every `every`, watching between them
  // for the server to end the connection; then goes on watching until
  // `give_up` after `start`. Whatever the server sends is counted, not kept.
  ending dribble(std::string_view bytes, milliseconds every, milliseconds give_up, clock_type::time_point start)
  {
    workbook::transcript::note(id_, "sending " + std::to_string(bytes.size()) + " bytes one at a time, one every " +
                                        std::to_string(every.count()) + " ms:");
    workbook::transcript::record(id_, workbook::transcript::direction::sent, bytes);
    ending out;
    std::size_t sent = 0;
    for (char const c : bytes) {
      ssize_t const n = ::send(fd_.get(), &c, 1, MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        out.closed = true;
        out.reset = errno == ECONNRESET;
        out.at = std::chrono::duration_cast<milliseconds>(clock_type::now() - start);
        break;
      }
      ++sent;
      auto const next = clock_type::now() + every;
      if (watch(out, next, start)) break;
      if (since(start) >= give_up) break;
    }
    if (!out.closed && since(start) < give_up) watch(out, start + give_up, start);
    workbook::transcript::note(id_, std::to_string(sent) + " of " + std::to_string(bytes.size()) + " bytes sent; " + out.describe());
    return out;
  }

  // Waits, without reading, until something arrives (or the connection
  // ends); false when nothing did within `within`.
  bool wait_readable(milliseconds within) { return connected_ && wait(POLLIN, clock_type::now() + within); }

  void close() { fd_.reset(); }

private:
  // Until `until`: true when the connection ended (recorded in `out`).
  bool watch(ending& out, clock_type::time_point until, clock_type::time_point start)
  {
    std::array<char, 4096> scratch;
    for (;;) {
      ssize_t const n = ::recv(fd_.get(), scratch.data(), scratch.size(), 0);
      if (n > 0) {
        out.bytes += static_cast<std::size_t>(n);
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        out.closed = true;
        out.reset = n < 0;
        out.at = std::chrono::duration_cast<milliseconds>(clock_type::now() - start);
        return true;
      }
      if (!wait(POLLIN, until)) return false;
    }
  }

  // Waits for `events` until `deadline`; false when it passed first.
  bool wait(short events, clock_type::time_point deadline)
  {
    for (;;) {
      auto const left = std::chrono::duration_cast<milliseconds>(deadline - clock_type::now()).count();
      if (left <= 0) return false;
      pollfd p{fd_.get(), events, 0};
      int const ready = ::poll(&p, 1, static_cast<int>(left));
      if (ready > 0) return true;
      if (ready < 0 && errno != EINTR) return false;
    }
  }

  // Appends what arrives by `deadline` to pending_; a description of the
  // problem when nothing can.
  std::optional<std::string> receive_more(clock_type::time_point deadline)
  {
    if (!connected_) return "not connected" + (error_.empty() ? std::string() : ": " + error_);
    std::array<char, 64 * 1024> scratch;
    for (;;) {
      ssize_t const n = ::recv(fd_.get(), scratch.data(), scratch.size(), 0);
      if (n > 0) {
        pending_.append(scratch.data(), static_cast<std::size_t>(n));
        return std::nullopt;
      }
      if (n == 0) return std::string("the server closed the connection before a complete response");
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        return "the connection failed before a complete response: " + errno_text();
      if (!wait(POLLIN, deadline)) return std::string("no complete response in time");
    }
  }

  workbook::response& failed(workbook::response& out, std::string const& problem)
  {
    out.error = problem;
    workbook::transcript::note(id_, problem);
    return out;
  }

  void fail(std::string const& problem)
  {
    error_ = problem;
    workbook::transcript::note(id_, problem);
  }

  static std::string errno_text() { return std::strerror(errno); }

  workbook::unique_fd fd_;
  int id_;
  bool connected_ = false;
  std::string error_;
  std::string pending_;
  clock_type::time_point connected_at_{};
};

// ---------------------------------------------------------------- the listen queue

// What the kernel says about the socket listening on 127.0.0.1:port, asked
// the way `ss -lnt` asks: a NETLINK_SOCK_DIAG dump of the listening TCP
// sockets (linux/inet_diag.h). For a listening socket, idiag_wqueue is the
// backlog that listen() set (after the kernel capped it at somaxconn) and
// idiag_rqueue the connections waiting in the accept queue now.
struct listen_queue {
  bool found = false;
  unsigned backlog = 0;
  unsigned waiting = 0;
  std::string error;
};

inline listen_queue read_listen_queue(unsigned short port)
{
  listen_queue out;
  workbook::unique_fd fd(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (fd.get() < 0) {
    out.error = std::string("socket(AF_NETLINK, NETLINK_SOCK_DIAG): ") + std::strerror(errno);
    return out;
  }
  timeval patience{2, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);

  struct {
    nlmsghdr header;
    inet_diag_req_v2 body;
  } req{};
  req.header.nlmsg_len = sizeof req;
  req.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  req.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.header.nlmsg_seq = 1;
  req.body.sdiag_family = AF_INET;
  req.body.sdiag_protocol = IPPROTO_TCP;
  req.body.idiag_states = 1u << TCP_LISTEN;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd.get(), &req, sizeof req, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) {
    out.error = std::string("sending the sock_diag request: ") + std::strerror(errno);
    return out;
  }

  alignas(nlmsghdr) std::array<char, 32 * 1024> buffer;
  for (;;) {
    ssize_t const n = ::recv(fd.get(), buffer.data(), buffer.size(), 0);
    if (n <= 0) {
      out.error = std::string("reading the sock_diag answer: ") + (n < 0 ? std::strerror(errno) : "end of stream");
      return out;
    }
    std::size_t const size = static_cast<std::size_t>(n);
    for (std::size_t at = 0; at + sizeof(nlmsghdr) <= size;) {
      nlmsghdr header;
      std::memcpy(&header, buffer.data() + at, sizeof header);
      if (header.nlmsg_len < sizeof(nlmsghdr) || at + header.nlmsg_len > size) break;
      if (header.nlmsg_type == NLMSG_DONE) return out;
      if (header.nlmsg_type == NLMSG_ERROR) {
        nlmsgerr err{};
        std::memcpy(&err, buffer.data() + at + NLMSG_HDRLEN, std::min<std::size_t>(sizeof err, header.nlmsg_len - NLMSG_HDRLEN));
        out.error = std::string("sock_diag refused the request: ") + std::strerror(-err.error);
        return out;
      }
      if (header.nlmsg_len >= NLMSG_HDRLEN + sizeof(inet_diag_msg)) {
        inet_diag_msg msg;
        std::memcpy(&msg, buffer.data() + at + NLMSG_HDRLEN, sizeof msg);
        if (ntohs(msg.id.idiag_sport) == port && msg.id.idiag_src[0] == htonl(INADDR_LOOPBACK)) {
          out.found = true;
          out.backlog = msg.idiag_wqueue;
          out.waiting = msg.idiag_rqueue;
        }
      }
      at += NLMSG_ALIGN(header.nlmsg_len);
    }
  }
}

// /proc/sys/net/core/somaxconn: the kernel's cap on any listen() backlog;
// -1 when it cannot be read.
inline int somaxconn()
{
  std::ifstream in("/proc/sys/net/core/somaxconn");
  int value = -1;
  in >> value;
  return in ? value : -1;
}

// ---------------------------------------------------------------- open files

inline rlimit fd_limits()
{
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  return rl;
}

inline bool set_soft_fd_limit(rlim_t soft)
{
  rlimit rl = fd_limits();
  rl.rlim_cur = std::min(soft, rl.rlim_max);
  return ::setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

// Puts the soft limit on open files back as it was when the guard was made
// (the hard limit is never touched: lowering it could not be undone).
class fd_limit_guard {
public:
  fd_limit_guard() : saved_(fd_limits()) {}
  ~fd_limit_guard() { restore(); }
  fd_limit_guard(fd_limit_guard const&) = delete;
  fd_limit_guard& operator=(fd_limit_guard const&) = delete;
  void restore() { set_soft_fd_limit(saved_.rlim_cur); }
  rlimit const& saved() const { return saved_; }

private:
  rlimit saved_;
};

// The highest file descriptor this process has open (-1 if none can be seen).
inline int highest_open_fd()
{
  int highest = -1;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (dirent* entry = ::readdir(dir)) {
      if (entry->d_name[0] == '.') continue;
      highest = std::max(highest, std::atoi(entry->d_name));
    }
    ::closedir(dir);
  }
  return highest;
}

} // namespace task11_test
