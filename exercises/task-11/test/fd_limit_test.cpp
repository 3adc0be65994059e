// Task 11 · acceptance tests for raise_fd_limit(), [AC7] as in README.md.
// They change this process's own soft limit on open files (lowering it
// first, so there is something to raise) and put it back afterwards; the
// last one starts the serve tool (test/serve/serve_main.cpp) with a low
// limit and reads the limit it runs with from /proc.
#include "fixtures.hpp"

#include <workbook/eventually.hpp>
#include <workbook/implementation.hpp>
#include <workbook/process.hpp>
#include <workbook/skip.hpp>

#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <sstream>

#include <sys/wait.h>

using namespace task11_test;
using namespace std::chrono_literals;

namespace {

std::string describe(task11::fd_limit_report const& r)
{
  std::ostringstream out;
  out << "raise_fd_limit reported before=" << r.before << " after=" << r.after << " hard=" << r.hard
      << " message=\"" << r.message << "\"; the soft limit is now " << fd_limits().rlim_cur;
  return out.str();
}

// The hard limit, when the tests can use it: finite, and room below it.
rlim_t usable_hard_limit()
{
  auto const hard = fd_limits().rlim_max;
  return hard == RLIM_INFINITY || hard < 1024 ? 0 : hard;
}

// ---------------------------------------------------------------- the serve tool

// The serve tool as a child process, its soft limit on open files lowered
// to 256 before it starts; its output on a pipe. Destruction kills what is
// left of it.
void lower_open_files(void*)
{
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = 256;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

class serve_process {
public:
  serve_process()
  {
    int out[2];
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    out_ = workbook::unique_fd(out[0]);
    workbook::unique_fd child_out(out[1]);
    workbook::spawn_options options;
    options.argv = {workbook::tool("serve").string(), "--port", "0", "--threads", "2"};
    options.stdout_fd = child_out.get();
    options.child_setup = lower_open_files;
    pid_ = workbook::spawn(options);
  }
  ~serve_process()
  {
    if (pid_ > 0) {
      workbook::kill_group(pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {}
    }
  }
  serve_process(serve_process const&) = delete;
  serve_process& operator=(serve_process const&) = delete;

  pid_t pid() const { return pid_; }
  std::string const& output() const { return output_; }

  // The first line of output starting with `prefix`, if it comes in time.
  std::optional<std::string> wait_for_line(std::string_view prefix, milliseconds timeout)
  {
    auto const deadline = clock_type::now() + timeout;
    for (;;) {
      std::size_t start = 0;
      for (std::size_t end; (end = output_.find('\n', start)) != std::string::npos; start = end + 1) {
        std::string_view const line(output_.data() + start, end - start);
        if (line.substr(0, prefix.size()) == prefix) return std::string(line);
      }
      if (!read_some(deadline)) return std::nullopt;
    }
  }

  // The exit, if it comes in time.
  std::optional<workbook::process_result> wait_exit(milliseconds timeout)
  {
    int status = 0;
    bool const exited = workbook::eventually(
        [&] {
          read_some(clock_type::now());
          return ::waitpid(pid_, &status, WNOHANG) == pid_;
        },
        timeout);
    if (!exited) return std::nullopt;
    pid_ = -1;
    while (read_some(clock_type::now() + 100ms)) {}
    workbook::process_result result;
    workbook::decode_wait_status(status, result);
    result.output = output_;
    return result;
  }

private:
  bool read_some(clock_type::time_point deadline)
  {
    auto const left = std::chrono::duration_cast<milliseconds>(deadline - clock_type::now()).count();
    pollfd p{out_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<long long>(0, left))) <= 0) return false;
    char buf[4096];
    ssize_t const n = ::read(out_.get(), buf, sizeof buf);
    if (n <= 0) return false;
    output_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  workbook::unique_fd out_;
  std::string output_;
};

// The soft limit on open files of process `pid`, from /proc/PID/limits
// ("Max open files  SOFT  HARD  files"); 0 if it cannot be read.
unsigned long long soft_open_files_of(pid_t pid)
{
  std::ifstream in("/proc/" + std::to_string(pid) + "/limits");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Max open files", 0) != 0) continue;
    std::istringstream fields(line.substr(14));
    std::string soft;
    fields >> soft;
    return soft == "unlimited" ? ~0ull : std::stoull(soft);
  }
  return 0;
}

} // namespace

