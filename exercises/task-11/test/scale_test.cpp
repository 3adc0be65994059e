// Task 11 · acceptance tests for holding many connections, [AC6], [AC8] and
// [AC9] as in README.md: the accept queue, a thousand connections at once,
// running out of descriptors, and what an idle connection costs.
//
// Both ends of every connection live in this process, so a thousand
// connections cost two thousand descriptors: the tests raise this process's
// own soft limit first (and put it back afterwards).
#include "fixtures.hpp"

#include <workbook/eventually.hpp>
#include <workbook/heap.hpp>
#include <workbook/skip.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <sstream>
#include <vector>

using namespace task11_test;
using namespace std::chrono_literals;

namespace {

namespace beast = boost::beast;
using tcp = net::ip::tcp;

// Limits long enough that nothing times out while a test sets up its
// connections: the production defaults.
task11::server_limits patient_limits() { return task11::server_limits{}; }

// ---------------------------------------------------------------- many clients

// `count` connections on one io_context of the test's: all connected first,
// and held open together, then a GET / on every one of them.
class many_clients {
public:
  explicit many_clients(unsigned short port, std::size_t count) : port_(port)
  {
    for (std::size_t i = 0; i < count; ++i) clients_.push_back(std::make_unique<client>(ioc_));
  }

  // Connects them all; how many made it within `within`.
  std::size_t connect_all(milliseconds within)
  {
    tcp::endpoint const server(net::ip::make_address("127.0.0.1"), port_);
    for (auto& c : clients_)
      c->socket.async_connect(server, [this, c = c.get()](beast::error_code ec) {
        if (ec) return fail(*c, "connect: " + ec.message());
        c->connected = true;
        ++connected_;
      });
    run(within);
    return connected_;
  }

  // Sends GET / on every connection, then reads each response; how many
  // were 200 "ok\n" within `within`.
  std::size_t request_all(milliseconds within)
  {
    for (auto& c : clients_) {
      if (!c->connected || c->failed) continue;
      net::async_write(c->socket, net::buffer(request_), [this, c = c.get()](beast::error_code ec, std::size_t) {
        if (ec) return fail(*c, "send: " + ec.message());
        http::async_read(c->socket, c->buffer, c->response, [this, c](beast::error_code ec, std::size_t) {
          if (ec) return fail(*c, "reading the response: " + ec.message());
          if (c->response.result_int() != 200 || c->response.body() != "ok\n")
            return fail(*c, "answered " + std::to_string(c->response.result_int()));
          ++answered_;
        });
      });
    }
    run(within);
    return answered_;
  }

  // What went wrong, most frequent first: "12 × connect: Connection refused".
  std::string errors() const
  {
    std::ostringstream out;
    std::size_t unfinished = 0;
    for (auto const& c : clients_)
      if (!c->failed && (!c->connected || c->response.result_int() == 0)) ++unfinished;
    for (auto const& [what, n] : errors_) out << n << " x " << what << "\n";
    if (unfinished) out << unfinished << " x unfinished when time was up\n";
    return out.str();
  }

  std::size_t size() const { return clients_.size(); }

private:
  struct client {
    explicit client(net::io_context& ioc) : socket(ioc) {}
    tcp::socket socket;
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    bool connected = false;
    bool failed = false;
  };

  void fail(client& c, std::string what)
  {
    c.failed = true;
    ++errors_[std::move(what)];
  }

  // Runs the io_context until its work is done or `within` has passed; then
  // closes every socket so that nothing is left pending.
  void run(milliseconds within)
  {
    ioc_.restart();
    ioc_.run_for(within);
    if (!ioc_.stopped()) {
      for (auto& c : clients_) {
        beast::error_code ignored;
        c->socket.cancel(ignored);
      }
      ioc_.restart();
      ioc_.run();
    }
  }

  unsigned short port_;
  net::io_context ioc_;
  std::vector<std::unique_ptr<client>> clients_;
  std::string const request_ = get("/");
  std::size_t connected_ = 0;
  std::size_t answered_ = 0;
  std::map<std::string, std::size_t> errors_;
};

// Raises this process's soft limit on open files to at least `needed`;
// false when the hard limit does not allow it.
bool ensure_fd_limit(rlim_t needed)
{
  auto const rl = fd_limits();
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= needed) return true;
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < needed) return false;
  return set_soft_fd_limit(needed);
}

