// Stretch 3 · acceptance tests for forwarding to the tenants [AC6]: each
// request reaches its tenant's backend through task 20's pool, on a
// connection with that tenant's SNI and client certificate, Host kept and
// X-Forwarded-Proto and X-Forwarded-For added, hop-by-hop fields removed
// both ways; tenants never share an upstream connection; and a Host that
// is not the connection's server name is answered 421 and never forwarded.
//
// The backend (tenant_world) answers "<target> for <client subject> via
// <SNI>, Host <Host>" and records each handshake, so the body and its logs
// say which identity carried each request. The forwarding fields are read
// at the fake upstream, which keeps every field it received.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace stretch3_test;

TEST_CASE("each tenant's requests reach its backend with its own identity", "[AC6]")
{
  tenant_world world;
  edge_certs edge;
  ingress_rig rig(edge, {}, world.lookup());

  auto acme = rig.connect(acme_name);
  auto globex = rig.connect(globex_name);
  struct step {
    workbook::tls_client* client;
    tenant_identity const* tenant;
    std::string name;
  };
  int n = 0;
  for (auto const& s : {step{&acme, &world.acme, acme_name}, step{&globex, &world.globex, globex_name},
                        step{&acme, &world.acme, acme_name}, step{&globex, &world.globex, globex_name}}) {
    auto const target = "/" + s.tenant->id + "/" + std::to_string(++n);
    auto const r = s.client->send({"GET", target, {}, ""});
    INFO("GET " << target << " on the " << s.name << " connection (" << edge.describe(s.client->handshake())
                << "): " << describe(r) << "\n" << world.describe());
    CHECK(r.status == 200);
    CHECK(r.body == backend_body(target, s.tenant->subject(), s.tenant->server_name, s.name));
  }

  auto const log = world.backend.handshake_log();
  std::set<std::pair<std::string, std::string>> pairs;
  for (auto const& h : log) pairs.emplace(h.server_name, h.client_subject);
  INFO(world.describe());
  CHECK(pairs == std::set<std::pair<std::string, std::string>>{{world.acme.server_name, world.acme.subject()},
                                                               {world.globex.server_name, world.globex.subject()}});
  for (auto const& h : log) CHECK(h.completed);
  auto const served = world.backend.served();
  CHECK(served.size() == 4);
  for (auto const& s : served) {
    auto const& tenant = s.target.rfind("/acme/", 0) == 0 ? world.acme : world.globex;
    INFO("served " << s.target << " on connection " << s.connection);
    CHECK(s.server_name == tenant.server_name);
    CHECK(s.client_subject == tenant.subject());
  }
}

TEST_CASE("a Host that differs from the SNI is 421 and never forwarded", "[AC6]")
{
  tenant_world world;
  edge_certs edge;
  ingress_rig rig(edge, {}, world.lookup());

  auto acme = rig.connect(acme_name);
  INFO("the connection: " << edge.describe(acme.handshake()));
  auto const wrong = acme.send({"GET", "/misdirected", {{"Host", globex_name}}, ""});
  {
    INFO("GET /misdirected, Host " << globex_name << ", on the " << acme_name << " connection: " << describe(wrong)
                                   << "\n" << world.describe());
    CHECK(wrong.status == 421);
    CHECK(world.backend.requests() == 0);
  }

  auto const right = acme.send({"GET", "/right", {}, ""});
  auto const cased = acme.send({"GET", "/cased", {{"Host", "ACME.example.test:443"}}, ""});
  INFO("then GET /right (Host " << acme_name << "): " << describe(right) << "\nand GET /cased (Host ACME.example.test:443): "
                                << describe(cased) << "\n" << world.describe());
  CHECK(right.status == 200);
  CHECK(right.body == backend_body("/right", world.acme.subject(), world.acme.server_name, acme_name));
  CHECK(cased.status == 200);
  CHECK(cased.body == backend_body("/cased", world.acme.subject(), world.acme.server_name, "ACME.example.test:443"));
  CHECK(world.backend.requests() == 2);
  bool const counted = rig.stats_until([](auto const& s) { return s.requests >= 3; });
  INFO(describe(rig.stats()));
  CHECK(counted);
  CHECK(rig.stats().misdirected == 1);
}

