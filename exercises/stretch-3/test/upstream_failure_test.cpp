// Stretch 3 · acceptance tests for upstream trouble [AC7]: every failure
// gets an answer (a name without a tenant 404, a refused backend 502, a
// silent one 504 at the pool's timeout, a tenant the pool does not know
// 502) and the client's connection carries its next request, answered the
// same way; and replacing a tenant while requests flow costs no client an
// error: an exchange that meets a retired transport is tried again with a
// fresh lookup.
#include "fixtures.hpp"

#include <workbook/ports.hpp>
#include <workbook/test_server.hpp>
#include <workbook/upstreams.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <thread>

using namespace stretch3_test;

TEST_CASE("a name with a certificate but no tenant is a 404", "[AC7]")
{
  edge_certs edge;
  auto const initech = edge.issue("initech", {initech_name});
  edge.dir.put("initech", initech);
  ingress_rig rig(edge);  // tenants: acme and globex only

  auto c = rig.connect(initech_name);
  INFO("SNI " << initech_name << ", which has a certificate and no tenant: " << edge.describe(c.handshake()));
  REQUIRE(c.handshake().completed);
  std::vector<workbook::response> rs;
  for (int i = 1; i <= 2; ++i) rs.push_back(c.send({"GET", "/nobody/" + std::to_string(i), {}, ""}));
  INFO("two GETs on that connection: " << describe(rs) << "\n" << rig.state());
  for (auto const& r : rs) CHECK(r.status == 404);
  CHECK(rig.upstream.requests().empty());
}

TEST_CASE("a refused backend is 502 and a silent one 504", "[AC7]")
{
  workbook::refusing_port refusing;
  auto silent = workbook::test_server::scripted(workbook::upstreams::silent());
  tenant_world world(200ms);  // the pool's timeout for one exchange
  world.add(world.acme, refusing.port());
  world.add(world.globex, silent.port());
  edge_certs edge;
  ingress_rig rig(edge, {}, world.lookup());

  auto to_refused = rig.connect(acme_name);
  for (int i = 1; i <= 2; ++i) {
    auto const r = to_refused.send({"GET", "/refused/" + std::to_string(i), {}, ""});
    INFO("request " << i << " on the acme connection, acme's backend refusing connections: " << describe(r));
    CHECK(r.status == 502);
  }

  auto to_silent = rig.connect(globex_name);
  for (int i = 1; i <= 2; ++i) {
    auto const start = steady_clock::now();
    auto const r = to_silent.send({"GET", "/silent/" + std::to_string(i), {}, ""});
    auto const took = since(start);
    INFO("request " << i << " on the globex connection, globex's backend accepting and never answering, pool timeout "
                    "200 ms: " << describe(r) << " after " << took.count() << " ms");
    CHECK(r.status == 504);
    CHECK(took >= 150ms);
    CHECK(took <= scaled(1500ms));
  }
  // The 504s came from the pool's timeout, not from a connection refused.
  INFO("the silent backend accepted " << silent.accepted() << " connection(s)\n" << rig.state());
  CHECK(silent.accepted() >= 1);
}

TEST_CASE("a tenant replaced in the pool mid-traffic costs no client an error", "[AC7]")
{
  SECTION("the pool replaces acme five times while two clients send")
  {
    tenant_world world;
    edge_certs edge;
    ingress_rig rig(edge, {}, world.lookup());
    auto const v2 = world.identity("acme", "tenant-acme-v2");

    int const each = 40;
    std::array<std::atomic<int>, 2> answered{};
    std::vector<std::vector<workbook::response>> answers(2);
    std::vector<std::thread> clients;
    for (std::size_t k = 0; k < 2; ++k)
      clients.emplace_back([&, k] {
        auto c = rig.connect(acme_name);
        for (int i = 0; i < each; ++i) {
          answers[k].push_back(c.send({"GET", "/load/" + std::to_string(k) + "/" + std::to_string(i), {}, ""}));
          ++answered[k];
        }
      });
    // Before each replacement, six more answers on each client (or all of
    // its answers): no request spans two replacements. One retry covers
    // one replacement (H2); two in one request may rightly end in a 502.
    int replaced = 0;
    for (int k = 1; k <= 5; ++k) {
      int const from[2] = {answered[0].load(), answered[1].load()};
      auto const moved_on = [&](std::size_t i) { return answered[i].load() >= std::min(from[i] + 6, each); };
      if (!workbook::eventually([&] { return moved_on(0) && moved_on(1); }, scaled(5s))) break;
      world.add(v2, world.backend.port());
      ++replaced;
    }
    for (auto& t : clients) t.join();

    for (std::size_t k = 0; k < answers.size(); ++k) {
      INFO("client " << k << " sent 40 GETs while the pool replaced acme " << replaced << " times: " << describe(answers[k]));
      CHECK(answers[k].size() == 40);
      for (auto const& r : answers[k]) CHECK(r.status == 200);
    }
    INFO("the pool replaced acme " << replaced << " times, each after six more answers on each client");
    CHECK(replaced == 5);

    auto c = rig.connect(acme_name);
    auto const after = c.send({"GET", "/after", {}, ""});
    INFO("GET /after, once the replacements are over: " << describe(after) << "\n" << world.describe());
    CHECK(after.status == 200);
    CHECK(after.body == backend_body("/after", v2.subject(), v2.server_name, acme_name));
  }
  SECTION("the lookup hands out a transport retired a moment later")
  {
    // What the pool does when it replaces a tenant between the ingress's
    // lookup and its exchange, made certain: that transport answers
    // transport_retired without sending anything.
    edge_certs edge;
    ingress_rig rig(edge);
    rig.upstream.retire_next("acme");

    auto c = rig.connect(acme_name);
    auto const r = c.send({"GET", "/retired", {}, ""});
    auto const next = c.send({"GET", "/next", {}, ""});
    INFO("the next acme transport handed out is retired; GET /retired: " << describe(r) << "\nthen GET /next: "
                                                                          << describe(next) << "\n" << rig.state());
    CHECK(rig.upstream.retired_answers() == 1);
    CHECK(r.status == 200);
    CHECK(r.body == fake_body("acme", acme_name, "GET", "/retired"));
    CHECK(next.status == 200);
  }
}

TEST_CASE("a tenant the pool does not know is a 502", "[AC7]")
{
  tenant_world world;
  edge_certs edge;
  ingress_rig rig(edge, [](stretch3::ingress_options& o) { o.tenants[acme_name] = "ghost"; }, world.lookup());

  auto c = rig.connect(acme_name);
  INFO("SNI " << acme_name << ", its tenant \"ghost\" not in the pool: " << edge.describe(c.handshake()));
  REQUIRE(c.handshake().completed);
  std::vector<workbook::response> rs;
  for (int i = 1; i <= 2; ++i) rs.push_back(c.send({"GET", "/ghost/" + std::to_string(i), {}, ""}));
  INFO("two GETs on that connection: " << describe(rs) << "\n" << world.describe());
  for (auto const& r : rs) CHECK(r.status == 502);
  CHECK(world.backend.accepted() == 0);
}
