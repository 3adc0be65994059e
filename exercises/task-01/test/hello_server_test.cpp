// Task 01 · acceptance tests. Each TEST_CASE is tagged with the criterion it
// checks ([AC1] ... [AC4], as in README.md).
#include "hello_server.hpp"

#include <workbook/eventually.hpp>
#include <workbook/io_threads.hpp>
#include <workbook/test_client.hpp>

#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>

namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {

// A door the test opens: blocking work waits behind it (bounded, so a test
// that fails early still ends).
class gate {
public:
  void open()
  {
    std::lock_guard lock(mutex_);
    open_ = true;
    cv_.notify_all();
  }
  void wait()
  {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, 5s, [this] { return open_; });
  }

private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = false;
};

// The student's server on 127.0.0.1, port 0, served by ONE thread: the
// configuration in which a blocking handler hurts everyone.
struct running_server {
  explicit running_server(task01::blocking_work work = [] {})
      : server(ioc, {net::ip::make_address("127.0.0.1"), 0}, std::move(work))
  {
    server.start();
    io.emplace(ioc, 1);
  }
  ~running_server() { io.reset(); }  // stop and join before the server goes

  unsigned short port() const { return server.local_endpoint().port(); }

  net::io_context ioc;
  task01::hello_server server;
  std::optional<workbook::io_threads> io;
};

} // namespace

TEST_CASE("GET / answers 200 with body \"hello\\n\" as text/plain", "[AC1]")
{
  running_server s;
  workbook::test_client client(s.port());

  auto const r = client.get("/");
  REQUIRE(r.status == 200);
  CHECK(r.body == "hello\n");
  CHECK(r.header("Content-Type").value_or("") == "text/plain");
}

TEST_CASE("a kept-alive connection serves request after request", "[AC1]")
{
  running_server s;
  workbook::test_client client(s.port());

  for (int i = 0; i < 3; ++i) {
    auto const r = client.get("/");
    REQUIRE(r.status == 200);
    CHECK(r.body == "hello\n");
  }
  CHECK(client.connections_opened() == 1);
}

TEST_CASE("an unknown path answers 404", "[AC1]")
{
  running_server s;
  workbook::test_client client(s.port());

  CHECK(client.get("/nope").status == 404);
}

TEST_CASE("a second connection is served while the first sits mid-request", "[AC3]")
{
  running_server s;

  // The first client sends half a request head and goes quiet.
  workbook::raw_connection idle(s.port());
  REQUIRE(idle.connected());
  idle.send("GET / HTTP/1.1\r\nHost: test\r\n");

  // A server that reads connections one at a time is stuck on it now.
  workbook::test_client other(s.port(), 1000ms);
  auto const r = other.get("/");
  CHECK(r.status == 200);
  CHECK(r.body == "hello\n");

  // And the first is answered once it finishes its request.
  idle.send("\r\n");
  auto const late = idle.read_response();
  CHECK(late.status == 200);
}

TEST_CASE("blocking work for /slow does not stall other connections", "[AC4]")
{
  gate release;
  std::atomic<bool> working{false};
  running_server s([&] {
    working = true;
    release.wait();
  });

  workbook::raw_connection slow(s.port());
  REQUIRE(slow.connected());
  slow.send("GET /slow HTTP/1.1\r\nHost: test\r\n\r\n");
  REQUIRE(workbook::eventually([&] { return working.load(); }));

  // The io_context has one thread. If that thread is the one blocked in
  // slow_work(), nobody can answer this:
  workbook::test_client other(s.port(), 1000ms);
  auto const r = other.get("/");
  release.open();
  CHECK(r.status == 200);
  CHECK(r.body == "hello\n");

  auto const done = slow.read_response();
  CHECK(done.status == 200);
  CHECK(done.body == "done\n");
}
