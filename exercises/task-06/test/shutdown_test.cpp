// Task 06 · acceptance tests for shutdown(), [AC1] ... [AC6] as in README.md
// (AC7, the real SIGTERM, is in signal_test.cpp).
//
// The server under test runs on two io_context threads. Its handler is the
// test's: /slow and /polite wait until the test opens a gate, so a request
// is "in flight" for exactly as long as the test wants, without sleeping.
#include "graceful_server.hpp"
#include "fixtures.hpp"

#include <workbook/eventually.hpp>
#include <workbook/io_threads.hpp>
#include <workbook/test_client.hpp>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>

namespace net = boost::asio;
namespace http = boost::beast::http;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

// The application behind the server, shared with its handler.
//   /slow    waits for the gate, ignoring its stop token; then 200 "slow\n"
//   /slower  the same behind a second gate; then 200 "slower\n"
//   /big     the same behind the first gate; then 200 with a 16 MiB body,
//            more than the sockets' buffers hold: its write completes only
//            as fast as the client reads
//   /polite  waits for the gate or its stop token; 503 if stopped, else 200
//   /token   200, the body says what the stop token looked like
//   else     200 "fast\n"
// Every wait is bounded (3 s), so a server that never lets go still ends.
inline constexpr std::size_t big_body_size = 16 * 1024 * 1024;

struct app {
  std::mutex mutex;
  std::condition_variable_any cv;
  bool gate_open = false;
  bool second_gate_open = false;
  std::atomic<int> entered{0};   // /slow, /slower and /polite handlers started

  void open_gate() { open(gate_open); }
  void open_second_gate() { open(second_gate_open); }

  task06::response serve(task06::request const& req, std::stop_token stop)
  {
    auto reply = [&](http::status status, std::string body) {
      task06::response res{status, req.version()};
      res.set(http::field::content_type, "text/plain");
      res.body() = std::move(body);
      return res;
    };
    std::string const target(req.target());
    if (target == "/slow" || target == "/slower" || target == "/big") {
      bool const& gate = target == "/slower" ? second_gate_open : gate_open;
      ++entered;
      std::unique_lock lock(mutex);
      cv.wait_for(lock, 3s, [&] { return gate; });
      if (target == "/big") return reply(http::status::ok, std::string(big_body_size, 'b'));
      return reply(http::status::ok, target.substr(1) + "\n");
    }
    if (target == "/polite") {
      ++entered;
      std::unique_lock lock(mutex);
      cv.wait_for(lock, stop, 3s, [this] { return gate_open; });
      if (stop.stop_requested()) return reply(http::status::service_unavailable, "shutting down\n");
      return reply(http::status::ok, "polite\n");
    }
    if (target == "/token") {
      std::ostringstream body;
      body << "stop_possible=" << stop.stop_possible() << " stop_requested=" << stop.stop_requested() << "\n";
      return reply(http::status::ok, body.str());
    }
    return reply(http::status::ok, "fast\n");
  }

private:
  void open(bool& gate)
  {
    std::lock_guard lock(mutex);
    gate = true;
    cv.notify_all();
  }
};

// The student's server on 127.0.0.1, port 0, its io_context on two threads.
// Destruction opens the gate first (so no handler is left waiting), then
// stops and joins the threads, then destroys the server.
struct running_server {
  running_server()
      : application(std::make_shared<app>()),
        server(ioc, {net::ip::make_address("127.0.0.1"), 0},
               [a = application](task06::request const& req, std::stop_token stop) {
                 return a->serve(req, std::move(stop));
               })
  {
    server.start();
    port = server.local_endpoint().port();  // read once: shutdown closes the acceptor
    io.emplace(ioc, 2);
  }
  ~running_server()
  {
    application->open_gate();
    application->open_second_gate();
    io.reset();
  }

  // Waits until `n` gated handlers have started.
  bool handlers_entered(int n) { return workbook::eventually([&] { return application->entered >= n; }); }

  std::shared_ptr<app> application;
  net::io_context ioc;
  task06::graceful_server server;
  unsigned short port = 0;
  std::optional<workbook::io_threads> io;
};

