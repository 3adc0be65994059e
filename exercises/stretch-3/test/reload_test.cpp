// Stretch 3 · acceptance tests for reloading the certificates [AC3]:
// reload() swaps the whole set at once or not at all. Added, replaced and
// removed names apply to the next handshake; a directory with any bad pair
// changes nothing, and every problem is named by its stem; handshakes
// during fifty reloads all succeed, each with the old certificate or the
// new one; and the watcher applies a change within its interval and leaves
// an unchanged directory alone.
//
// A test that changes the directory writes it as a deploy tool does (a
// dot-file renamed into place), then calls reload() itself; only the
// watcher's test polls.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace stretch3_test;

namespace {

bool any_starts_with(std::vector<std::string> const& errors, std::string const& prefix)
{
  return std::any_of(errors.begin(), errors.end(), [&](auto const& e) { return e.rfind(prefix, 0) == 0; });
}

std::vector<std::string> sorted(std::vector<std::string> v)
{
  std::sort(v.begin(), v.end());
  return v;
}

} // namespace

TEST_CASE("a replaced certificate is served to the next handshake", "[AC3]")
{
  edge_certs edge;
  ingress_rig rig(edge);
  auto before = rig.connect(acme_name);
  INFO("before the reload, SNI " << acme_name << ": " << edge.describe(before.handshake()));
  CHECK(before.handshake().peer_fingerprint == fingerprint(edge.acme));

  auto const v2 = edge.issue("acme v2", {acme_name});
  edge.dir.put("acme", v2);
  auto const r = rig.reload();
  INFO("acme.crt and acme.key replaced by v2; reload() returned " << describe(r) << "\n" << rig.state());
  CHECK(r.applied);
  CHECK(r.generation == 2);
  CHECK(r.certificates == 2);
  CHECK(r.names == sorted({acme_name, globex_name}));
  CHECK(r.errors.empty());
  CHECK(rig.stats().generation == 2);
  auto const event = rig.log.await(is(event_kind::reloaded), scaled(1s));
  REQUIRE(event.has_value());
  CHECK(event->event.generation == 2);

  auto after = rig.connect(acme_name);
  INFO("after the reload, SNI " << acme_name << ": " << edge.describe(after.handshake()));
  CHECK(after.handshake().completed);
  CHECK(after.handshake().peer_fingerprint == fingerprint(v2));
  auto globex = rig.connect(globex_name);
  INFO("SNI " << globex_name << ": " << edge.describe(globex.handshake()));
  CHECK(globex.handshake().peer_fingerprint == fingerprint(edge.globex));
}

TEST_CASE("a reload adds and removes names", "[AC3]")
{
  edge_certs edge;
  ingress_rig rig(edge);
  auto const initech = edge.issue("initech", {initech_name});
  edge.dir.put("initech", initech);
  edge.dir.remove("globex");

  auto const r = rig.reload();
  INFO("initech added, globex removed (" << edge.dir.listing() << "); reload() returned " << describe(r));
  CHECK(r.applied);
  CHECK(r.generation == 2);
  CHECK(r.certificates == 2);
  CHECK(r.names == sorted({acme_name, initech_name}));

  auto added = rig.connect(initech_name);
  INFO("SNI " << initech_name << ": " << edge.describe(added.handshake()));
  CHECK(added.handshake().completed);
  CHECK(added.handshake().peer_fingerprint == fingerprint(initech));

  auto removed = rig.connect(globex_name);
  auto const& h = removed.handshake();
  INFO("SNI " << globex_name << ": " << edge.describe(h));
  CHECK_FALSE(h.completed);
  CHECK(h.alert == SSL_AD_UNRECOGNIZED_NAME);
  CHECK(h.peer_fingerprint.empty());

  auto kept = rig.connect(acme_name);
  INFO("SNI " << acme_name << ": " << edge.describe(kept.handshake()));
  CHECK(kept.handshake().peer_fingerprint == fingerprint(edge.acme));
}

