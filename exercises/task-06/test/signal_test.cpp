// Task 06 · [AC7]: a real signal to a real process. The process is the
// `serve` tool (test/serve/serve_main.cpp around your server, see task.cmake);
// its GET /slow waits for a byte on its fd 3, a socket this test holds, so the
// request stays in flight exactly until the test lets it go.
#include "fixtures.hpp"

#include <workbook/eventually.hpp>
#include <workbook/process.hpp>
#include <workbook/test_client.hpp>
#include <workbook/implementation.hpp>

#include <catch2/catch.hpp>

#include <cerrno>
#include <csignal>
#include <optional>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

// The serve tool as a child process: its output on a pipe, its fd 3 on a
// socket pair. Destruction kills what is left of it (SIGKILL to its group).
class server_process {
public:
  explicit server_process(milliseconds grace)
  {
    int out[2];
    int gate[2];
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    // A socket pair rather than a pipe: writing to it once the child has
    // died fails with EPIPE instead of killing this process with SIGPIPE.
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, gate) == 0);
    out_ = out[0];
    gate_ = gate[1];
    int const child_out = out[1];
    int const child_gate = gate[0];

    workbook::spawn_options options;
    options.argv = {workbook::tool("serve").string(), std::to_string(grace.count())};
    options.stdout_fd = child_out;
    options.extra_fd = child_gate;
    pid_ = workbook::spawn(options);
    ::close(child_out);
    ::close(child_gate);
  }

  ~server_process()
  {
    if (pid_ > 0) {
      workbook::kill_group(pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {}
    }
    ::close(out_);
    if (gate_ >= 0) ::close(gate_);
  }

  server_process(server_process const&) = delete;
  server_process& operator=(server_process const&) = delete;

  // The first line of output that starts with `prefix`, if it comes within `timeout`.
  std::optional<std::string> wait_for_line(std::string_view prefix, milliseconds timeout)
  {
    auto const deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      for (std::size_t start = scanned_; ;) {
        auto const end = output_.find('\n', start);
        if (end == std::string::npos) break;
        std::string_view const line(output_.data() + start, end - start);
        scanned_ = start = end + 1;
        if (line.substr(0, prefix.size()) == prefix) return std::string(line);
      }
      if (!read_some(deadline)) return std::nullopt;
    }
  }

  // Lets GET /slow finish.
  void open_gate()
  {
    (void)::send(gate_, "x", 1, MSG_NOSIGNAL);
    ::close(gate_);
    gate_ = -1;
  }

  void signal(int sig) { workbook::kill_group(pid_, sig); }

  // The process's end, if it comes within `timeout`; reads the rest of its output.
  std::optional<workbook::process_result> wait_exit(milliseconds timeout)
  {
    int status = 0;
    bool const exited = workbook::eventually(
        [&] {
          auto const deadline = std::chrono::steady_clock::now();
          read_some(deadline);  // keep the pipe drained; never blocks here
          return ::waitpid(pid_, &status, WNOHANG) == pid_;
        },
        timeout);
    if (!exited) return std::nullopt;
    pid_ = -1;
    while (read_some(std::chrono::steady_clock::now() + 100ms)) {}
    workbook::process_result result;
    workbook::decode_wait_status(status, result);
    result.output = output_;
    return result;
  }

  std::string const& output() const { return output_; }

private:
  // Appends what the child wrote by `deadline`; false at end of file or time.
  bool read_some(std::chrono::steady_clock::time_point deadline)
  {
    auto const left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{out_, POLLIN, 0};
    int const ready = ::poll(&p, 1, static_cast<int>(std::max<long long>(0, left.count())));
    if (ready <= 0) return false;
    char buf[4096];
    ssize_t const n = ::read(out_, buf, sizeof buf);
    if (n <= 0) return false;
    output_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  int gate_ = -1;
  std::string output_;
  std::size_t scanned_ = 0;
};

std::string describe(std::optional<workbook::process_result> const& r)
{
  if (!r) return "the process had not exited";
  if (r->signal) return "the process was killed by signal " + std::to_string(r->signal) +
                        (r->signal == SIGTERM || r->signal == SIGINT ? " (the signal's default action: nothing handled it)" : "");
  return "the process exited with code " + std::to_string(r->exit_code);
}

// Starts the tool and connects a /slow request; returns the tool's port.
unsigned short start_slow_request(server_process& p, std::optional<workbook::raw_connection>& slow)
{
  auto const listening = p.wait_for_line("listening on ", 5s);
  INFO("output so far:\n" << p.output());
  REQUIRE(listening);
  auto const port = static_cast<unsigned short>(std::stoul(listening->substr(13)));
  REQUIRE(port != 0);

  slow.emplace(port);
  REQUIRE(slow->connected());
  slow->send("GET /slow HTTP/1.1\r\nHost: test\r\n\r\n");
  REQUIRE(p.wait_for_line("slow request started", 2s));
  return port;
}

} // namespace

TEST_CASE("SIGTERM: the process refuses new connections, answers the request in flight and exits 0", "[AC7]")
{
  server_process p(2000ms);
  std::optional<workbook::raw_connection> slow;
  auto const port = start_slow_request(p, slow);

  p.signal(SIGTERM);
  {
    INFO("connecting was still accepted 1 s after the signal: is the acceptor closed?");
    CHECK(workbook::eventually([&] { return task06_test::connect_refused(port); }, 1000ms));
  }
  workbook::raw_connection later(port, 500ms);
  CHECK_FALSE(later.connected());

  p.open_gate();
  auto const res = slow->read_response();
  CHECK(res.status == 200);
  CHECK(res.body == "slow\n");
  CHECK(res.header("Connection").value_or("(no Connection header)") == "close");

  auto const end = p.wait_exit(3s);
  INFO(describe(end) << "; its output:\n" << p.output());
  REQUIRE(end);
  CHECK(end->signal == 0);
  CHECK(end->exit_code == 0);
}

TEST_CASE("SIGINT with a request that outlives the grace period: exit code 1 at the deadline", "[AC7]")
{
  server_process p(300ms);
  std::optional<workbook::raw_connection> slow;
  start_slow_request(p, slow);

  // The gate stays shut: the request is still running when the grace ends.
  auto const signalled = std::chrono::steady_clock::now();
  p.signal(SIGINT);
  auto const end = p.wait_exit(3s);
  auto const took = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - signalled);
  INFO(describe(end) << " " << took.count() << " ms after SIGINT; its output:\n" << p.output());
  REQUIRE(end);
  CHECK(end->signal == 0);
  CHECK(end->exit_code == 1);
  CHECK(took >= 290ms);
}
