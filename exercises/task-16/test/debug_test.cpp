// Task 16 · acceptance tests for the debug endpoint [AC5]: the profile as a
// text table over HTTP, a window of N ms that counts only those N ms and
// holds no thread while it waits, and a listener that refuses every
// address but loopback.
#include "fixtures.hpp"

#include <workbook/test_client.hpp>

#include <boost/asio/ip/tcp.hpp>

#include <catch2/catch.hpp>

#include <future>
#include <stdexcept>

using namespace task16_test;

namespace {

constexpr char served_label[] = "test=served";
constexpr char before_label[] = "test=before-the-window";
constexpr char during_label[] = "test=during-the-window";

net::ip::tcp::endpoint loopback(char const* address = "127.0.0.1", unsigned short port = 0)
{
  return {net::ip::make_address(address), port};
}

// Whether this host can listen on [::1] at all (a host without IPv6 cannot).
bool has_ipv6_loopback()
{
  net::io_context ioc;
  net::ip::tcp::acceptor a(ioc);
  boost::system::error_code ec;
  a.open(net::ip::tcp::v6(), ec);
  if (!ec) a.bind({net::ip::make_address("::1"), 0}, ec);
  return !ec;
}

} // namespace

TEST_CASE("GET /debug/profile answers the table as text/plain; 404 and 400 otherwise", "[AC5]")
{
  task16::profiler prof({1000});
  worker w(&prof);
  prof.start();
  {
    INFO("start() has returned, and running() says the profiler does not run: there is nothing to watch");
    REQUIRE(prof.running());
  }
  {
    stepper st;
    w.start([&] {
      task16::label_scope scope(served_label);
      st.burn_while(0);
    });
    bool const sampled = until_seen(w, [&] { return samples_under(prof.snapshot(), served_label) >= 20; });
    st.finish();
    REQUIRE(w.wait());
    REQUIRE(sampled);
  }

  net::io_context ioc;
  task16::debug_server debug(ioc, loopback(), prof);
  debug.start();
  sampled_io io(ioc, nullptr, 1);
  workbook::test_client client(debug.local_endpoint().port(), 5s);

  auto const r = client.get("/debug/profile");
  REQUIRE(r.status == 200);
  CHECK(r.header("Content-Type").value_or("").rfind("text/plain", 0) == 0);
  auto const table = parse_table(r.body);
  CHECK(table.problem == "");
  auto const* served = table.find(served_label);
  REQUIRE(served);
  CHECK(served->samples > 0);
  REQUIRE_FALSE(served->functions.empty());
  CHECK(served->functions.front().name.rfind("task16::churn(", 0) == 0);

  CHECK(client.get("/debug/nothing").status == 404);
  CHECK(client.get("/debug/profiles").status == 404);
  for (char const* bad : {"abc", "0", "60001", "-5", "12x", ""}) {
    INFO("GET /debug/profile?ms=" << bad);
    CHECK(client.get(std::string("/debug/profile?ms=") + bad).status == 400);
  }
  prof.stop();
}

