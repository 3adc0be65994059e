// Task 20 · acceptance tests for building a tenant's transport: once, however
// many threads ask at the same moment, complete before anyone gets it,
// without holding up other tenants, and not kept when it fails [AC4].
#include "fixtures.hpp"

#include <catch2/catch.hpp>

#include <latch>
#include <thread>

using namespace task20_test;
using namespace std::chrono_literals;

TEST_CASE("1000 concurrent first calls for one tenant build its transport exactly once", "[AC4]")
{
  workbook::test_ca ca;
  auto const acme = make_identity(ca, "acme");
  auto server = backend(ca, {acme.server_name});
  auto credentials = vault_for(acme, ca.certificate());
  running_pool p;
  p.pool.add(config_for(acme, server.port(), credentials));

  // The vault holds every call until the test has seen all 1000 callers
  // arrive: the build is slow, and everyone asks while it runs.
  constexpr int callers = 1000;
  credentials->hold();
  std::latch start(callers + 1);
  std::atomic<int> entered{0};
  std::atomic<int> early{0};    // got the transport before credentials() had returned
  std::atomic<int> threw{0};
  std::vector<std::shared_ptr<workbook::round_tripper>> got(callers);
  std::vector<std::jthread> threads;
  threads.reserve(callers);
  for (int i = 0; i < callers; ++i)
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      ++entered;
      try {
        got[static_cast<std::size_t>(i)] = p.pool.for_tenant("acme");
        if (credentials->returned == 0) ++early;
      } catch (...) {
        ++threw;
      }
    });
  start.arrive_and_wait();
  bool const all_in = workbook::eventually([&] { return entered == callers; }, 3000ms);
  // A window for the callers to reach the pool: nothing they do in it may
  // build a second time or hand out the transport early.
  std::this_thread::sleep_for(50ms);
  int const calls_while_held = credentials->calls;
  credentials->release();
  for (auto& t : threads) t.join();

  INFO("credentials() was called " << credentials->calls << " times (" << calls_while_held
                                   << " while the first build was held back); " << early
                                   << " callers got the transport before its build had its credentials; " << threw
                                   << " calls threw");
  CHECK(all_in);
  CHECK(threw == 0);
  CHECK(credentials->calls == 1);
  CHECK(early == 0);
  std::size_t same = 0;
  for (auto const& t : got) same += t && t == got.front();
  CHECK(same == callers);

  // And what they all got is the tenant's, fully configured.
  REQUIRE(got.front());
  auto const o = trip(*got.front(), "/after-the-rush");
  INFO(o.describe() << "\n" << describe(server.handshake_log()));
  REQUIRE(ok(o));
  CHECK(o.response.body() == "/after-the-rush for " + acme.subject() + " via " + acme.server_name);
}

TEST_CASE("no caller gets a transport whose build has not finished", "[AC4]")
{
  // One caller builds, held in credentials(); a second asks meanwhile and
  // must wait, then send with the finished transport.
  workbook::test_ca ca;
  auto const acme = make_identity(ca, "acme");
  auto server = backend(ca, {acme.server_name});
  auto credentials = vault_for(acme, ca.certificate());
  running_pool p;
  p.pool.add(config_for(acme, server.port(), credentials));

  credentials->hold();
  std::shared_ptr<workbook::round_tripper> first;
  std::atomic<bool> first_done{false};
  std::jthread builder([&] {
    try {
      first = p.pool.for_tenant("acme");
    } catch (...) {
    }
    first_done = true;
  });
  workbook::eventually([&] { return credentials->calls >= 1 || first_done; }, 2000ms);
  bool const building = credentials->calls >= 1;

  std::atomic<bool> second_returned{false};
  outcome second;
  std::jthread asker([&] {
    try {
      auto t = p.pool.for_tenant("acme");
      second_returned = true;
      second = trip(*t, "/second");
    } catch (std::exception const& e) {
      second_returned = true;
      second.threw = e.what();
    }
  });
  // While the build is held back, the second caller has nothing to send with.
  bool const returned_early = workbook::eventually([&] { return second_returned.load(); }, 100ms);
  credentials->release();
  builder.join();
  asker.join();

  INFO("the second call " << (!returned_early         ? "waited for the first build"
                                : second.threw.empty() ? "returned while the first build was still in credentials()"
                                                       : "threw while the first build was still in credentials()")
                          << "; its exchange: " << second.describe() << "\n" << describe(server.handshake_log()));
  CHECK(building);
  CHECK_FALSE(returned_early);
  CHECK(ok(second));
  CHECK(credentials->calls == 1);
  CHECK(server.failed_handshakes() == 0);
}

