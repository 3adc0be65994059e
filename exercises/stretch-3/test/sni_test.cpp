// Stretch 3 · acceptance tests for choosing the certificate [AC1]: each
// handshake presents the certificate whose subjectAltName covers the SNI:
// an exact name, a one-label wildcard and no more, case ignored, an exact
// name before a wildcard, any DNS name of a certificate that has several
// (never its CN), also with two hundred certificates in one directory; and
// name_matches follows RFC 6125's wildcard rules.
//
// Every client trusts the edge CA and checks the certificate names the SNI,
// so a completed handshake is a verified one; which certificate it was is
// read from the leaf's SHA-256.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <thread>

using namespace stretch3_test;

namespace {

// The handshake with `sni` presented `expected`, verified for `verify_name`.
void check_served(ingress_rig const& rig, edge_certs const& edge, std::string const& sni,
                  issued_certificate const& expected, std::string const& verify_name = "")
{
  auto c = rig.connect(rig.client_options(sni, 0, verify_name.empty() ? sni : verify_name));
  auto const& h = c.handshake();
  INFO("SNI \"" << sni << "\" (the client verifies the name \"" << (verify_name.empty() ? sni : verify_name)
                << "\"): the handshake " << edge.describe(h) << "; expected " << edge.label(fingerprint(expected)));
  CHECK(h.completed);
  CHECK(h.peer_fingerprint == fingerprint(expected));
}

// The handshake with `sni` was refused with unrecognized_name, before any certificate.
void check_refused(ingress_rig const& rig, edge_certs const& edge, std::string const& sni)
{
  auto c = rig.connect(sni);
  auto const& h = c.handshake();
  INFO("SNI \"" << sni << "\": the handshake " << edge.describe(h) << "; expected a fatal alert 112 and no certificate");
  CHECK_FALSE(h.completed);
  CHECK(h.alert == SSL_AD_UNRECOGNIZED_NAME);
  CHECK(h.peer_fingerprint.empty());
}

} // namespace

TEST_CASE("each name gets the certificate that names it", "[AC1]")
{
  edge_certs edge;
  auto const initech = edge.issue("initech", {initech_name});
  edge.dir.put("initech", initech);
  ingress_rig rig(edge);

  for (auto const& [name, certificate] :
       {std::pair{acme_name, edge.acme}, std::pair{globex_name, edge.globex}, std::pair{initech_name, initech}}) {
    auto c = rig.connect(name);
    auto const& h = c.handshake();
    INFO("TLS 1.3, SNI \"" << name << "\", verified against the edge CA for that name: the handshake "
                           << edge.describe(h) << "; expected " << edge.label(fingerprint(certificate)));
    CHECK(h.completed);
    CHECK(h.version == "TLSv1.3");
    CHECK(h.peer_fingerprint == fingerprint(certificate));
    CHECK(h.peer_dns_names == std::vector<std::string>{name});
  }
}

TEST_CASE("a wildcard covers one label and no more", "[AC1]")
{
  edge_certs edge;
  auto const wild = edge.issue("*.wild.test", {"*.wild.test"});
  edge.dir.put("wild", wild);
  ingress_rig rig(edge);

  check_served(rig, edge, "x.wild.test", wild);
  check_served(rig, edge, "pay.wild.test", wild);
  check_refused(rig, edge, "a.b.wild.test");
  check_refused(rig, edge, "wild.test");
}

TEST_CASE("an exact name wins and every SAN of a certificate counts", "[AC1]")
{
  edge_certs edge;
  auto const pay = edge.issue("pay.wild.test", {"pay.wild.test"});
  auto const wild = edge.issue("*.wild.test", {"*.wild.test"});
  // Its CN is the first name; the second is only in the subjectAltName.
  auto const multi = edge.issue("one+two.multi.test", {"one.multi.test", "two.multi.test"});
  // Stems that sort the wildcard first: a search that goes by stem order,
  // not exact names first, finds it before pay's certificate.
  edge.dir.put("a-wild", wild);
  edge.dir.put("z-pay", pay);
  edge.dir.put("multi", multi);
  ingress_rig rig(edge);

  check_served(rig, edge, "pay.wild.test", pay);
  check_served(rig, edge, "shop.wild.test", wild);
  check_served(rig, edge, "two.multi.test", multi);
  check_served(rig, edge, "one.multi.test", multi);
}

TEST_CASE("server names are matched without regard to case", "[AC1]")
{
  edge_certs edge;
  auto const wild = edge.issue("*.wild.test", {"*.wild.test"});
  edge.dir.put("wild", wild);
  ingress_rig rig(edge);

  check_served(rig, edge, "ACME.Example.TEST", edge.acme, acme_name);
  check_served(rig, edge, "GLOBEX.EXAMPLE.TEST", edge.globex, globex_name);
  check_served(rig, edge, "Shop.WILD.Test", wild, "shop.wild.test");
}