// What a shutdown's `done` reported, and when. Shared with the callback, so
// a late call finds it alive; read only under its mutex (the callback runs
// on one of the server's threads).
class completion {
public:
  static task06::shutdown_handler into(std::shared_ptr<completion> c)
  {
    return [c](boost::system::error_code ec) {
      std::lock_guard lock(c->mutex_);
      ++c->calls_;
      c->error_ = ec;
      c->elapsed_ = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - c->started_);
      c->cv_.notify_all();
    };
  }

  bool called() { return calls() > 0; }
  bool wait(milliseconds within)
  {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, within, [this] { return calls_ > 0; });
  }
  int calls()
  {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  boost::system::error_code error()
  {
    std::lock_guard lock(mutex_);
    return error_;
  }
  // From shutdown() to the last call of done.
  milliseconds elapsed()
  {
    std::lock_guard lock(mutex_);
    return elapsed_;
  }
  std::string describe()
  {
    std::lock_guard lock(mutex_);
    if (calls_ == 0) return "done was not called";
    std::ostringstream s;
    s << "done called " << calls_ << " time(s), last after " << elapsed_.count() << " ms with "
      << (error_ ? "\"" + error_.message() + "\"" : std::string("no error"));
    return s.str();
  }

private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int calls_ = 0;
  boost::system::error_code error_;
  std::chrono::steady_clock::time_point const started_ = std::chrono::steady_clock::now();
  milliseconds elapsed_{};
};

// Starts shutdown(grace) and returns what will record its outcome.
std::shared_ptr<completion> start_shutdown(running_server& s, milliseconds grace)
{
  auto c = std::make_shared<completion>();
  s.server.shutdown(grace, completion::into(c));
  return c;
}

std::string get(std::string const& target, bool close = false)
{
  return "GET " + target + " HTTP/1.1\r\nHost: test\r\n" + (close ? "Connection: close\r\n" : "") + "\r\n";
}

bool is_timed_out(boost::system::error_code const& ec) { return ec == boost::system::errc::timed_out; }

} // namespace

// ---------------------------------------------------------------- AC1

TEST_CASE("a request in flight when shutdown starts completes with 200 and Connection: close", "[AC1]")
{
  running_server s;
  workbook::raw_connection slow(s.port);
  REQUIRE(slow.connected());
  slow.send(get("/slow"));
  REQUIRE(s.handlers_entered(1));

  auto const done = start_shutdown(s, 5s);
  // The handler is still running: the shutdown cannot be over.
  INFO(done->describe());
  CHECK_FALSE(done->called());

  s.application->open_gate();
  auto const res = slow.read_response();
  CHECK(res.status == 200);
  CHECK(res.body == "slow\n");
  CHECK(res.header("Connection").value_or("(no Connection header)") == "close");
  // ... and the server closes the connection after it.
  CHECK(slow.closed_by_peer(1000ms));
}

TEST_CASE("shutdown reports no error once the last of two requests in flight is answered", "[AC1]")
{
  running_server s;
  workbook::raw_connection slow(s.port);
  workbook::raw_connection slower(s.port);
  REQUIRE(slow.connected());
  REQUIRE(slower.connected());
  slow.send(get("/slow"));
  slower.send(get("/slower"));
  REQUIRE(s.handlers_entered(2));

  auto const done = start_shutdown(s, 5s);
  s.application->open_gate();
  auto const first = slow.read_response();
  CHECK(first.status == 200);
  CHECK(first.header("Connection").value_or("(no Connection header)") == "close");
  {
    INFO(done->describe());
    CHECK_FALSE(done->called());  // /slower is still running
  }

  s.application->open_second_gate();
  auto const second = slower.read_response();
  CHECK(second.status == 200);
  CHECK(second.body == "slower\n");
  REQUIRE(done->wait(2s));
  INFO(done->describe());
  CHECK(!done->error());
  CHECK(done->elapsed() < 2s);   // the deadline was 5 s: nothing waited for it
}

TEST_CASE("shutdown waits for a response that is still being written: done comes after its last byte", "[AC1]")
{
  running_server s;
  workbook::raw_connection big(s.port);
  REQUIRE(big.connected());
  big.send(get("/big"));
  REQUIRE(s.handlers_entered(1));

  auto const done = start_shutdown(s, 5s);
  // The handler returns 16 MiB, and the test does not read yet: the write
  // cannot finish, so neither can the shutdown.
  s.application->open_gate();
  {
    bool const early = done->wait(1000ms);
    INFO(done->describe() << " while 16 MiB of the response were still to be written: the connection "
         "is still busy until its response has gone");
    CHECK_FALSE(early);
  }

  auto const res = big.read_response();
  INFO("the client read: " << (res.status ? std::to_string(res.status) : res.error) << ", "
       << res.body.size() << " of " << big_body_size << " body bytes");
  CHECK(res.status == 200);
  CHECK(res.body.size() == big_body_size);
  CHECK(res.header("Connection").value_or("(no Connection header)") == "close");
  CHECK(big.closed_by_peer(1000ms));
  REQUIRE(done->wait(2s));
  INFO(done->describe());
  CHECK(!done->error());
}