TEST_CASE("a directory with a bad pair is not applied and every error is named", "[AC3]")
{
  edge_certs edge;
  ingress_rig rig(edge);
  auto const initech = edge.issue("initech", {initech_name});
  auto const other = edge.issue("other", {"other.example.test"});
  // A good change beside each bad one: applied, it would show.
  auto const v2 = edge.issue("acme v2", {acme_name});
  edge.dir.put("acme", v2);

  std::string problem;
  std::vector<std::string> every;  // stems that must each be named
  std::vector<std::string> either; // stems of which one must be named
  SECTION("a key that is not the certificate's")
  {
    problem = "initech.crt with other's key";
    edge.dir.put_mismatched("initech", initech, other);
    every = {"initech"};
  }
  SECTION("a .crt that is not PEM")
  {
    problem = "initech.crt is not PEM, initech.key is right";
    edge.dir.put_raw("initech.crt", "this is not a certificate\n");
    edge.dir.put_raw("initech.key", initech.private_key);
    every = {"initech"};
  }
  SECTION("a .crt without its .key")
  {
    problem = "initech.crt alone";
    edge.dir.put_raw("initech.crt", initech.certificate);
    every = {"initech"};
  }
  SECTION("a .key without its .crt")
  {
    problem = "initech.key alone";
    edge.dir.put_raw("initech.key", initech.private_key);
    every = {"initech"};
  }
  SECTION("a name in two certificates")
  {
    problem = "twin names twin.example.test and " + acme_name + ", which acme names too";
    edge.dir.put("twin", edge.issue("twin", {"twin.example.test", acme_name}));
    either = {"twin", "acme"};
  }
  SECTION("a certificate without a DNS name")
  {
    problem = "ip-only names only the IP address 127.0.0.9";
    edge.dir.put("ip-only", edge.issue("ip-only", {"127.0.0.9"}));
    every = {"ip-only"};
  }
  SECTION("two problems at once")
  {
    problem = "initech.crt with other's key, and umbrella.key alone";
    edge.dir.put_mismatched("initech", initech, other);
    edge.dir.put_raw("umbrella.key", other.private_key);
    every = {"initech", "umbrella"};
  }

  auto const r = rig.reload();
  INFO(problem << " (directory: " << edge.dir.listing() << "), and acme replaced by a good v2; reload() returned "
               << describe(r) << "\n" << rig.state());
  CHECK_FALSE(r.applied);
  CHECK(r.generation == 1);
  CHECK(r.certificates == 2);
  CHECK(r.names == sorted({acme_name, globex_name}));
  CHECK_FALSE(r.errors.empty());
  for (auto const& stem : every) {
    INFO("an error starting \"" << stem << ": \"");
    CHECK(any_starts_with(r.errors, stem + ": "));
  }
  if (!either.empty()) {
    INFO("an error starting \"" << either[0] << ": \" or \"" << either[1] << ": \"");
    CHECK((any_starts_with(r.errors, either[0] + ": ") || any_starts_with(r.errors, either[1] + ": ")));
  }
  CHECK(rig.stats().generation == 1);
  auto const failed = rig.log.await(is(event_kind::reload_failed), scaled(1s));
  REQUIRE(failed.has_value());
  CHECK(failed->event.generation == 1);
  CHECK(failed->event.errors == r.errors);
  CHECK(rig.log.count(is(event_kind::reloaded)) == 0);

  auto acme = rig.connect(acme_name);
  INFO("SNI " << acme_name << " after the refused reload: " << edge.describe(acme.handshake()));
  CHECK(acme.handshake().completed);
  CHECK(acme.handshake().peer_fingerprint == fingerprint(edge.acme));
}