TEST_CASE("forwarded requests keep Host and gain forwarding fields", "[AC6]")
{
  edge_certs edge;
  ingress_rig rig(edge);
  auto c = rig.connect(acme_name);

  std::string const body = "{\"order\":42}";
  workbook::request sent{"POST",
                         "/forwarded?x=1",
                         {{"Host", acme_name},
                          {"Content-Type", "application/json"},
                          {"X-Custom", "kept"},
                          {"X-Forwarded-For", "203.0.113.7"},
                          {"Connection", "keep-alive, X-Client-Hop"},
                          {"X-Client-Hop", "secret"},
                          {"Keep-Alive", "timeout=5"},
                          {"Proxy-Connection", "keep-alive"},
                          {"Proxy-Authorization", "Basic dXNlcjpwYXNz"},
                          {"TE", "trailers"},
                          {"Trailer", "X-Checksum"},
                          {"Upgrade", "h2c"}},
                         body};
  auto const r = c.send(sent);
  INFO("POST /forwarded?x=1 with hop-by-hop fields and X-Forwarded-For: 203.0.113.7, on " << edge.describe(c.handshake())
                                                                                           << ": " << describe(r));
  REQUIRE(r.status == 200);
  CHECK(r.body == fake_body("acme", acme_name, "POST", "/forwarded?x=1"));

  auto const seen = rig.upstream.requests();
  REQUIRE(seen.size() == 1);
  auto const& u = seen.front();
  INFO("the upstream received for " << u.tenant << ": " << u.method << " " << u.target << "\n" << show(u.headers) << "  body \""
                                    << printable(u.body) << "\"");
  CHECK(u.tenant == "acme");
  CHECK(u.method == "POST");
  CHECK(u.target == "/forwarded?x=1");
  CHECK(u.body == body);
  CHECK(values_of(u.headers, "Host") == std::vector<std::string>{acme_name});
  CHECK(values_of(u.headers, "X-Custom") == std::vector<std::string>{"kept"});
  CHECK(values_of(u.headers, "Content-Type") == std::vector<std::string>{"application/json"});
  CHECK(values_of(u.headers, "X-Forwarded-Proto") == std::vector<std::string>{"https"});
  CHECK(values_of(u.headers, "X-Forwarded-For") == std::vector<std::string>{"203.0.113.7, 127.0.0.1"});
  for (char const* name : {"X-Client-Hop", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization", "TE", "Trailer", "Upgrade",
                           "Transfer-Encoding"}) {
    INFO("field " << name);
    CHECK(values_of(u.headers, name).empty());
  }
  for (auto const& value : values_of(u.headers, "Connection")) {
    INFO("Connection: " << value);
    CHECK_FALSE(has_token(value, "X-Client-Hop"));
  }

  // The upstream's own hop-by-hop fields stay on its side.
  auto const hop = c.send({"GET", "/hop", {}, ""});
  INFO("GET /hop, answered with hop-by-hop fields of the upstream's own: " << describe(hop));
  CHECK(hop.status == 200);
  for (char const* name : {"X-Upstream-Hop", "Keep-Alive", "Proxy-Authenticate", "Trailer", "Upgrade"}) {
    INFO("response field " << name);
    CHECK(values_of(hop.headers, name).empty());
  }
  for (auto const& value : values_of(hop.headers, "Connection")) {
    INFO("response Connection: " << value);
    CHECK_FALSE(has_token(value, "X-Upstream-Hop"));
  }
  CHECK(values_of(hop.headers, "X-End-To-End") == std::vector<std::string>{"kept"});
}

TEST_CASE("tenants never share an upstream connection under load", "[AC6]")
{
  tenant_world world;
  edge_certs edge;
  ingress_rig rig(edge, {}, world.lookup());

  // Two threads per tenant, ten requests each, each on its own client.
  struct job {
    tenant_identity const* tenant;
    std::string name;
    int thread;
    std::vector<workbook::response> answers;
  };
  std::vector<job> jobs = {{&world.acme, acme_name, 0, {}}, {&world.acme, acme_name, 1, {}},
                           {&world.globex, globex_name, 0, {}}, {&world.globex, globex_name, 1, {}}};
  {
    std::vector<std::thread> threads;
    for (auto& j : jobs)
      threads.emplace_back([&rig, &j] {
        auto c = rig.connect(j.name);
        for (int i = 0; i < 10; ++i)
          j.answers.push_back(c.send({"GET", "/" + j.tenant->id + "/" + std::to_string(j.thread) + "/" + std::to_string(i), {}, ""}));
      });
    for (auto& t : threads) t.join();
  }

  for (auto const& j : jobs) {
    INFO(j.tenant->id << " thread " << j.thread << " got: " << describe(j.answers));
    REQUIRE(j.answers.size() == 10);
    for (std::size_t i = 0; i < j.answers.size(); ++i) {
      auto const target = "/" + j.tenant->id + "/" + std::to_string(j.thread) + "/" + std::to_string(i);
      CHECK(j.answers[i].status == 200);
      CHECK(j.answers[i].body == backend_body(target, j.tenant->subject(), j.tenant->server_name, j.name));
    }
  }

  // At the backend: every request came on a connection of its own tenant's identity.
  auto const served = world.backend.served();
  INFO(world.describe());
  CHECK(served.size() == 40);
  std::map<int, std::set<std::string>> subjects;  // connection -> client subjects of its requests
  int crossed = 0;
  for (auto const& s : served) {
    subjects[s.connection].insert(s.client_subject);
    auto const& tenant = s.target.rfind("/acme/", 0) == 0 ? world.acme : world.globex;
    if (s.client_subject != tenant.subject() || s.server_name != tenant.server_name) ++crossed;
  }
  CHECK(crossed == 0);
  for (auto const& [connection, seen] : subjects) {
    INFO("backend connection " << connection);
    CHECK(seen.size() == 1);
  }
}