// ---------------------------------------------------------------- AC2

TEST_CASE("once shutdown has started, new connections are refused", "[AC2]")
{
  running_server s;
  {
    workbook::raw_connection before(s.port, 500ms);
    REQUIRE(before.connected());  // listening, before the shutdown
  }
  workbook::raw_connection slow(s.port);
  REQUIRE(slow.connected());
  slow.send(get("/slow"));
  REQUIRE(s.handlers_entered(1));

  auto const done = start_shutdown(s, 5s);
  // A fresh connection each time; the first refused one shows that the
  // port has stopped listening, and the next is refused as well.
  {
    INFO("connecting was still accepted 1 s after shutdown started: is the acceptor closed?");
    CHECK(workbook::eventually([&] { return task06_test::connect_refused(s.port); }, 1000ms));
  }
  workbook::raw_connection later(s.port, 500ms);
  CHECK_FALSE(later.connected());

  // The request that was already in flight is not affected.
  s.application->open_gate();
  auto const res = slow.read_response();
  CHECK(res.status == 200);
  CHECK(res.body == "slow\n");
}

// ---------------------------------------------------------------- AC3

TEST_CASE("an idle keep-alive connection is closed at once while another request is in flight", "[AC3]")
{
  running_server s;
  workbook::raw_connection idle(s.port);
  REQUIRE(idle.connected());
  idle.send(get("/fast"));
  auto const first = idle.read_response();
  REQUIRE(first.status == 200);
  REQUIRE(first.header("Connection").value_or("") != "close");  // kept alive, now idle

  workbook::raw_connection slow(s.port);
  REQUIRE(slow.connected());
  slow.send(get("/slow"));
  REQUIRE(s.handlers_entered(1));

  auto const done = start_shutdown(s, 5s);
  // Not at the deadline, not when the slow request ends: now.
  CHECK(idle.closed_by_peer(1000ms));
  INFO(done->describe());
  CHECK_FALSE(done->called());  // the slow request still holds it open

  s.application->open_gate();
  CHECK(slow.read_response().status == 200);
  CHECK(done->wait(2s));
}

TEST_CASE("a connection that has sent nothing yet is closed, and shutdown need not wait for it", "[AC3]")
{
  running_server s;
  workbook::raw_connection quiet(s.port);
  REQUIRE(quiet.connected());
  // Make sure the server has the connection: another client's request on it
  // is answered only after the accept loop has moved past ours.
  {
    workbook::raw_connection probe(s.port);
    REQUIRE(probe.connected());
    probe.send(get("/fast", true));
    REQUIRE(probe.read_response().status == 200);
  }

  auto const done = start_shutdown(s, 5s);
  CHECK(quiet.closed_by_peer(1000ms));
  REQUIRE(done->wait(2s));
  INFO(done->describe());
  CHECK(!done->error());
  CHECK(done->elapsed() < 2s);
}

TEST_CASE("a server that never had a connection finishes its shutdown at once", "[AC3]")
{
  running_server s;
  auto const done = start_shutdown(s, 5s);
  REQUIRE(done->wait(2s));
  INFO(done->describe() << ". No connection is open, so none will ever close: nothing else can end "
       "this shutdown but the deadline, 5 s away");
  CHECK(!done->error());
  CHECK(done->elapsed() < 2s);
  INFO("a shutdown that is done has stopped listening too");
  CHECK(task06_test::connect_refused(s.port));
}

// ---------------------------------------------------------------- AC4

TEST_CASE("a handler that watches its stop token ends early with 503", "[AC4]")
{
  running_server s;
  workbook::raw_connection polite(s.port);
  REQUIRE(polite.connected());
  polite.send(get("/polite"));
  REQUIRE(s.handlers_entered(1));

  // The gate stays shut: only the stop token can end this handler in time.
  auto const done = start_shutdown(s, 5s);
  auto const res = polite.read_response();
  CHECK(res.status == 503);
  CHECK(res.body == "shutting down\n");
  CHECK(res.header("Connection").value_or("(no Connection header)") == "close");

  REQUIRE(done->wait(2s));
  INFO(done->describe());
  CHECK(!done->error());
  CHECK(done->elapsed() < 2s);
}

