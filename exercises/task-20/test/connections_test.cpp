// Task 20 · acceptance tests for whose connections are whose: a tenant's
// connections are kept and reused, for that tenant only, and two tenants
// never share one, not even to the same backend [AC3].
#include "fixtures.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <thread>

using namespace task20_test;
using namespace std::chrono_literals;

TEST_CASE("a tenant's requests one after another reuse one connection, its own", "[AC3]")
{
  workbook::test_ca ca;
  auto const acme = make_identity(ca, "acme");
  auto const globex = make_identity(ca, "globex");
  auto server = backend(ca, {acme.server_name, globex.server_name});
  running_pool p;
  p.pool.add(config_for(acme, server.port(), vault_for(acme, ca.certificate())));
  p.pool.add(config_for(globex, server.port(), vault_for(globex, ca.certificate())));

  for (int i = 0; i < 5; ++i) {
    auto const o = trip(*p.pool.for_tenant("acme"), "/acme/" + std::to_string(i));
    INFO(o.describe());
    REQUIRE(ok(o));
  }
  INFO(describe(server.handshake_log()));
  CHECK(server.accepted() == 1);
  CHECK(server.handshakes() == 1);

  // globex asks the same backend: a connection of its own, with its own
  // handshake, while acme's waits idle.
  for (int i = 0; i < 3; ++i) {
    auto const o = trip(*p.pool.for_tenant("globex"), "/globex/" + std::to_string(i));
    INFO(o.describe());
    REQUIRE(ok(o));
    CHECK(o.response.body() == "/globex/" + std::to_string(i) + " for " + globex.subject() + " via " + globex.server_name);
  }
  CHECK(server.accepted() == 2);

  // And acme's idle connection is still acme's.
  auto const o = trip(*p.pool.for_tenant("acme"), "/acme/again");
  INFO(o.describe());
  REQUIRE(ok(o));
  CHECK(o.response.body() == "/acme/again for " + acme.subject() + " via " + acme.server_name);
  CHECK(server.accepted() == 2);
  CHECK(server.requests() == 9);
}

TEST_CASE("two tenants in flight at once on one backend never share a connection", "[AC3]")
{
  workbook::test_ca ca;
  auto const acme = make_identity(ca, "acme");
  auto const globex = make_identity(ca, "globex");
  auto server = backend(ca, {acme.server_name, globex.server_name});
  // Room for as many idle connections as a tenant can have in flight (four
  // threads, three each), so none need be closed: reused, a tenant never
  // has more connections than that.
  auto options = test_options();
  options.max_idle_connections = 12;
  running_pool p(options);
  p.pool.add(config_for(acme, server.port(), vault_for(acme, ca.certificate())));
  p.pool.add(config_for(globex, server.port(), vault_for(globex, ca.certificate())));

  // Four threads, each alternating between the tenants, three exchanges in
  // flight at a time: connections are opened, given back and taken again
  // while the other tenant's are.
  constexpr int rounds = 8;
  std::atomic<int> failures{0};
  std::mutex mutex;
  std::string first_failure;
  {
    std::vector<std::jthread> callers;
    for (int c = 0; c < 4; ++c)
      callers.emplace_back([&, c] {
        for (int r = 0; r < rounds; ++r) {
          std::vector<std::pair<std::string, pending_trip>> batch;
          for (int k = 0; k < 3; ++k) {
            std::string const id = (c + r + k) % 2 ? "acme" : "globex";
            std::string const target = "/" + id + "/" + std::to_string(c) + "-" + std::to_string(r) + "-" + std::to_string(k);
            try {
              batch.emplace_back(target, start_trip(*p.pool.for_tenant(id), target));
            } catch (std::exception const& e) {
              ++failures;
              std::lock_guard lock(mutex);
              if (first_failure.empty()) first_failure = target + ": " + e.what();
            }
          }
          for (auto& [target, f] : batch) {
            auto const o = finish_trip(f, clock_type::now());
            if (!ok(o)) {
              ++failures;
              std::lock_guard lock(mutex);
              if (first_failure.empty()) first_failure = target + ": " + o.describe();
            }
          }
        }
      });
    for (auto& t : callers) t.join();
  }
  INFO("first failure: " << first_failure);
  REQUIRE(failures == 0);

  // Every request came on a connection whose handshake was its tenant's.
  auto const served = server.served();
  auto const log = server.handshake_log();
  INFO(describe(log));
  REQUIRE(served.size() == 4 * rounds * 3);
  std::map<int, std::string> tenant_of_connection;
  int mixed = 0;
  for (auto const& s : served) {
    std::string const id = s.target.substr(1, s.target.find('/', 1) - 1);
    auto const& t = id == "acme" ? acme : globex;
    if (s.client_subject != t.subject() || s.server_name != t.server_name) {
      ++mixed;
      UNSCOPED_INFO(s.target << " came on connection " << s.connection << ", whose handshake was \""
                             << s.server_name << "\" / \"" << s.client_subject << "\"");
    }
    auto [it, fresh] = tenant_of_connection.emplace(s.connection, id);
    if (!fresh && it->second != id) ++mixed;
  }
  CHECK(mixed == 0);
  // Connections were reused, even with both tenants at it: at most twelve
  // each, where 96 requests without reuse would have opened 96.
  CHECK(server.accepted() <= 2 * 12);
}
