// Task 13 · [AC8]: a live exchange. The test starts Debian's nghttpd (no
// TLS) on port 0, asks the kernel which port it got, puts a relay of its own
// in front of it, and runs nghttp through the relay. The relay feeds your
// decoders the bytes of each direction as they come off the sockets, in
// whatever pieces TCP delivers, while passing them on unchanged. nghttp's
// own account of the frames (-v) is the oracle.
//
// Without nghttpd or nghttp installed the cases are skipped, with the
// command that installs them.
#include "fixtures.hpp"

#include <workbook/eventually.hpp>
#include <workbook/process.hpp>
#include <workbook/skip.hpp>
#include <workbook/temp_dir.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace task13_test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace flag = task13::flag;

namespace {

// The size of the file served live: not the captures' size, more than one
// initial window (so flow control takes part), not a multiple of 16384.
constexpr std::size_t live_file_size = 70001;

// A child process in its own process group, killed with its group at the end.
class child_process {
public:
  explicit child_process(std::vector<std::string> argv)
  {
    workbook::spawn_options options;
    options.argv = std::move(argv);
    pid_ = workbook::spawn(options);
  }
  ~child_process()
  {
    workbook::kill_group(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {}
  }
  child_process(child_process const&) = delete;
  child_process& operator=(child_process const&) = delete;
  pid_t pid() const { return pid_; }
  bool running() const
  {
    int status = 0;
    return ::waitpid(pid_, &status, WNOHANG) == 0;
  }

private:
  pid_t pid_ = -1;
};

// The port a process listens on (IPv4), asked of the kernel: its sockets'
// inodes from /proc/<pid>/fd, their states and ports from /proc/net/tcp.
// nghttpd is given port 0, so no other process can take its port between
// a choice and a bind, and it does not say which port it got.
std::optional<unsigned short> listening_port(pid_t pid)
{
  std::set<std::string> inodes;
  std::error_code ec;
  for (auto const& entry : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    auto const target = fs::read_symlink(entry.path(), ec).string();
    if (!ec && target.rfind("socket:[", 0) == 0) inodes.insert(target.substr(8, target.size() - 9));
  }
  std::ifstream table("/proc/net/tcp");
  std::string line;
  std::getline(table, line);  // the column names
  while (std::getline(table, line)) {
    std::istringstream row(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
    row >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode;
    if (state == "0A" && inodes.count(inode)) {  // 0A: LISTEN
      auto const colon = local.find(':');
      if (colon != std::string::npos) return static_cast<unsigned short>(std::stoul(local.substr(colon + 1), nullptr, 16));
    }
  }
  return std::nullopt;
}

// What the relay saw of one direction, decoded as it went by.
struct direction_seen {
  std::size_t bytes = 0;
  std::size_t pieces = 0;
  std::vector<frame> frames;
  std::optional<frame_error> error;
  std::string threw;
};

// A TCP relay on 127.0.0.1 (port 0) in front of `upstream`, for one
// connection, on a thread of its own. Each piece it reads is written on
// and fed to that direction's decoder. Everything it records is read only
// after done() has been seen true (the promise orders the two threads).
class relay {
public:
  explicit relay(unsigned short upstream) : upstream_(upstream)
  {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = loopback(0);
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener_, 1) != 0)
      throw std::runtime_error("the relay cannot listen");
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    finished_ = done_.get_future();
    thread_ = std::thread([this] { run(); });
  }
  ~relay()
  {
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }
  relay(relay const&) = delete;
  relay& operator=(relay const&) = delete;

  unsigned short port() const { return port_; }
  // True once both sides have closed (or the relay gave up), within `timeout`.
  bool done(std::chrono::milliseconds timeout) { return finished_.wait_for(timeout) == std::future_status::ready; }

  direction_seen client, server;
  std::string problem;  // why relaying stopped early, if it did

private:
  static sockaddr_in loopback(unsigned short port)
  {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
  }