TEST_CASE("one bad pair keeps every old certificate", "[AC3]")
{
  edge_certs edge;
  ingress_rig rig(edge);
  auto const v2 = edge.issue("acme v2", {acme_name});
  edge.dir.put("acme", v2);
  edge.dir.put_raw("globex.crt", "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n");

  auto const r = rig.reload();
  INFO("acme replaced by a good v2, globex.crt broken; reload() returned " << describe(r));
  CHECK_FALSE(r.applied);
  CHECK(r.generation == 1);
  CHECK(any_starts_with(r.errors, "globex: "));

  auto acme = rig.connect(acme_name);
  INFO("SNI " << acme_name << ": " << edge.describe(acme.handshake()));
  CHECK(acme.handshake().completed);
  CHECK(acme.handshake().peer_fingerprint == fingerprint(edge.acme));
  auto globex = rig.connect(globex_name);
  INFO("SNI " << globex_name << ": " << edge.describe(globex.handshake()));
  CHECK(globex.handshake().completed);
  CHECK(globex.handshake().peer_fingerprint == fingerprint(edge.globex));
}

TEST_CASE("handshakes during fifty reloads succeed with an old or new certificate", "[AC3]")
{
  edge_certs edge;
  ingress_rig rig(edge);
  auto const v1 = edge.acme;
  auto const v2 = edge.issue("acme v2", {acme_name});

  struct attempt {
    steady_clock::time_point start, end;
    std::string sni;
    workbook::tls_handshake_info handshake;
  };
  std::mutex mutex;
  std::vector<attempt> attempts;
  std::atomic<bool> stop{false};
  // Loop 0 asks for acme only; loop 1 for acme and globex in turn.
  std::vector<std::thread> loops;
  for (int k = 0; k < 2; ++k)
    loops.emplace_back([&, k] {
      for (std::size_t i = 0; !stop.load(); ++i) {
        auto const sni = k == 0 || i % 2 == 0 ? acme_name : globex_name;
        attempt a;
        a.sni = sni;
        a.start = steady_clock::now();
        a.handshake = rig.connect(sni).handshake();
        a.end = steady_clock::now();
        std::lock_guard lock(mutex);
        attempts.push_back(std::move(a));
      }
    });
  auto const acme_since = [&](steady_clock::time_point t) {
    std::lock_guard lock(mutex);
    return std::any_of(attempts.begin(), attempts.end(), [&](auto const& a) { return a.sni == acme_name && a.start >= t; });
  };

  // Reload i (from 1) puts acme v2 in service when i is odd, v1 when it is even.
  struct reload_done {
    steady_clock::time_point began, returned;
    stretch3::reload_result result;
    bool v2;
  };
  std::vector<reload_done> reloads;
  bool waited = true;
  for (int i = 1; i <= 50; ++i) {
    bool const odd = i % 2 == 1;
    edge.dir.put("acme", odd ? v2 : v1);
    reload_done d;
    d.v2 = odd;
    d.began = steady_clock::now();
    d.result = rig.reload();
    d.returned = steady_clock::now();
    reloads.push_back(d);
    // After each of the first two reloads, an acme handshake that starts
    // after it, so that both certificates are seen; the other reloads
    // follow one another as fast as they can.
    if (i <= 2) waited = workbook::eventually([&] { return acme_since(d.returned); }, scaled(2s)) && waited;
  }
  stop = true;
  for (auto& t : loops) t.join();
  milliseconds reloading{0};
  for (auto const& d : reloads) reloading += std::chrono::duration_cast<milliseconds>(d.returned - d.began);

  int applied = 0;
  std::string not_applied;
  for (std::size_t i = 0; i < reloads.size(); ++i) {
    auto const& r = reloads[i].result;
    if (r.applied && r.generation == i + 2) ++applied;
    else if (not_applied.empty()) not_applied = "reload " + std::to_string(i + 1) + ": " + describe(r);
  }

  // Failures anywhere; fingerprints of acme; and each acme handshake that
  // began after reload i returned and ended before reload i+1 began must
  // have had reload i's certificate.
  std::size_t failures = 0, acme_attempts = 0, v1_seen = 0, v2_seen = 0, foreign = 0, stale = 0;
  std::string first_failure, first_foreign, first_stale;
  for (auto const& a : attempts) {
    if (!a.handshake.completed) {
      if (failures++ == 0) first_failure = "SNI \"" + a.sni + "\": " + edge.describe(a.handshake);
      continue;
    }
    if (a.sni != acme_name) continue;
    ++acme_attempts;
    auto const& fp = a.handshake.peer_fingerprint;
    if (fp == fingerprint(v1)) ++v1_seen;
    else if (fp == fingerprint(v2)) ++v2_seen;
    else if (foreign++ == 0) first_foreign = edge.describe(a.handshake);
    for (std::size_t i = 0; i < reloads.size(); ++i) {
      auto const next_began = i + 1 < reloads.size() ? reloads[i + 1].began : steady_clock::time_point::max();
      if (a.start >= reloads[i].returned && a.end <= next_began && reloads[i].result.applied &&
          fp != fingerprint(reloads[i].v2 ? v2 : v1) && stale++ == 0)
        first_stale = "a handshake between reload " + std::to_string(i + 1) + " (" + (reloads[i].v2 ? "v2" : "v1") +
                      ") and the next: " + edge.describe(a.handshake);
    }
  }
  INFO("50 reloads alternating acme v2 and v1 (" << reloading.count() << " ms in reload() in all), " << applied
                                                 << " applied as generations 2..51"
                                                 << (not_applied.empty() ? "" : "; first other: " + not_applied) << "\n"
                                                 << attempts.size() << " handshakes meanwhile, " << failures << " failed"
                                                 << (first_failure.empty() ? "" : " (first: " + first_failure + ")") << "; "
                                                 << acme_attempts << " for acme: " << v1_seen << " v1, " << v2_seen
                                                 << " v2, " << foreign << " other" << (first_foreign.empty() ? "" : " (" + first_foreign + ")")
                                                 << "; " << stale << " with a certificate older than the set in service"
                                                 << (first_stale.empty() ? "" : " (" + first_stale + ")") << "\n"
                                                 << describe(rig.stats()));
  CHECK(applied == 50);
  CHECK(waited);
  CHECK(failures == 0);
  CHECK(foreign == 0);
  CHECK(v1_seen > 0);
  CHECK(v2_seen > 0);
  CHECK(stale == 0);
}