TEST_CASE("GET /debug/profile?ms=N counts those N ms only, and holds no thread meanwhile", "[AC5]")
{
  task16::profiler prof({1000});
  worker w(&prof);
  prof.start();
  {
    INFO("start() has returned, and running() says the profiler does not run: there is nothing to watch");
    REQUIRE(prof.running());
  }
  {
    stepper st;
    w.start([&] {
      task16::label_scope scope(before_label);
      st.burn_while(0);
    });
    bool const sampled = until_seen(w, [&] { return samples_under(prof.snapshot(), before_label) > 0; });
    st.finish();
    REQUIRE(w.wait());
    REQUIRE(sampled);
  }

  net::io_context ioc;
  task16::debug_server debug(ioc, loopback(), prof);
  debug.start();
  sampled_io io(ioc, nullptr, 1);  // one thread: a window that sleeps would hold it
  auto const port = debug.local_endpoint().port();

  // From now on, until the test ends: work under another label.
  std::atomic<bool> done{false};
  struct closer {
    std::atomic<bool>& flag;
    ~closer() { flag = true; }  // however this test ends, the worker's loop ends
  } stop_working{done};
  w.start([&] {
    task16::label_scope scope(during_label);
    while (!done.load()) burn(5ms);
  });

  // A window, asked for on a connection of its own.
  constexpr auto window = 500ms;
  auto ask_window = [port, window](std::atomic<bool>& asked) {
    return std::async(std::launch::async, [port, window, &asked] {
      workbook::raw_connection client(port, 5s);
      auto const start = clock_type::now();
      bool const sent = client.send("GET /debug/profile?ms=" + std::to_string(window.count()) +
                                    " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      asked = true;
      auto r = sent ? client.read_response() : workbook::response{};
      return std::make_pair(r, std::chrono::duration_cast<milliseconds>(clock_type::now() - start));
    });
  };

  // While the first window is open, plain requests one after another: all
  // answered before it closes.
  std::atomic<bool> first_asked{false};
  auto first = ask_window(first_asked);
  REQUIRE(workbook::eventually([&] { return first_asked.load(); }, 5s));
  constexpr int enough = 10;
  int answered_meanwhile = 0;
  int last_status = 0;
  {
    workbook::test_client other(port, 5s);
    while (answered_meanwhile < enough && first.wait_for(0s) == std::future_status::timeout) {
      last_status = other.get("/debug/profile").status;
      if (last_status != 200) break;
      if (first.wait_for(0s) == std::future_status::timeout) ++answered_meanwhile;
    }
  }
  {
    INFO("plain GET /debug/profile requests sent one after another while a window of " << window.count()
         << " ms was open on the server's only thread: " << answered_meanwhile
         << " answered before the window closed (the last answer: " << last_status << ")");
    CHECK(answered_meanwhile == enough);
  }

  // Each window holds what was counted during it: never the work done
  // before, and the work done during it whenever a sample of it was counted
  // in those 500 ms (on a loaded machine one may not be: then the test asks
  // again, five windows at most).
  bool during_seen = false;
  for (int attempt = 0; attempt < 5 && !during_seen; ++attempt) {
    std::atomic<bool> asked{false};
    auto windowed = attempt == 0 ? std::move(first) : ask_window(asked);
    REQUIRE(windowed.wait_for(10s) == std::future_status::ready);
    auto const [r, took] = windowed.get();
    INFO("window " << attempt + 1 << ": GET /debug/profile?ms=" << window.count() << " answered " << r.status
                   << " after " << took.count() << " ms:\n" << r.body);
    REQUIRE(r.status == 200);
    CHECK(took >= window);
    auto const table = parse_table(r.body);
    CHECK(table.problem == "");
    CHECK(table.find(before_label) == nullptr);
    if (auto const* during = table.find(during_label)) {
      during_seen = true;
      CHECK(during->samples > 0);
    }
  }
  INFO("the worker burned CPU under \"" << during_label << "\" all along; no window held a sample of it");
  CHECK(during_seen);
  done = true;
  REQUIRE(w.wait());
  prof.stop();
}

TEST_CASE("the debug listener refuses every address but loopback", "[AC5]")
{
  net::io_context ioc;
  task16::profiler prof;
  for (char const* address : {"0.0.0.0", "::", "192.0.2.1", "10.1.2.3", "172.16.0.1", "2001:db8::1", "fe80::1"}) {
    INFO("debug_server on " << address);
    CHECK_THROWS_AS(task16::debug_server(ioc, loopback(address), prof), std::invalid_argument);
  }
  std::vector<char const*> accepted{"127.0.0.1", "127.0.0.2"};
  if (has_ipv6_loopback()) accepted.push_back("::1");
  else WARN("this host has no IPv6 loopback: [::1] not tried");
  for (char const* address : accepted) {
    INFO("debug_server on " << address);
    std::optional<task16::debug_server> debug;
    CHECK_NOTHROW(debug.emplace(ioc, loopback(address), prof));
    if (!debug) continue;
    CHECK_NOTHROW(debug->start());
    CHECK(debug->local_endpoint().address() == net::ip::make_address(address));
    CHECK(debug->local_endpoint().port() != 0);
  }
}
