// Stretch 3 · acceptance tests for session resumption [AC5]: a saved
// session resumes over TLS 1.3 (ticket), TLS 1.2 (ticket) and TLS 1.2
// (session id), also after a reload, and keeps its first handshake's
// certificate; offered under another name it gives a full handshake with
// that name's certificate (RFC 6066, section 3); a name no longer served
// is refused even with a session; and the ingress counts full and resumed
// handshakes exactly.
//
// A session is saved after the first response (a TLS 1.3 ticket follows
// the handshake) and the first connection ends with close_notify both
// ways: a TLS 1.2 session id stays in the server's cache only when the
// server sent close_notify before closing.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

using namespace stretch3_test;

namespace {

// One way to resume.
struct resumption {
  char const* name;
  int max_version;
  bool tickets;
};
resumption const tls13_ticket{"TLS 1.3, ticket", TLS1_3_VERSION, true};
resumption const tls12_ticket{"TLS 1.2, ticket", TLS1_2_VERSION, true};
resumption const tls12_session_id{"TLS 1.2, session id", TLS1_2_VERSION, false};

workbook::tls_client_options options(ingress_rig const& rig, std::string const& sni, resumption const& kind,
                                     std::shared_ptr<workbook::tls_session const> resume = nullptr)
{
  auto o = rig.client_options(sni, kind.max_version);
  o.tickets = kind.tickets;
  o.resume = std::move(resume);
  return o;
}

// A first connection: a full handshake, a request, the session saved, and
// a clean shutdown.
struct first_visit {
  workbook::tls_handshake_info handshake;
  workbook::response response;
  std::shared_ptr<workbook::tls_session const> session;
  bool close_notify_answered = false;

  std::string describe(edge_certs const& edge) const
  {
    return "first connection: " + edge.describe(handshake) + "; GET /first: " + stretch3_test::describe(response) +
           "; session " + (session ? "saved" : "none") + "; close_notify " +
           (close_notify_answered ? "answered" : "not answered");
  }
};

first_visit visit(ingress_rig const& rig, workbook::tls_client_options const& o)
{
  workbook::tls_client c(rig.port(), o);
  first_visit v;
  v.handshake = c.handshake();
  v.response = c.send({"GET", "/first", {}, ""});
  v.session = c.session();
  v.close_notify_answered = c.shutdown();
  return v;
}

// The session offered again under its own name: resumed, on `version`,
// with the first handshake's certificate, and the connection carries a
// request.
void check_resumes(ingress_rig const& rig, edge_certs const& edge, resumption const& kind, first_visit const& first,
                   std::string const& version)
{
  auto again = rig.connect(options(rig, acme_name, kind, first.session));
  auto const& h = again.handshake();
  INFO("the session offered again, SNI " << acme_name << ": " << edge.describe(h));
  CHECK(h.completed);
  CHECK(h.version == version);
  CHECK(h.resumed);
  CHECK(h.peer_fingerprint == fingerprint(edge.acme));
  auto const r = again.send({"GET", "/resumed", {}, ""});
  INFO("GET /resumed: " << describe(r));
  CHECK(r.status == 200);
}

} // namespace

TEST_CASE("a TLS 1.3 client resumes with its ticket", "[AC5]")
{
  edge_certs edge;
  ingress_rig rig(edge);

  auto const first = visit(rig, options(rig, acme_name, tls13_ticket));
  INFO(first.describe(edge));
  REQUIRE(first.response.status == 200);
  REQUIRE(first.session != nullptr);

  check_resumes(rig, edge, tls13_ticket, first, "TLSv1.3");
}

TEST_CASE("a TLS 1.2 client resumes by ticket and by session id", "[AC5]")
{
  edge_certs edge;
  ingress_rig rig(edge);
  resumption kind = tls12_ticket;
  SECTION("by ticket") {}
  SECTION("by session id") { kind = tls12_session_id; }

  auto const first = visit(rig, options(rig, acme_name, kind));
  INFO(kind.name << "; " << first.describe(edge));
  REQUIRE(first.handshake.version == "TLSv1.2");
  REQUIRE(first.response.status == 200);
  REQUIRE(first.session != nullptr);
  // A session id stays in the server's cache only if the server sent its
  // own close_notify; a ticket does not care.
  if (!kind.tickets) CHECK(first.close_notify_answered);

  check_resumes(rig, edge, kind, first, "TLSv1.2");
}

