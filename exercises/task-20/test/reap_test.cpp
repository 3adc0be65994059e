// Task 20 · acceptance tests for reaping idle transports: by the injected
// clock, idle_ttl after the transport's last use (the end of its last
// exchange), never while an exchange is in flight; a reaped tenant stays
// and builds again on its next call [AC6].
#include "fixtures.hpp"

#include <catch2/catch.hpp>

using namespace task20_test;
using namespace std::chrono_literals;

namespace {

constexpr std::chrono::seconds ttl = std::chrono::minutes(1);

// A pool whose only clock is `clock`, with idle_ttl one (manual) minute.
task20::pool_options on(workbook::manual_clock& clock)
{
  auto o = test_options();
  o.idle_ttl = ttl;
  o.now = [&clock] { return clock.now(); };
  return o;
}

bool retired(outcome const& o) { return o.answered && o.ec == task20::pool_error::transport_retired; }

} // namespace

TEST_CASE("an idle transport is reaped idle_ttl after its last use by the pool's clock", "[AC6]")
{
  workbook::manual_clock clock;
  workbook::test_ca ca;
  auto const acme = make_identity(ca, "acme");
  auto const globex = make_identity(ca, "globex");
  auto server = backend(ca, {acme.server_name, globex.server_name});
  auto credentials = vault_for(acme, ca.certificate());
  running_pool p(on(clock));
  p.pool.add(config_for(acme, server.port(), credentials));
  p.pool.add(config_for(globex, server.port(), vault_for(globex, ca.certificate())));

  auto const old = p.pool.for_tenant("acme");
  REQUIRE(ok(trip(*old, "/acme")));
  clock.advance(ttl / 2);
  REQUIRE(ok(trip(*p.pool.for_tenant("globex"), "/globex")));
  REQUIRE(server.open() == 2);

  // Not yet: a second short of acme's idle_ttl.
  clock.advance(ttl / 2 - 1s);
  CHECK(p.pool.reap_idle() == 0);
  CHECK(server.open() == 2);

  // Now acme's, and only acme's: globex was used half a minute later.
  clock.advance(2s);
  CHECK(p.pool.reap_idle() == 1);
  bool const closed = workbook::eventually([&] { return server.open() == 1; }, 1000ms);
  INFO("after the reap, the backend had " << server.open() << " connection(s) open (globex's should stay)");
  CHECK(closed);
  CHECK(retired(trip(*old, "/acme/old", 3000ms)));

  // The tenant stays: its next call builds and handshakes anew.
  auto const fresh = p.pool.for_tenant("acme");
  CHECK(fresh != old);
  auto const o = trip(*fresh, "/acme/new");
  INFO(o.describe());
  CHECK(ok(o));
  CHECK(credentials->calls == 2);
  CHECK(server.handshakes() == 3);
}

TEST_CASE("idle time counts from the last exchange, not from the build", "[AC6]")
{
  workbook::manual_clock clock;
  workbook::test_ca ca;
  auto const acme = make_identity(ca, "acme");
  auto server = backend(ca, {acme.server_name});
  running_pool p(on(clock));
  p.pool.add(config_for(acme, server.port(), vault_for(acme, ca.certificate())));

  auto const t = p.pool.for_tenant("acme");
  REQUIRE(ok(trip(*t, "/first")));
  clock.advance(ttl * 3 / 4);
  REQUIRE(ok(trip(*t, "/second")));
  clock.advance(ttl * 3 / 4);
  // Built a minute and a half ago, used 45 s ago: not idle for a minute.
  CHECK(p.pool.reap_idle() == 0);
  CHECK(ok(trip(*t, "/third")));
  clock.advance(ttl);
  CHECK(p.pool.reap_idle() == 1);
}

TEST_CASE("a transport with an exchange in flight is not reaped, and its end is its last use", "[AC6]")
{
  workbook::manual_clock clock;
  workbook::test_ca ca;
  auto const acme = make_identity(ca, "acme");
  auto slow = std::make_shared<gate>();
  auto server = backend(ca, {acme.server_name}, slow);
  running_pool p(on(clock));
  p.pool.add(config_for(acme, server.port(), vault_for(acme, ca.certificate())));

  auto const t = p.pool.for_tenant("acme");
  slow->close();
  auto const start = clock_type::now();
  auto pending = start_trip(*t, "/slow");
  bool const in_flight = workbook::eventually([&] { return server.requests() == 1; }, 2000ms);
  // Two minutes pass with the exchange in flight.
  clock.advance(2 * ttl);
  std::size_t const reaped_in_flight = in_flight ? p.pool.reap_idle() : 99;
  slow->open();
  REQUIRE(in_flight);
  CHECK(reaped_in_flight == 0);

  auto const o = finish_trip(pending, start);
  INFO(o.describe());
  CHECK(ok(o));
  // It ended just now: its last use.
  CHECK(p.pool.reap_idle() == 0);
  CHECK(ok(trip(*t, "/still-mine")));
  CHECK(server.accepted() == 1);
  clock.advance(ttl);
  CHECK(p.pool.reap_idle() == 1);
}