TEST_CASE("two hundred names from one directory each get their own", "[AC1]")
{
  edge_certs edge;
  int const count = 200;
  std::vector<std::string> names;
  std::vector<issued_certificate> certificates;
  for (int i = 0; i < count; ++i) {
    char stem[8];
    std::snprintf(stem, sizeof stem, "t%03d", i);
    names.push_back(std::string(stem) + ".many.test");
    certificates.push_back(edge.issue(names.back(), {names.back()}));
    edge.dir.put(stem, certificates.back());
  }
  ingress_rig rig(edge);

  // Two client threads, each its half of the names. Catch's assertions are
  // not thread-safe: the threads record, the test asserts after the join.
  std::vector<workbook::tls_handshake_info> seen(count);
  {
    std::vector<std::thread> clients;
    for (int k = 0; k < 2; ++k)
      clients.emplace_back([&, k] {
        for (int i = k; i < count; i += 2) {
          auto const index = static_cast<std::size_t>(i);
          seen[index] = rig.connect(names[index]).handshake();
        }
      });
    for (auto& t : clients) t.join();
  }

  int right = 0;
  std::string wrong;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    if (seen[i].completed && seen[i].peer_fingerprint == fingerprint(certificates[i])) {
      ++right;
    } else if (std::count(wrong.begin(), wrong.end(), '\n') < 10) {
      wrong += "\n  SNI \"" + names[i] + "\": " + edge.describe(seen[i]);
    }
  }
  bool const counted = rig.stats_until([&](auto const& s) { return s.handshakes_full >= 200; });
  INFO(right << " of " << count << " handshakes presented the certificate naming their SNI; the first others:"
             << (wrong.empty() ? " (none)" : wrong) << "\n" << describe(rig.stats()));
  CHECK(right == count);
  CHECK(counted);
  CHECK(rig.stats().handshakes_full == 200);
}

TEST_CASE("name_matches follows the wildcard rules", "[AC1]")
{
  struct row {
    char const* pattern;
    char const* server_name;
    bool matches;
    char const* why;
  };
  std::vector<row> const rows = {
      {"acme.example.test", "acme.example.test", true, "the same name"},
      {"acme.example.test", "ACME.Example.Test", true, "ASCII case is ignored in the SNI"},
      {"ACME.EXAMPLE.TEST", "acme.example.test", true, "and in the pattern"},
      {"acme.example.test", "globex.example.test", false, "another name"},
      {"example.test", "acme.example.test", false, "a suffix is not a match"},
      {"acme.example.test", "example.test", false, "nor is a parent"},
      {"*.wild.test", "x.wild.test", true, "a wildcard covers one label"},
      {"*.wild.test", "Shop.WILD.test", true, "case ignored under a wildcard"},
      {"*.WILD.test", "shop.wild.TEST", true, "case ignored in a wildcard pattern"},
      {"*.wild.test", "a.b.wild.test", false, "two labels are not one"},
      {"*.wild.test", "wild.test", false, "the wildcard's label may not be absent"},
      {"*.wild.test", ".wild.test", false, "nor empty"},
      {"*.wild.test", "xwild.test", false, "the dot belongs to the pattern"},
      {"*.test", "x.test", false, "a wildcard over a single label covers nothing"},
      {"*", "x", false, "a bare wildcard covers nothing"},
      {"f*.x.test", "foo.x.test", false, "a partial wildcard never matches"},
      {"*o.x.test", "foo.x.test", false, "nor one at the end of the label"},
      {"x.*.test", "x.y.test", false, "a wildcard not in the left-most label never matches"},
      {"*.*.test", "a.b.test", false, "nor two of them"},
      {"acme.example.test.", "acme.example.test", false, "a trailing dot in the pattern"},
      {"acme.example.test", "acme.example.test.", false, "a trailing dot in the SNI"},
      {"*.wild.test", "x.wild.test.", false, "a trailing dot under a wildcard"},
      {"acme..test", "acme..test", false, "an empty label"},
      {"*.wild.test", "x..wild.test", false, "an empty label under a wildcard"},
      {"127.0.0.1", "127.0.0.1", false, "an IP literal"},
      {"*.0.0.1", "127.0.0.1", false, "an IP literal under a wildcard"},
      {"", "", false, "nothing"},
  };
  for (auto const& r : rows) {
    bool const got = stretch3::name_matches(r.pattern, r.server_name);
    INFO("name_matches(\"" << r.pattern << "\", \"" << r.server_name << "\") returned " << std::boolalpha << got
                           << "; expected " << r.matches << ": " << r.why);
    CHECK(got == r.matches);
  }
}