  static void take_frames(task13::frame_decoder& d, direction_seen& seen)
  {
    while (!seen.error && seen.threw.empty()) {
      auto r = d.next();
      if (auto* f = std::get_if<frame>(&r)) seen.frames.push_back(std::move(*f));
      else if (auto* e = std::get_if<frame_error>(&r)) seen.error = *e;
      else return;
      if (seen.frames.size() > seen.bytes / task13::frame_header_size + 1) seen.threw = "more frames than bytes";
    }
  }

  void run()
  {
    auto const deadline = std::chrono::steady_clock::now() + 10s;
    int client_fd = -1, server_fd = -1;
    try {
      client_fd = accept_one(deadline);
      if (client_fd >= 0) {
        server_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr = loopback(upstream_);
        if (::connect(server_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
          problem = "cannot connect to nghttpd: " + std::string(std::strerror(errno));
        else
          pass_bytes(client_fd, server_fd, deadline);
      }
    } catch (std::exception const& e) {
      problem = std::string("the relay failed: ") + e.what();
    }
    if (client_fd >= 0) ::close(client_fd);
    if (server_fd >= 0) ::close(server_fd);
    done_.set_value();
  }

  int accept_one(std::chrono::steady_clock::time_point deadline)
  {
    while (!stop_ && std::chrono::steady_clock::now() < deadline) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int const fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) problem = "accept failed: " + std::string(std::strerror(errno));
      return fd;
    }
    problem = "nobody connected to the relay";
    return -1;
  }

