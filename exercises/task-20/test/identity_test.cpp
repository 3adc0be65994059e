// Task 20 · acceptance tests for what a tenant's handshakes carry: its own
// server name as SNI and its own client certificate, on a backend it shares
// with another tenant [AC1]; and what they check: the backend's certificate
// must chain to the tenant's CA and name the tenant's server, or the
// exchange fails with a verification error, promptly [AC2].
#include "fixtures.hpp"

#include <workbook/test_server.hpp>

#include <boost/asio/ssl/error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <catch2/catch.hpp>

#include <set>
#include <thread>

using namespace task20_test;
using namespace std::chrono_literals;

namespace {

// Asio's SSL error whose OpenSSL reason is "certificate verify failed".
bool verification_failed(error_code ec)
{
  return ec.category() == net::error::get_ssl_category() &&
         ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED;
}

} // namespace

// ---------------------------------------------------------------- AC1

TEST_CASE("each tenant's handshakes carry its own SNI and its own client certificate", "[AC1]")
{
  workbook::test_ca ca;
  auto const acme = make_identity(ca, "acme");
  auto const globex = make_identity(ca, "globex");
  auto server = backend(ca, {acme.server_name, globex.server_name});
  running_pool p;
  p.pool.add(config_for(acme, server.port(), vault_for(acme, ca.certificate())));
  p.pool.add(config_for(globex, server.port(), vault_for(globex, ca.certificate())));

  // Both built before either connects: a context shared between tenants
  // would by now hold the last one's certificate.
  auto const for_acme = p.pool.for_tenant("acme");
  auto const for_globex = p.pool.for_tenant("globex");
  for (auto const* t : {&acme, &globex, &acme, &globex}) {
    auto const o = trip(t == &acme ? *for_acme : *for_globex, "/" + t->id);
    INFO("GET /" << t->id << " as " << t->id << ": " << o.describe() << "\n" << describe(server.handshake_log()));
    REQUIRE(ok(o));
    CHECK(o.response.body() == "/" + t->id + " for " + t->subject() + " via " + t->server_name);
  }

  auto const log = server.handshake_log();
  INFO(describe(log));
  std::set<std::pair<std::string, std::string>> seen;
  for (auto const& h : log) {
    CHECK(h.completed);
    seen.emplace(h.server_name, h.client_subject);
  }
  std::set<std::pair<std::string, std::string>> const expected{{acme.server_name, acme.subject()},
                                                               {globex.server_name, globex.subject()}};
  CHECK(seen == expected);
}

TEST_CASE("tenants on backends of their own each present their own identity", "[AC1]")
{
  // Four tenants, each with a backend whose certificate names it alone,
  // built concurrently: every build has its own context.
  workbook::test_ca ca;
  std::vector<tenant_identity> tenants;
  std::vector<workbook::tls_test_server> servers;
  running_pool p;
  for (auto id : {"initech", "umbrella", "hooli", "vandelay"}) {
    tenants.push_back(make_identity(ca, id));
    servers.push_back(backend(ca, {tenants.back().server_name}));
    p.pool.add(config_for(tenants.back(), servers.back().port(), vault_for(tenants.back(), ca.certificate())));
  }
  std::vector<std::shared_ptr<workbook::round_tripper>> transports(tenants.size());
  {
    std::vector<std::jthread> builders;
    for (std::size_t i = 0; i < tenants.size(); ++i)
      builders.emplace_back([&, i] {
        try {
          transports[i] = p.pool.for_tenant(tenants[i].id);
        } catch (...) {
        }
      });
    for (auto& b : builders) b.join();
  }
  for (std::size_t i = 0; i < tenants.size(); ++i) {
    INFO("tenant " << tenants[i].id);
    REQUIRE(transports[i]);
    auto const o = trip(*transports[i], "/hello");
    auto const log = servers[i].handshake_log();
    INFO(o.describe() << "\n" << describe(log));
    REQUIRE(ok(o));
    REQUIRE(log.size() == 1);
    CHECK(log[0].server_name == tenants[i].server_name);
    CHECK(log[0].client_subject == tenants[i].subject());
  }
}

// ---------------------------------------------------------------- AC2

TEST_CASE("a backend whose certificate another CA signed fails with a verification error", "[AC2]")
{
  workbook::test_ca ca;
  workbook::test_ca stranger("a CA the tenant does not trust");
  auto const acme = make_identity(ca, "acme");
  auto server = backend(stranger, {acme.server_name});  // a certificate from the wrong CA
  running_pool p;
  // acme trusts `ca`; the backend's certificate chains to `stranger`.
  p.pool.add(config_for(acme, server.port(), vault_for(acme, ca.certificate())));

  for (int attempt = 1; attempt <= 2; ++attempt) {
    auto const o = trip(*p.pool.for_tenant("acme"), "/secret", 3000ms);
    INFO("attempt " << attempt << ": " << o.describe() << "\n" << describe(server.handshake_log()));
    REQUIRE(o.answered);
    CHECK(verification_failed(o.ec));
    CHECK(o.elapsed < 2000ms);
  }
  CHECK(server.requests() == 0);
}

TEST_CASE("a backend whose certificate names another server fails with a verification error", "[AC2]")
{
  workbook::test_ca ca;
  auto const acme = make_identity(ca, "acme");
  // The right CA, but the certificate is for globex (and the address), not acme.
  auto server = backend(ca, {"globex.tenants.test", "127.0.0.1"});
  running_pool p;
  p.pool.add(config_for(acme, server.port(), vault_for(acme, ca.certificate())));

  auto const o = trip(*p.pool.for_tenant("acme"), "/secret", 3000ms);
  INFO(o.describe() << "\n" << describe(server.handshake_log()));
  REQUIRE(o.answered);
  CHECK(verification_failed(o.ec));
  CHECK(o.elapsed < 2000ms);
  CHECK(server.requests() == 0);
}

TEST_CASE("a backend that never answers the handshake fails within the exchange timeout", "[AC2]")
{
  // A TCP peer that accepts and then says nothing: the ClientHello goes
  // unanswered. Forty exchanges, each on a connection of its own, started
  // 5 ms apart so that their deadlines fire one at a time while the pool's
  // other thread is free: a deadline handler that races the read it cuts
  // short loses that race only now and then, the more so on a busy machine,
  // so the test gives it many chances.
  auto silent = workbook::test_server::scripted([](workbook::peer& peer) { peer.hold(); });
  workbook::test_ca ca;
  auto const acme = make_identity(ca, "acme");
  auto options = test_options();
  options.timeout = 200ms;
  running_pool p(options);
  p.pool.add(config_for(acme, silent.port(), vault_for(acme, ca.certificate())));

  auto const t = p.pool.for_tenant("acme");
  constexpr int exchanges = 40;
  std::vector<std::pair<clock_type::time_point, pending_trip>> pending;
  for (int i = 0; i < exchanges; ++i) {
    if (i > 0) std::this_thread::sleep_for(5ms);  // spacing the deadlines is the point
    pending.emplace_back(clock_type::now(), start_trip(*t, "/" + std::to_string(i)));
  }
  for (int i = 0; i < exchanges; ++i) {
    auto& [start, f] = pending[static_cast<std::size_t>(i)];
    auto const o = finish_trip(f, start, 3000ms);
    INFO("exchange " << i << ": " << o.describe() << "; the exchange timeout is 200 ms");
    REQUIRE(o.answered);
    CHECK(o.ec == boost::beast::error::timeout);
    CHECK(o.elapsed >= 150ms);
    CHECK(o.elapsed < 1500ms);
  }
  CHECK(silent.accepted() == exchanges);
}
