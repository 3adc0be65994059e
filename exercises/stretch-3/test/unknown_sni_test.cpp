// Stretch 3 · acceptance tests for names the ingress does not serve [AC2]:
// an SNI that no certificate covers, or no SNI while no_sni_name is unset,
// ends the handshake with a fatal unrecognized_name alert (112) before any
// certificate is sent, over TLS 1.3 and TLS 1.2; each refusal is counted
// once, in rejected_sni; and connections already established carry on.
//
// The alert must be 112 exactly: a server that lets such a handshake go on
// without a certificate fails it too, but with handshake_failure (40).
#include "fixtures.hpp"

#include <catch2/catch.hpp>

using namespace stretch3_test;

namespace {

bool refused_by_name(workbook::tls_handshake_info const& h)
{
  return !h.completed && h.alert == SSL_AD_UNRECOGNIZED_NAME && h.peer_fingerprint.empty();
}

} // namespace

TEST_CASE("an unknown name is refused with unrecognized_name and no certificate", "[AC2]")
{
  edge_certs edge;
  ingress_rig rig(edge);

  auto refused = rig.connect("zz.example.test");
  auto const& h = refused.handshake();
  INFO("TLS 1.3, SNI \"zz.example.test\": the handshake " << edge.describe(h));
  CHECK_FALSE(h.completed);
  CHECK(h.alert == SSL_AD_UNRECOGNIZED_NAME);
  CHECK(h.reason == SSL_R_TLSV1_UNRECOGNIZED_NAME);
  CHECK(h.peer_fingerprint.empty());
  CHECK(refused.closed_by_peer(scaled(1s)));

  auto acme = rig.connect(acme_name);
  INFO("then SNI \"" << acme_name << "\": the handshake " << edge.describe(acme.handshake()));
  CHECK(acme.handshake().completed);
  CHECK(acme.handshake().peer_fingerprint == fingerprint(edge.acme));
}

TEST_CASE("an unknown name is refused the same way over TLS 1.2", "[AC2]")
{
  edge_certs edge;
  ingress_rig rig(edge);

  auto refused = rig.connect("zz.example.test", TLS1_2_VERSION);
  auto const& h = refused.handshake();
  INFO("TLS 1.2 at most, SNI \"zz.example.test\": the handshake " << edge.describe(h));
  CHECK_FALSE(h.completed);
  CHECK(h.alert == SSL_AD_UNRECOGNIZED_NAME);
  CHECK(h.reason == SSL_R_TLSV1_UNRECOGNIZED_NAME);
  CHECK(h.peer_fingerprint.empty());
  CHECK(refused.closed_by_peer(scaled(1s)));

  auto acme = rig.connect(acme_name, TLS1_2_VERSION);
  INFO("then TLS 1.2 with SNI \"" << acme_name << "\": the handshake " << edge.describe(acme.handshake()));
  CHECK(acme.handshake().completed);
  CHECK(acme.handshake().version == "TLSv1.2");
  CHECK(acme.handshake().peer_fingerprint == fingerprint(edge.acme));
}

TEST_CASE("a ClientHello without SNI is refused unless no_sni_name is set", "[AC2]")
{
  edge_certs edge;

  SECTION("no_sni_name unset: refused")
  {
    ingress_rig rig(edge);
    for (int version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
      auto c = rig.connect(rig.client_options(std::nullopt, version, acme_name));
      INFO("no SNI, " << (version == TLS1_3_VERSION ? "TLS 1.3" : "TLS 1.2 at most") << ": the handshake "
                      << edge.describe(c.handshake()));
      CHECK(refused_by_name(c.handshake()));
    }
    bool const counted = rig.stats_until([](auto const& s) { return s.rejected_sni >= 2; });
    INFO(describe(rig.stats()));
    CHECK(counted);
  }
  SECTION("no_sni_name set: served as that name")
  {
    ingress_rig rig(edge, [](stretch3::ingress_options& o) { o.no_sni_name = acme_name; });
    auto c = rig.connect(rig.client_options(std::nullopt, 0, acme_name));
    INFO("no SNI, no_sni_name \"" << acme_name << "\": the handshake " << edge.describe(c.handshake()));
    CHECK(c.handshake().completed);
    CHECK(c.handshake().peer_fingerprint == fingerprint(edge.acme));
    auto const r = c.send({"GET", "/no-sni", {{"Host", acme_name}}, ""});
    INFO("GET /no-sni, Host " << acme_name << ": " << describe(r));
    CHECK(r.status == 200);
    CHECK(r.body == fake_body("acme", acme_name, "GET", "/no-sni"));

    // It stands in for a missing name only, not for an unknown one.
    auto unknown = rig.connect("zz.example.test");
    INFO("SNI \"zz.example.test\": the handshake " << edge.describe(unknown.handshake()));
    CHECK(refused_by_name(unknown.handshake()));
  }
}

TEST_CASE("refused handshakes leave established connections working", "[AC2]")
{
  edge_certs edge;
  ingress_rig rig(edge);

  auto keep = rig.connect(acme_name);
  auto const first = keep.send({"GET", "/before", {}, ""});
  INFO("the keep-alive connection: " << edge.describe(keep.handshake()) << "; GET /before: " << describe(first));
  REQUIRE(first.status == 200);

  int refusals = 0;
  std::string odd;
  for (int i = 0; i < 20; ++i) {
    auto const sni = "unknown-" + std::to_string(i) + ".example.test";
    auto c = rig.connect(sni, i % 2 == 0 ? 0 : TLS1_2_VERSION);
    if (refused_by_name(c.handshake())) ++refusals;
    else if (odd.empty()) odd = "SNI \"" + sni + "\": " + edge.describe(c.handshake());
  }
  auto const after = keep.send({"GET", "/after", {}, ""});
  bool const settled = rig.stats_until([](auto const& s) { return s.connections_open == 1; });
  INFO("20 handshakes with unknown names: " << refusals << " refused with alert 112" << (odd.empty() ? "" : "; first other: " + odd)
                                            << "\nthen GET /after on the first connection: " << describe(after) << "\n"
                                            << rig.state());
  CHECK(refusals == 20);
  CHECK(after.status == 200);
  CHECK(after.body == fake_body("acme", acme_name, "GET", "/after"));
  CHECK(settled);
  CHECK(rig.stats().connections_open == 1);
}

TEST_CASE("each refused handshake is counted once", "[AC2]")
{
  edge_certs edge;
  ingress_rig rig(edge);

  // Four unknown names over TLS 1.3, two over TLS 1.2, one ClientHello without SNI.
  int refusals = 0;
  for (int i = 0; i < 7; ++i) {
    auto o = i < 6 ? rig.client_options("nobody-" + std::to_string(i) + ".example.test", i < 4 ? 0 : TLS1_2_VERSION)
                   : rig.client_options(std::nullopt, 0, acme_name);
    auto c = rig.connect(o);
    refusals += refused_by_name(c.handshake()) ? 1 : 0;
  }
  // Once every connection is closed, every refusal has been counted.
  bool const settled =
      rig.stats_until([](auto const& s) { return s.rejected_sni >= 7 && s.connections_open == 0; });
  auto const s = rig.stats();
  INFO("7 refused handshakes (" << refusals << " refused with alert 112, as the clients saw it)\n" << describe(s));
  CHECK(refusals == 7);
  CHECK(settled);
  CHECK(s.rejected_sni == 7);
  CHECK(s.handshake_failures == 0);
  CHECK(s.handshakes_full == 0);
  CHECK(s.handshake_timeouts == 0);
}
