// Task 01 · acceptance tests. Each TEST_CASE is tagged with the criterion it
// checks ([AC1] ... [AC4], as in README.md).
#include "hello_server.hpp"

#include <workbook/eventually.hpp>
#include <workbook/io_threads.hpp>
#include <workbook/test_client.hpp>

#include <boost/asio/post.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {

// How long a client waits for an answer the server owes it. The reference
// answers in a millisecond or two; this is room for a loaded 2-core machine.
// A server that never answers costs a failing test this much, once.
constexpr std::chrono::milliseconds answer_within = 3s;

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
  {
    server.emplace(ioc, net::ip::tcp::endpoint{net::ip::make_address("127.0.0.1"), 0}, std::move(work));
    server->start();
    io.emplace(ioc, 1);
  }
  ~running_server()
  {
    io.reset();      // stop and join the io_context's thread first,
    server.reset();  // then the server goes, while the io_context still exists
  }

  unsigned short port() const { return server->local_endpoint().port(); }

  net::io_context ioc;
  std::optional<task01::hello_server> server;
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

TEST_CASE("a request that asks to close gets its answer, then the end of the stream", "[AC1]")
{
  running_server s;

  SECTION("HTTP/1.1 with Connection: close") {
    workbook::raw_connection c(s.port(), answer_within);
    REQUIRE(c.connected());
    c.send("GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    auto const r = c.read_response();
    REQUIRE(r.status == 200);
    CHECK(r.body == "hello\n");
    INFO("the client asked to close: after the response the server must close the connection, "
         "so the client sees the end of the stream instead of waiting for more");
    CHECK(c.closed_by_peer(answer_within));
  }
  SECTION("HTTP/1.0, which closes unless it asks for keep-alive") {
    workbook::raw_connection c(s.port(), answer_within);
    REQUIRE(c.connected());
    c.send("GET / HTTP/1.0\r\nHost: test\r\n\r\n");
    auto const r = c.read_response();
    REQUIRE(r.status == 200);
    CHECK(r.body == "hello\n");
    INFO("an HTTP/1.0 request without \"Connection: keep-alive\" ends its connection");
    CHECK(c.closed_by_peer(answer_within));
  }
}

TEST_CASE("two requests sent back to back on one connection are both answered, in order", "[AC1]")
{
  running_server s;
  workbook::raw_connection c(s.port(), answer_within);
  REQUIRE(c.connected());

  // One write, two requests: the server's first read may well take in both.
  c.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n"
         "GET /nope HTTP/1.1\r\nHost: test\r\n\r\n");
  auto const first = c.read_response();
  CHECK(first.status == 200);
  CHECK(first.body == "hello\n");
  INFO("the second request arrived together with the first; the bytes read past the end of "
       "the first request belong to the second");
  auto const second = c.read_response();
  CHECK(second.status == 404);
}

TEST_CASE("a second connection is served while the first sits mid-request", "[AC3]")
{
  running_server s;

  // The first client sends half a request head and goes quiet.
  workbook::raw_connection idle(s.port(), answer_within);
  REQUIRE(idle.connected());
  idle.send("GET / HTTP/1.1\r\nHost: test\r\n");

  // A server that reads connections one at a time is stuck on it now.
  workbook::test_client other(s.port(), answer_within);
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

  workbook::raw_connection slow(s.port(), answer_within);
  REQUIRE(slow.connected());
  slow.send("GET /slow HTTP/1.1\r\nHost: test\r\n\r\n");
  REQUIRE(workbook::eventually([&] { return working.load(); }, answer_within));

  // The io_context has one thread. If that thread is the one blocked in
  // slow_work(), nobody can answer this:
  workbook::test_client other(s.port(), answer_within);
  auto const r = other.get("/");
  release.open();
  CHECK(r.status == 200);
  CHECK(r.body == "hello\n");

  auto const done = slow.read_response();
  CHECK(done.status == 200);
  CHECK(done.body == "done\n");
}

TEST_CASE("the reply to /slow is written by the io_context's thread, not by the one that did the work",
          "[AC4]")
{
  gate release;   // lets slow_work() return
  gate unblock;   // frees the io_context's thread
  std::atomic<bool> working{false};
  std::atomic<bool> worked{false};
  std::atomic<bool> occupied{false};
  running_server s([&] {
    working = true;
    release.wait();
    worked = true;
  });
  // However the test ends, free both before the server goes.
  struct open_on_exit {
    gate& a;
    gate& b;
    ~open_on_exit()
    {
      a.open();
      b.open();
    }
  } const guard{release, unblock};

  // Short on purpose: this connection is expected to time out (see below).
  constexpr auto quiet_for = 500ms;
  workbook::raw_connection slow(s.port(), quiet_for);
  REQUIRE(slow.connected());
  slow.send("GET /slow HTTP/1.1\r\nHost: test\r\n\r\n");
  REQUIRE(workbook::eventually([&] { return working.load(); }, answer_within));

  // Occupy the io_context's only thread, then let the blocking work finish.
  net::post(s.ioc, [&] {
    occupied = true;
    unblock.wait();
  });
  {
    INFO("the io_context's thread never ran a job posted to it: is it still blocked in slow_work()?");
    REQUIRE(workbook::eventually([&] { return occupied.load(); }, answer_within));
  }
  release.open();
  REQUIRE(workbook::eventually([&] { return worked.load(); }, answer_within));

  // While the io_context's thread is busy, nothing of this session may run,
  // so no reply can arrive. A reply written straight from the thread that
  // ran slow_work() arrives at once: that thread touched the session's
  // stream while the session's own executor might have been using it too.
  auto const early = slow.read_response();
  unblock.open();
  INFO("a reply arrived while the io_context's only thread was busy elsewhere: it was written "
       "by the thread that ran slow_work(). Hand the write back to the session's executor.");
  CHECK(early.status == 0);
}

TEST_CASE("destroying the server waits for blocking work still running", "[AC4]")
{
  gate release;
  std::atomic<bool> working{false};
  std::atomic<bool> worked{false};
  running_server s([&] {
    working = true;
    release.wait();
    worked = true;
  });

  workbook::raw_connection slow(s.port(), answer_within);
  REQUIRE(slow.connected());
  slow.send("GET /slow HTTP/1.1\r\nHost: test\r\n\r\n");
  REQUIRE(workbook::eventually([&] { return working.load(); }, answer_within));

  // The owner of the server stops its io_context and destroys the server,
  // expecting that nothing calls the work it handed in afterwards. The work
  // is let go once the destructor has returned, or after 300 ms if it is
  // still waiting, as it should be.
  s.io.reset();
  std::atomic<bool> destroyed{false};
  std::thread opener([&] {
    workbook::eventually([&] { return destroyed.load(); }, 300ms);
    release.open();
  });
  s.server.reset();
  bool const finished_first = worked.load();
  destroyed = true;
  opener.join();

  INFO("~hello_server returned while slow_work() was still running on another thread; whatever "
       "that work uses may be gone by the time it returns");
  CHECK(finished_first);
  // Whatever the outcome, let the work end before the test's locals go.
  CHECK(workbook::eventually([&] { return worked.load(); }, answer_within));
}