TEST_CASE("the watcher applies a change and leaves a quiet directory alone", "[AC3]")
{
  edge_certs edge;
  ingress_rig rig(edge, [](stretch3::ingress_options& o) { o.watch_interval = 50ms; });

  auto const quiet = rig.log.await_nth(watched(false), 5, scaled(1s));
  {
    INFO("five polls of an unchanged directory, every 50 ms\n" << rig.state());
    REQUIRE(quiet.has_value());
    CHECK(rig.log.count(watched(true)) == 0);
    CHECK(rig.log.count(is(event_kind::reloaded)) == 0);
    CHECK(rig.log.count(is(event_kind::reload_failed)) == 0);
    CHECK(rig.stats().generation == 1);
  }

  // Renamed over the same stems: only the files' size, time or inode tell.
  auto const v2 = edge.issue("acme v2", {acme_name});
  auto const put_at = steady_clock::now();
  edge.dir.put("acme", v2);
  auto const reloaded = rig.log.await(is(event_kind::reloaded), scaled(1s));
  INFO("acme v2 renamed into place; " << rig.state());
  REQUIRE(reloaded.has_value());
  CHECK(reloaded->at - put_at <= scaled(1s));
  CHECK(reloaded->event.generation >= 2);
  CHECK(rig.log.count(watched(true)) >= 1);
  CHECK(rig.stats().generation == reloaded->event.generation);

  auto after = rig.connect(acme_name);
  INFO("SNI " << acme_name << " after the watcher's reload: " << edge.describe(after.handshake()));
  CHECK(after.handshake().completed);
  CHECK(after.handshake().peer_fingerprint == fingerprint(v2));
}