// A GET on a bare socket, the response read whole and dropped: no
// transcript, nothing kept, so that the heap this process holds afterwards
// is the server's. -1 on failure.
int bare_get(unsigned short port, std::string const& target, std::string& error)
{
  int const fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  timeval patience{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &patience, sizeof patience);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string const request = get(target);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    error = std::string("connect or send: ") + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  // The response: a head, then Content-Length bytes.
  std::string got;
  std::array<char, 16 * 1024> scratch;
  std::size_t expected = std::string::npos;
  while (expected == std::string::npos || got.size() < expected) {
    ssize_t const n = ::recv(fd, scratch.data(), scratch.size(), 0);
    if (n <= 0) {
      error = "the response ended after " + std::to_string(got.size()) + " bytes: " +
              (n == 0 ? std::string("closed by the server") : std::strerror(errno));
      ::close(fd);
      return -1;
    }
    got.append(scratch.data(), static_cast<std::size_t>(n));
    auto const head_end = got.find("\r\n\r\n");
    if (expected == std::string::npos && head_end != std::string::npos) {
      auto const at = got.find("Content-Length: ");
      if (got.compare(0, 12, "HTTP/1.1 200") != 0 || at == std::string::npos || at > head_end) {
        error = "unexpected response: " + got.substr(0, head_end);
        ::close(fd);
        return -1;
      }
      expected = head_end + 4 + std::stoul(got.substr(at + 16));
    }
  }
  return fd;
}

} // namespace

// ---------------------------------------------------------------- AC6

TEST_CASE("the listening socket's backlog is the longest the system allows", "[AC6]")
{
  running_server s(patient_limits());
  auto const cap = somaxconn();
  REQUIRE(cap > 0);
  int const expected = std::min<int>(+net::socket_base::max_listen_connections, cap);

  auto const queue = read_listen_queue(s.port);
  if (!queue.error.empty()) WORKBOOK_SKIP("cannot read the listen queue through NETLINK_SOCK_DIAG here: " + queue.error);
  INFO("no socket listens on 127.0.0.1:" << s.port << ": did start() listen?");
  REQUIRE(queue.found);
  INFO("listen() was given a backlog of (at least) " << queue.backlog << "; SOMAXCONN is "
       << +net::socket_base::max_listen_connections << " and /proc/sys/net/core/somaxconn " << cap
       << ", so the longest queue this system allows is " << expected << " (what `ss -lnt` shows as Send-Q)");
  CHECK(queue.backlog == static_cast<unsigned>(expected));
}

TEST_CASE("a burst of connections completes its handshakes while no thread is free to accept them", "[AC6]")
{
  fd_limit_guard limit;
  REQUIRE(ensure_fd_limit(1024));
  // The server listens, but its io_context does not run yet: every
  // connection of the burst has to wait in the accept queue.
  running_server s(patient_limits(), 2, /*run_now=*/false);
  int const cap = std::min<int>(+net::socket_base::max_listen_connections, somaxconn());
  std::size_t const burst = static_cast<std::size_t>(std::clamp(cap, 1, 200));

  std::vector<workbook::unique_fd> sockets;
  std::size_t pending = 0;
  for (std::size_t i = 0; i < burst; ++i) {
    workbook::unique_fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    REQUIRE(fd.get() >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(s.port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      INFO("connect: " << std::strerror(errno));
      REQUIRE(errno == EINPROGRESS);
      ++pending;
    }
    sockets.push_back(std::move(fd));
  }
  // A handshake the kernel completes shows as a writable socket. A SYN that
  // found the accept queue full was dropped, and its retry is a second away.
  auto const complete = [&] {
    std::size_t n = 0;
    for (auto const& fd : sockets) {
      pollfd p{fd.get(), POLLOUT, 0};
      int error = 0;
      socklen_t len = sizeof error;
      if (::poll(&p, 1, 0) == 1 && ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &len) == 0 && error == 0) ++n;
    }
    return n;
  };
  bool const all = workbook::eventually([&] { return complete() == burst; }, 500ms);
  INFO(complete() << " of " << burst << " connections completed their handshake within 500 ms while the server "
       "was not accepting (" << pending << " had to wait for it): the rest are waiting for a retry of their SYN, "
       "because the accept queue was full. How long a queue did listen() ask for?");
  CHECK(all);

  // And once the server runs, every one of them is served.
  s.run();
  std::size_t answered = 0;
  std::string const request = get("/");
  for (auto& fd : sockets) ::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL);
  workbook::eventually(
      [&] {
        answered = 0;
        for (auto const& fd : sockets) {
          pollfd p{fd.get(), POLLIN, 0};
          if (::poll(&p, 1, 0) == 1) ++answered;
        }
        return answered == burst;
      },
      3000ms);
  CHECK(answered == burst);
}

// ---------------------------------------------------------------- AC8