TEST_CASE("a handler's stop token can be stopped, and is not stopped before shutdown", "[AC4]")
{
  running_server s;
  workbook::test_client client(s.port);
  auto const res = client.get("/token");
  CHECK(res.status == 200);
  // stop_possible=0: the handler was given a token no one can ever stop.
  CHECK(res.body == "stop_possible=1 stop_requested=0\n");
}

// ---------------------------------------------------------------- AC5

TEST_CASE("a handler that ignores cancellation makes shutdown report timed_out at the deadline, and its "
          "connection is closed then",
          "[AC5]")
{
  running_server s;
  // Reads on this connection give up after 1 s: the handler waits at its
  // gate for 3 s, so whatever the test sees comes from the deadline.
  workbook::raw_connection stuck(s.port, 1000ms);
  REQUIRE(stuck.connected());
  stuck.send(get("/slow"));
  REQUIRE(s.handlers_entered(1));

  // The gate stays shut until the test ends: this handler outlives the deadline.
  auto const done = start_shutdown(s, 200ms);
  REQUIRE(done->wait(3s));
  INFO(done->describe());
  CHECK(is_timed_out(done->error()));
  CHECK(done->elapsed() >= 190ms);
  CHECK(done->elapsed() < 2s);

  // The connection was closed at the deadline, without a response: the
  // client's read ends with the end of the stream, not with its own
  // time-out.
  auto const res = stuck.read_response();
  INFO("the client read: " << (res.status ? std::to_string(res.status) : res.error));
  CHECK(res.status == 0);
  INFO("the read should end because the server closed the connection, not because the client gave up "
       "waiting: a deadline that only reports timed_out leaves the connection to the handler, which "
       "still holds it");
  CHECK(stuck.closed_by_peer(0ms));
}

// ---------------------------------------------------------------- AC6

TEST_CASE("a second shutdown during the first waits for the same end, whatever grace it asks for", "[AC6]")
{
  running_server s;
  workbook::raw_connection slow(s.port);
  REQUIRE(slow.connected());
  slow.send(get("/slow"));
  REQUIRE(s.handlers_entered(1));

  // The first call's deadline (5 s) stands; the second call's 100 ms
  // would end everything long before the gate opens.
  auto const first = start_shutdown(s, 5s);
  auto const second = start_shutdown(s, 100ms);
  {
    bool const ended = first->wait(1000ms);
    INFO("first: " << first->describe() << "; second: " << second->describe()
         << ". The second call asked for a grace of 100 ms; it must not set a new deadline");
    CHECK_FALSE(ended);
    CHECK_FALSE(second->called());
  }

  s.application->open_gate();
  CHECK(slow.read_response().status == 200);
  REQUIRE(first->wait(2s));
  REQUIRE(second->wait(2s));
  INFO("first: " << first->describe() << "; second: " << second->describe());
  CHECK(first->calls() == 1);
  CHECK(second->calls() == 1);
  CHECK(!first->error());
  CHECK(!second->error());
}

TEST_CASE("a second shutdown with a longer grace does not put off the first one's deadline", "[AC6]")
{
  running_server s;
  workbook::raw_connection stuck(s.port);
  REQUIRE(stuck.connected());
  stuck.send(get("/slow"));
  REQUIRE(s.handlers_entered(1));

  // The gate stays shut: the first call's deadline, 200 ms, ends it.
  auto const first = start_shutdown(s, 200ms);
  auto const second = start_shutdown(s, 5s);
  REQUIRE(first->wait(3s));
  REQUIRE(second->wait(1s));
  INFO("first: " << first->describe() << "; second: " << second->describe()
       << ". The second call asked for 5 s; the deadline is still the first call's");
  CHECK(is_timed_out(first->error()));
  CHECK(is_timed_out(second->error()));
  CHECK(first->elapsed() < 2s);
  CHECK(first->calls() == 1);
  CHECK(second->calls() == 1);
}

TEST_CASE("a shutdown after the first has timed out reports timed_out at once", "[AC6]")
{
  running_server s;
  workbook::raw_connection stuck(s.port);
  REQUIRE(stuck.connected());
  stuck.send(get("/slow"));
  REQUIRE(s.handlers_entered(1));

  auto const first = start_shutdown(s, 200ms);
  REQUIRE(first->wait(3s));

  // The outcome is known: the late caller hears it without waiting 5 s.
  auto const again = start_shutdown(s, 5s);
  REQUIRE(again->wait(1s));
  INFO("first: " << first->describe() << "; again: " << again->describe());
  CHECK(is_timed_out(first->error()));
  CHECK(is_timed_out(again->error()));
  CHECK(first->calls() == 1);
  CHECK(again->calls() == 1);
}