  void pass_bytes(int client_fd, int server_fd, std::chrono::steady_clock::time_point deadline)
  {
    task13::frame_decoder from_client(task13::sender::client);
    task13::frame_decoder from_server(task13::sender::server);
    struct side {
      int from, to;
      task13::frame_decoder* decoder;
      direction_seen* seen;
      bool open = true;
    } sides[] = {{client_fd, server_fd, &from_client, &client}, {server_fd, client_fd, &from_server, &server}};
    char buf[65536];
    while ((sides[0].open || sides[1].open) && !stop_) {
      if (std::chrono::steady_clock::now() > deadline) {
        problem = "the exchange took more than 10 s";
        return;
      }
      pollfd p[2] = {{sides[0].open ? client_fd : -1, POLLIN, 0}, {sides[1].open ? server_fd : -1, POLLIN, 0}};
      if (::poll(p, 2, 50) <= 0) continue;
      for (int i = 0; i < 2; ++i) {
        if (!sides[i].open || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        auto const n = ::recv(sides[i].from, buf, sizeof buf, 0);
        if (n <= 0) {
          sides[i].open = false;
          ::shutdown(sides[i].to, SHUT_WR);
          continue;
        }
        std::string_view const piece(buf, static_cast<std::size_t>(n));
        for (std::size_t sent = 0; sent < piece.size();) {
          auto const w = ::send(sides[i].to, piece.data() + sent, piece.size() - sent, MSG_NOSIGNAL);
          if (w <= 0) break;
          sent += static_cast<std::size_t>(w);
        }
        auto& seen = *sides[i].seen;
        seen.bytes += piece.size();
        ++seen.pieces;
        try {
          sides[i].decoder->feed(piece);
          take_frames(*sides[i].decoder, seen);
        } catch (std::exception const& e) {
          seen.threw = e.what();
        } catch (...) {
          seen.threw = "something that is not a std::exception";
        }
      }
    }
  }

  unsigned short upstream_;
  int listener_ = -1;
  unsigned short port_ = 0;
  std::atomic<bool> stop_{false};
  std::promise<void> done_;
  std::future<void> finished_;
  std::thread thread_;
};

std::string live_file()
{
  std::string out(live_file_size, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return out;
}

std::string describe(direction_seen const& d)
{
  decoded as{d.frames, d.error, 0, d.threw};
  return std::to_string(d.bytes) + " bytes in " + std::to_string(d.pieces) + " pieces: " + task13_test::describe(as);
}

// Runs nghttp through a relay to a fresh nghttpd, and checks what both
// sides sent: the request on `request_stream`, the file in the response.
void live_exchange(std::vector<std::string> nghttp_options, std::uint32_t request_stream)
{
  auto const nghttpd = workbook::find_program("nghttpd");
  if (!nghttpd) WORKBOOK_SKIP("nghttpd is not installed: apt install nghttp2-server");
  auto const nghttp = workbook::find_program("nghttp");
  if (!nghttp) WORKBOOK_SKIP("nghttp is not installed: apt install nghttp2-client");

  workbook::temp_dir docroot("task13-live");
  auto const content = live_file();
  std::ofstream(docroot.path() / "file", std::ios::binary) << content;

  child_process server({*nghttpd, "--no-tls", "-a", "127.0.0.1", "-d", docroot.path().string(), "0"});
  std::optional<unsigned short> port;
  bool const listening = workbook::eventually([&] { return (port = listening_port(server.pid())).has_value() || !server.running(); }, 5000ms);
  INFO("nghttpd " << (server.running() ? "runs" : "has exited"));
  REQUIRE(listening);
  REQUIRE(port);

  relay r(*port);
  std::vector<std::string> argv = {*nghttp, "-nv"};
  argv.insert(argv.end(), nghttp_options.begin(), nghttp_options.end());
  argv.push_back("http://127.0.0.1:" + std::to_string(r.port()) + "/file");
  auto const run = workbook::run_process(argv, 10000ms);
  INFO("nghttp said:\n" << run.output);
  REQUIRE_FALSE(run.timed_out);
  REQUIRE(run.exit_code == 0);
  REQUIRE(r.done(5000ms));
  INFO("the relay: " << r.problem);
  CHECK(r.problem.empty());

  // The client: nothing wrong, and exactly the frames nghttp says it sent.
  INFO("from nghttp: " << describe(r.client));
  CHECK(r.client.threw.empty());
  CHECK_FALSE(r.client.error);
  CHECK(as_seen(r.client.frames, "send") == nghttp_frames(run.output, "send"));
  REQUIRE(!r.client.frames.empty());
  CHECK(r.client.frames.front().type == frame_type::settings);
  frame const* request = nullptr;
  for (auto const& f : r.client.frames)
    if (f.type == frame_type::headers && !request) request = &f;
  REQUIRE(request);
  CHECK(request->stream_id == request_stream);
  CHECK(request->has(flag::end_headers));
  CHECK(request->has(flag::end_stream));

  // The server: nothing wrong, what nghttp says it received, and the file.
  INFO("from nghttpd: " << describe(r.server));
  CHECK(r.server.threw.empty());
  CHECK_FALSE(r.server.error);
  auto const received = nghttp_frames(run.output, "recv");
  REQUIRE(r.server.frames.size() >= received.size());
  CHECK(as_seen(std::vector<frame>(r.server.frames.begin(), r.server.frames.begin() + static_cast<std::ptrdiff_t>(received.size())), "recv") == received);
  REQUIRE(!r.server.frames.empty());
  CHECK(r.server.frames.front().type == frame_type::settings);
  std::string body;
  bool ended = false;
  for (auto const& f : r.server.frames) {
    if (f.type != frame_type::data || f.stream_id != request_stream) continue;
    CHECK_FALSE(ended);
    body += f.payload;
    ended = f.has(flag::end_stream);
  }
  CHECK(ended);
  CHECK(body.size() == live_file_size);
  CHECK(body == content);
}

} // namespace

TEST_CASE("live: nghttp --no-dep through a relay to nghttpd, both directions decoded as they pass", "[AC8]")
{
  live_exchange({"--no-dep"}, 1);
}

TEST_CASE("live: nghttp without --no-dep, the request on stream 13 after its PRIORITY frames", "[AC8]")
{
  live_exchange({}, 13);
}