TEST_CASE("raise_fd_limit raises the soft limit to the number wanted when the hard limit allows it", "[AC7]")
{
  fd_limit_guard guard;
  auto const hard = usable_hard_limit();
  if (hard == 0) WORKBOOK_SKIP("the hard limit on open files is below 1024 (`ulimit -Hn`)");
  REQUIRE(set_soft_fd_limit(256));

  auto const report = task11::raise_fd_limit(512);
  INFO(describe(report));
  CHECK(report.before == 256);
  CHECK(report.after == 512);
  CHECK(report.hard == hard);
  CHECK(fd_limits().rlim_cur == 512);
  CHECK(report.message.empty());
}

TEST_CASE("raise_fd_limit goes all the way to the hard limit when that is what is wanted", "[AC7]")
{
  fd_limit_guard guard;
  auto const hard = usable_hard_limit();
  if (hard == 0) WORKBOOK_SKIP("the hard limit on open files is below 1024 (`ulimit -Hn`)");
  REQUIRE(set_soft_fd_limit(256));

  auto const report = task11::raise_fd_limit(hard);
  INFO(describe(report) << ". The hard limit here is " << hard << ": a fixed number is not the hard limit");
  CHECK(report.before == 256);
  CHECK(report.after == hard);
  CHECK(fd_limits().rlim_cur == hard);
  CHECK(report.message.empty());
}

TEST_CASE("asked for more than the hard limit, raise_fd_limit raises to the hard limit and says how to go further",
          "[AC7]")
{
  fd_limit_guard guard;
  auto const hard = usable_hard_limit();
  if (hard == 0) WORKBOOK_SKIP("the hard limit on open files is below 1024 (`ulimit -Hn`)");
  REQUIRE(set_soft_fd_limit(256));

  auto const wanted = static_cast<std::uint64_t>(hard) + 1000;
  auto const report = task11::raise_fd_limit(wanted);
  INFO(describe(report) << ". Asked for " << wanted << " with a hard limit of " << hard
       << ": setrlimit refuses a soft limit above the hard one, so ask for the hard limit instead, and say so");
  CHECK(report.before == 256);
  CHECK(report.after == hard);
  CHECK(report.hard == hard);
  CHECK(fd_limits().rlim_cur == hard);
  CHECK(report.message.find(std::to_string(hard)) != std::string::npos);
  CHECK(report.message.find("ulimit -Hn") != std::string::npos);
}

TEST_CASE("raise_fd_limit never lowers a soft limit that is already high enough", "[AC7]")
{
  fd_limit_guard guard;
  if (usable_hard_limit() == 0) WORKBOOK_SKIP("the hard limit on open files is below 1024 (`ulimit -Hn`)");
  REQUIRE(set_soft_fd_limit(700));

  auto const report = task11::raise_fd_limit(300);
  INFO(describe(report));
  CHECK(report.before == 700);
  CHECK(report.after == 700);
  CHECK(fd_limits().rlim_cur == 700);
  CHECK(report.message.empty());
}

TEST_CASE("the serve tool, started with a soft limit of 256 open files, raises it before it listens, serves GET / "
          "and stops on SIGTERM",
          "[AC7]")
{
  auto const hard = usable_hard_limit();
  if (hard == 0) WORKBOOK_SKIP("the hard limit on open files is below 1024 (`ulimit -Hn`)");
  unsigned long long const expected = std::min<unsigned long long>(65536, hard);

  serve_process p;
  auto const listening = p.wait_for_line("listening on 127.0.0.1:", 5000ms);
  INFO("its output:\n" << p.output());
  REQUIRE(listening);
  auto const soft = soft_open_files_of(p.pid());
  INFO("the tool asks raise_fd_limit() for 65536 open files; the hard limit is " << hard);
  CHECK(soft == expected);

  auto const port = static_cast<unsigned short>(std::stoul(listening->substr(23)));
  plain_connection c(port);
  REQUIRE(c.connected());
  REQUIRE(c.send(get("/")));
  auto const res = c.read_response();
  CHECK(res.status == 200);
  CHECK(res.body == "ok\n");
  c.close();

  workbook::kill_group(p.pid(), SIGTERM);
  auto const end = p.wait_exit(3000ms);
  REQUIRE(end);
  CHECK(end->signal == 0);
  CHECK(end->exit_code == 0);
}