TEST_CASE("1000 connections held open at once each complete a request, with no error", "[AC8]")
{
  constexpr std::size_t count = 1000;
  fd_limit_guard limit;
  // Two descriptors per connection (both ends are here), and some to spare.
  if (!ensure_fd_limit(2 * count + 256))
    WORKBOOK_SKIP("this test needs " + std::to_string(2 * count + 256) + " open files and the hard limit is " +
                  std::to_string(fd_limits().rlim_max) + " (`ulimit -Hn`)");
  running_server s(patient_limits(), 2);
  many_clients clients(s.port, count);

  auto const start = clock_type::now();
  auto const connected = clients.connect_all(5000ms);
  auto const connect_time = since(start);
  INFO(connected << " of " << count << " connected; errors:\n" << clients.errors());
  REQUIRE(connected == count);

  auto const answered = clients.request_all(10000ms);
  auto const total = since(start);
  INFO(answered << " of " << count << " answered 200 \"ok\\n\"; errors:\n" << clients.errors());
  CHECK(answered == count);
  WARN(count << " connections: connected in " << connect_time.count() << " ms, all answered after "
             << total.count() << " ms");
}

TEST_CASE("an accept that fails for lack of file descriptors does not stop the server", "[AC8]")
{
  running_server s(patient_limits(), 2);
  {
    // The server accepts at all, before the descriptors run out.
    plain_connection before(s.port);
    REQUIRE(before.connected());
    REQUIRE(before.send(get("/")));
    REQUIRE(before.read_response().status == 200);
  }

  fd_limit_guard limit;
  std::vector<workbook::unique_fd> fillers;
  std::optional<plain_connection> client;
  {
    // Fill the descriptor table: a soft limit just above the descriptors in
    // use, and every free one below it taken.
    int const highest = highest_open_fd();
    REQUIRE(highest >= 0);
    REQUIRE(set_soft_fd_limit(static_cast<rlim_t>(highest) + 16));
    for (;;) {
      workbook::unique_fd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
      if (fd.get() < 0) break;
      fillers.push_back(std::move(fd));
    }
    REQUIRE(!fillers.empty());
    // One free for the client; none left for the server's accept().
    fillers.pop_back();
    client.emplace(s.port);
  }
  // The connection is in the accept queue now, and the server's accept()
  // fails with EMFILE: within microseconds, but give a loaded machine time.
  std::this_thread::sleep_for(200ms);
  bool const connected = client->connected();
  std::string const error = client->error();

  // Descriptors again: the server accepts the connection that waited.
  fillers.clear();
  limit.restore();
  INFO("the client could not connect while the table was full: " << error);
  REQUIRE(connected);
  REQUIRE(client->send(get("/")));
  auto const res = client->read_response(3000ms);
  INFO(res.error << ". While the process had no descriptor to spare, accept() failed with \"too many open "
                    "files\"; once descriptors were free again the server should have accepted this connection. "
                    "Does your accept loop go on after an error?");
  CHECK(res.status == 200);

  // And goes on accepting new ones.
  plain_connection after(s.port);
  REQUIRE(after.connected());
  REQUIRE(after.send(get("/")));
  CHECK(after.read_response().status == 200);
}

// ---------------------------------------------------------------- AC9

TEST_CASE("an idle keep-alive connection costs the server little memory", "[AC9]")
{
  constexpr std::size_t count = 200;
  constexpr std::ptrdiff_t bound = 12 * 1024;  // bytes of heap per idle connection
  fd_limit_guard limit;
  REQUIRE(ensure_fd_limit(2 * count + 256));
  running_server s(patient_limits(), 2);

  std::vector<workbook::unique_fd> idle;
  idle.reserve(count);
  std::string error;
  error.reserve(256);
  {
    // A first connection does what the others will, so that whatever the
    // server allocates once (not per connection) is allocated already.
    workbook::unique_fd warm(bare_get(s.port, "/blob", error));
    INFO(error);
    REQUIRE(warm.get() >= 0);
  }

  auto const before = static_cast<std::ptrdiff_t>(workbook::heap::live_bytes());
  for (std::size_t i = 0; i < count; ++i) {
    // Each fetches a 32 KiB response and then stays open, idle.
    workbook::unique_fd fd(bare_get(s.port, "/blob", error));
    if (fd.get() < 0) break;
    idle.push_back(std::move(fd));
  }
  INFO(error);
  REQUIRE(idle.size() == count);

  // Every one of them was accepted and answered. A session's last handlers
  // run just after its client has read the response: wait for the figure
  // to settle.
  std::ptrdiff_t per_connection = 0;
  bool const small = workbook::eventually(
      [&] {
        per_connection = (static_cast<std::ptrdiff_t>(workbook::heap::live_bytes()) - before) /
                         static_cast<std::ptrdiff_t>(count);
        return per_connection <= bound;
      },
      2000ms);
  WARN("an idle keep-alive connection holds " << per_connection << " bytes of the server's heap (" << count
       << " connections, each after one 32 KiB response; the bound is " << bound << ")");
  INFO("each idle connection holds " << per_connection << " bytes: what does a waiting session keep? Its last "
       "request, its last response, a large buffer reserved up front?");
  CHECK(small);
}