TEST_CASE("a session resumes after a reload", "[AC5]")
{
  edge_certs edge;
  ingress_rig rig(edge);
  resumption kind = tls13_ticket;
  SECTION("TLS 1.3, ticket") {}
  SECTION("TLS 1.2, ticket") { kind = tls12_ticket; }
  SECTION("TLS 1.2, session id") { kind = tls12_session_id; }

  auto const first = visit(rig, options(rig, acme_name, kind));
  INFO(kind.name << "; " << first.describe(edge));
  REQUIRE(first.response.status == 200);
  REQUIRE(first.session != nullptr);

  auto const v2 = edge.issue("acme v2", {acme_name});
  edge.dir.put("acme", v2);
  auto const r = rig.reload();
  INFO("acme replaced by v2; reload() returned " << describe(r));
  REQUIRE(r.applied);

  auto resumed = rig.connect(options(rig, acme_name, kind, first.session));
  INFO("the v1 session offered after the reload: " << edge.describe(resumed.handshake()));
  CHECK(resumed.handshake().completed);
  CHECK(resumed.handshake().resumed);
  CHECK(resumed.handshake().peer_fingerprint == fingerprint(edge.acme));

  auto fresh = rig.connect(options(rig, acme_name, kind));
  INFO("a new client without a session: " << edge.describe(fresh.handshake()));
  CHECK(fresh.handshake().completed);
  CHECK_FALSE(fresh.handshake().resumed);
  CHECK(fresh.handshake().peer_fingerprint == fingerprint(v2));
}

TEST_CASE("a session offered under another name is not resumed", "[AC5]")
{
  edge_certs edge;
  ingress_rig rig(edge);
  resumption kind = tls13_ticket;
  SECTION("TLS 1.3, ticket") {}
  SECTION("TLS 1.2, ticket") { kind = tls12_ticket; }
  SECTION("TLS 1.2, session id") { kind = tls12_session_id; }

  auto const first = visit(rig, options(rig, acme_name, kind));
  INFO(kind.name << "; " << first.describe(edge));
  REQUIRE(first.response.status == 200);
  REQUIRE(first.session != nullptr);

  auto elsewhere = rig.connect(options(rig, globex_name, kind, first.session));
  auto const& h = elsewhere.handshake();
  INFO("acme's session offered with SNI " << globex_name << ": " << edge.describe(h));
  CHECK(h.completed);
  CHECK_FALSE(h.resumed);
  CHECK(h.peer_fingerprint == fingerprint(edge.globex));
  auto const r = elsewhere.send({"GET", "/elsewhere", {}, ""});
  INFO("GET /elsewhere on it: " << describe(r));
  CHECK(r.status == 200);
  CHECK(r.body == fake_body("globex", globex_name, "GET", "/elsewhere"));

  // Refused there, the session still resumes under its own name.
  auto home = rig.connect(options(rig, acme_name, kind, first.session));
  INFO("then offered with SNI " << acme_name << ": " << edge.describe(home.handshake()));
  CHECK(home.handshake().resumed);
  CHECK(home.handshake().peer_fingerprint == fingerprint(edge.acme));
}

TEST_CASE("a removed name refuses even a resumed session", "[AC5]")
{
  edge_certs edge;
  ingress_rig rig(edge);

  auto const first = visit(rig, options(rig, globex_name, tls13_ticket));
  INFO(first.describe(edge));
  REQUIRE(first.response.status == 200);
  REQUIRE(first.session != nullptr);
  auto before = rig.connect(options(rig, globex_name, tls13_ticket, first.session));
  INFO("the session offered before the reload: " << edge.describe(before.handshake()));
  REQUIRE(before.handshake().resumed);

  edge.dir.remove("globex");
  auto const r = rig.reload();
  INFO("globex removed; reload() returned " << describe(r));
  REQUIRE(r.applied);

  auto after = rig.connect(options(rig, globex_name, tls13_ticket, first.session));
  auto const& h = after.handshake();
  INFO("the session offered after the reload: " << edge.describe(h));
  // No peer_fingerprint check here: a client offering a session reports
  // the session's certificate whatever the server sends.
  CHECK_FALSE(h.completed);
  CHECK_FALSE(h.resumed);
  CHECK(h.alert == SSL_AD_UNRECOGNIZED_NAME);
  CHECK(h.reason == SSL_R_TLSV1_UNRECOGNIZED_NAME);
}

TEST_CASE("full and resumed handshakes are counted exactly", "[AC5]")
{
  edge_certs edge;
  ingress_rig rig(edge);

  auto const first = visit(rig, options(rig, acme_name, tls13_ticket));
  INFO(first.describe(edge));
  REQUIRE(first.session != nullptr);
  int full = first.handshake.completed && !first.handshake.resumed ? 1 : 0;
  int resumed = 0;
  for (auto const& name : {globex_name, acme_name}) {
    auto c = rig.connect(name);
    full += c.handshake().completed && !c.handshake().resumed ? 1 : 0;
  }
  for (int i = 0; i < 4; ++i) {
    auto c = rig.connect(options(rig, acme_name, tls13_ticket, first.session));
    resumed += c.handshake().completed && c.handshake().resumed ? 1 : 0;
  }

  bool const counted = rig.stats_until([](auto const& s) { return s.handshakes_full + s.handshakes_resumed >= 7; });
  auto const s = rig.stats();
  INFO("3 full handshakes and 4 that offered a session; the clients saw " << full << " full and " << resumed
                                                                          << " resumed\n" << describe(s));
  CHECK(full == 3);
  CHECK(resumed == 4);
  CHECK(counted);
  CHECK(s.handshakes_full == 3);
  CHECK(s.handshakes_resumed == 4);
}