TEST_CASE("a slow build for one tenant does not hold up a call for another", "[AC4]")
{
  workbook::test_ca ca;
  auto const acme = make_identity(ca, "acme");
  auto const globex = make_identity(ca, "globex");
  auto server = backend(ca, {acme.server_name, globex.server_name});
  auto slow = vault_for(acme, ca.certificate());
  running_pool p;
  p.pool.add(config_for(acme, server.port(), slow));
  p.pool.add(config_for(globex, server.port(), vault_for(globex, ca.certificate())));

  slow->hold();
  std::atomic<bool> acme_done{false};
  std::jthread builder([&] {
    try {
      p.pool.for_tenant("acme");
    } catch (...) {
    }
    acme_done = true;
  });
  workbook::eventually([&] { return slow->calls >= 1 || acme_done; }, 2000ms);
  REQUIRE(slow->calls >= 1);

  // acme's build waits in its vault (for up to 2 s); globex's does not.
  auto const asked = clock_type::now();
  std::shared_ptr<workbook::round_tripper> t;
  try {
    t = p.pool.for_tenant("globex");
  } catch (...) {
  }
  auto const waited = since(asked);
  slow->release();
  builder.join();

  INFO("for_tenant(\"globex\") took " << waited.count() << " ms while acme's build was held back");
  REQUIRE(t);
  CHECK(waited < 500ms);
  auto const o = trip(*t, "/globex");
  INFO(o.describe());
  CHECK(ok(o));
}

TEST_CASE("a build that throws reaches every waiting caller and is not kept", "[AC4]")
{
  workbook::test_ca ca;
  auto const acme = make_identity(ca, "acme");
  auto server = backend(ca, {acme.server_name});
  auto credentials = vault_for(acme, ca.certificate());
  running_pool p;
  p.pool.add(config_for(acme, server.port(), credentials));

  // The vault is down, and slow about it.
  credentials->fail(true);
  credentials->hold();
  std::string errors[2];
  std::atomic<int> finished{0};
  // Both callers may catch the same exception object (the build's, through
  // a shared future); the last to leave its catch frees it. The latch keeps
  // either from leaving before both have read it: libstdc++ counts the
  // object's holders where ThreadSanitizer cannot see, and would report the
  // free as a race with the other's what().
  std::latch both_read(2);
  std::vector<std::jthread> callers;
  for (int i = 0; i < 2; ++i)
    callers.emplace_back([&, i] {
      try {
        p.pool.for_tenant("acme");
        errors[i] = "(returned a transport)";
        both_read.arrive_and_wait();
      } catch (std::exception const& e) {
        errors[i] = e.what();
        both_read.arrive_and_wait();
      }
      ++finished;
    });
  workbook::eventually([&] { return credentials->calls >= 1 || finished == 2; }, 2000ms);
  REQUIRE(credentials->calls >= 1);
  std::this_thread::sleep_for(30ms);  // the second caller arrives during the build
  credentials->release();
  for (auto& c : callers) c.join();
  INFO("the callers got: \"" << errors[0] << "\" and \"" << errors[1] << "\"");
  CHECK(errors[0] == "vault unavailable");
  CHECK(errors[1] == "vault unavailable");

  // The vault is back: the next call builds again, and works.
  credentials->fail(false);
  int const calls_before = credentials->calls;
  std::shared_ptr<workbook::round_tripper> t;
  std::string error;
  try {
    t = p.pool.for_tenant("acme");
  } catch (std::exception const& e) {
    error = e.what();
  }
  INFO("after the vault came back, for_tenant " << (t ? "returned a transport" : "threw \"" + error + "\""));
  REQUIRE(t);
  CHECK(credentials->calls == calls_before + 1);
  auto const o = trip(*t, "/recovered");
  INFO(o.describe());
  CHECK(ok(o));
}
