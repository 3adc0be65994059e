// Task 20 · acceptance tests for a tenant that goes or changes: remove()
// closes its idle connections and its old transport is used no more, the
// next build handshakes anew, an exchange in flight finishes and its
// connection is not kept, a replaced tenant's next handshake presents the
// new certificate [AC5]; and a tenant the pool does not know is a clear
// error that builds nothing [AC7].
#include "fixtures.hpp"

#include <catch2/catch.hpp>

using namespace task20_test;
using namespace std::chrono_literals;

namespace {

bool retired(outcome const& o) { return o.answered && o.ec == task20::pool_error::transport_retired; }

} // namespace

// ---------------------------------------------------------------- AC5

TEST_CASE("remove closes the tenant's idle connections and its old transport is refused", "[AC5]")
{
  workbook::test_ca ca;
  auto const acme = make_identity(ca, "acme");
  auto server = backend(ca, {acme.server_name});
  auto credentials = vault_for(acme, ca.certificate());
  running_pool p;
  p.pool.add(config_for(acme, server.port(), credentials));

  auto const old = p.pool.for_tenant("acme");
  auto const first = trip(*old, "/before");
  INFO(first.describe());
  REQUIRE(ok(first));
  REQUIRE(server.open() == 1);

  CHECK(p.pool.remove("acme"));
  bool const closed = workbook::eventually([&] { return server.open() == 0; }, 1000ms);
  INFO("after remove(\"acme\"), the backend still had " << server.open() << " connection(s) open");
  CHECK(closed);

  // The old transport sends nothing more, on any connection.
  auto const after = trip(*old, "/after-remove", 3000ms);
  INFO("an exchange on the removed tenant's transport: " << after.describe());
  CHECK(retired(after));
  CHECK(server.requests() == 1);
  CHECK(server.accepted() == 1);

  // The tenant is gone, and removing it again says so.
  CHECK_THROWS_AS(p.pool.for_tenant("acme"), task20::unknown_tenant);
  CHECK_FALSE(p.pool.remove("acme"));
}

TEST_CASE("a tenant removed and added again builds anew and handshakes anew", "[AC5]")
{
  workbook::test_ca ca;
  auto const acme = make_identity(ca, "acme");
  auto server = backend(ca, {acme.server_name});
  auto credentials = vault_for(acme, ca.certificate());
  running_pool p;
  p.pool.add(config_for(acme, server.port(), credentials));

  auto const old = p.pool.for_tenant("acme");
  REQUIRE(ok(trip(*old, "/one")));
  REQUIRE(p.pool.remove("acme"));
  p.pool.add(config_for(acme, server.port(), credentials));

  auto const fresh = p.pool.for_tenant("acme");
  CHECK(fresh != old);
  auto const o = trip(*fresh, "/two");
  INFO(o.describe() << "\n" << describe(server.handshake_log()));
  REQUIRE(ok(o));
  CHECK(credentials->calls == 2);
  CHECK(server.accepted() == 2);
  CHECK(server.handshakes() == 2);
  CHECK(retired(trip(*old, "/three", 3000ms)));
}

TEST_CASE("an exchange in flight at remove finishes, and its connection is closed, not kept", "[AC5]")
{
  workbook::test_ca ca;
  auto const acme = make_identity(ca, "acme");
  auto slow = std::make_shared<gate>();
  auto server = backend(ca, {acme.server_name}, slow);
  running_pool p;
  p.pool.add(config_for(acme, server.port(), vault_for(acme, ca.certificate())));

  auto const t = p.pool.for_tenant("acme");
  slow->close();
  auto const start = clock_type::now();
  auto pending = start_trip(*t, "/slow");
  bool const in_flight = workbook::eventually([&] { return server.requests() == 1; }, 2000ms);
  bool const removed = p.pool.remove("acme");
  slow->open();
  REQUIRE(in_flight);
  REQUIRE(removed);

  auto const o = finish_trip(pending, start);
  INFO("the exchange in flight at remove: " << o.describe());
  CHECK(ok(o));
  bool const closed = workbook::eventually([&] { return server.open() == 0; }, 1000ms);
  INFO("once it finished, the backend still had " << server.open() << " connection(s) open");
  CHECK(closed);
  CHECK(retired(trip(*t, "/after", 3000ms)));
  CHECK(server.accepted() == 1);
}

TEST_CASE("a tenant added again with a new certificate presents the new one", "[AC5]")
{
  workbook::test_ca ca;
  auto const acme = make_identity(ca, "acme");
  auto const renewed = make_identity(ca, "acme", "tenant-acme-2027");  // the same tenant, a new certificate
  auto server = backend(ca, {acme.server_name});
  running_pool p;
  p.pool.add(config_for(acme, server.port(), vault_for(acme, ca.certificate())));

  auto const before = trip(*p.pool.for_tenant("acme"), "/before");
  INFO(before.describe());
  REQUIRE(ok(before));
  REQUIRE(server.open() == 1);

  p.pool.add(config_for(renewed, server.port(), vault_for(renewed, ca.certificate())));
  bool const closed = workbook::eventually([&] { return server.open() == 0; }, 1000ms);
  auto const after = trip(*p.pool.for_tenant("acme"), "/after");
  INFO("after the tenant was replaced: " << after.describe() << "\n" << describe(server.handshake_log()));
  REQUIRE(ok(after));
  CHECK(after.response.body() == "/after for " + renewed.subject() + " via " + acme.server_name);
  CHECK(closed);
  CHECK(server.handshakes() == 2);
}

// ---------------------------------------------------------------- AC7

TEST_CASE("an unknown tenant is an unknown_tenant error naming it, and nothing is built", "[AC7]")
{
  workbook::test_ca ca;
  auto const acme = make_identity(ca, "acme");
  auto const initech = make_identity(ca, "initech");
  auto server = backend(ca, {acme.server_name, initech.server_name});
  auto acme_credentials = vault_for(acme, ca.certificate());
  auto initech_credentials = vault_for(initech, ca.certificate());
  running_pool p;
  p.pool.add(config_for(acme, server.port(), acme_credentials));

  for (int attempt = 0; attempt < 2; ++attempt) {
    std::string what = "(nothing thrown: for_tenant returned a transport)";
    std::string named;
    try {
      auto t = p.pool.for_tenant("initech");
      if (!t) what = "(nothing thrown: for_tenant returned nullptr)";
    } catch (task20::unknown_tenant const& e) {
      what = e.what();
      named = e.tenant();
    } catch (std::exception const& e) {
      what = std::string("an exception that is not task20::unknown_tenant: ") + e.what();
    }
    INFO("for_tenant(\"initech\"), which was never added: " << what);
    CHECK(named == "initech");
  }
  CHECK(acme_credentials->calls == 0);
  CHECK(server.accepted() == 0);
  CHECK_FALSE(p.pool.remove("initech"));

  // Added later, it is a tenant like any other: asking for it before did
  // not leave anything behind.
  p.pool.add(config_for(initech, server.port(), initech_credentials));
  auto const o = trip(*p.pool.for_tenant("initech"), "/hello");
  INFO(o.describe() << "\n" << describe(server.handshake_log()));
  REQUIRE(ok(o));
  CHECK(o.response.body() == "/hello for " + initech.subject() + " via " + initech.server_name);
  CHECK(initech_credentials->calls == 1);
}
