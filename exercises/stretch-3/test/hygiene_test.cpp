// Stretch 3 · acceptance tests for how connections end [AC8]: a client
// that never finishes its handshake is closed at handshake_timeout; plain
// HTTP on the TLS port fails the handshake and gets no HTTP answer; an
// idle keep-alive connection is closed after idle_timeout, with
// close_notify; a body over max_body gets 413 and the connection ends; and
// every handshake's outcome, from four client threads at once, lands in
// exactly one counter.
//
// The timeouts here are 200 ms. A close must come no sooner than 150 ms
// and within 1.5 s (4.5 s under a sanitizer).
#include "fixtures.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace stretch3_test;

namespace {

adjust_fn short_timeouts()
{
  return [](stretch3::ingress_options& o) {
    o.handshake_timeout = 200ms;
    o.idle_timeout = 200ms;
  };
}

// The first 10 bytes of a TLS ClientHello: a handshake record of 512 bytes
// whose rest never comes.
std::string const partial_client_hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03", 10);

} // namespace

TEST_CASE("a client that never completes its handshake is closed in time", "[AC8]")
{
  edge_certs edge;
  ingress_rig rig(edge, short_timeouts());

  raw_tcp silent(rig.port());
  raw_tcp partial(rig.port());
  INFO("two TCP connections to the ingress: " << (silent.connected() ? "connected" : silent.error()) << ", "
                                              << (partial.connected() ? "connected" : partial.error()));
  REQUIRE(silent.connected());
  REQUIRE(partial.connected());
  REQUIRE(partial.send(partial_client_hello));

  for (auto* c : {&silent, &partial}) {
    auto const end = c->read_until_closed(scaled(1500ms));
    auto const after = workbook::between(c->opened_at(), end.at);
    INFO((c == &silent ? "a client that sends nothing" : "a client that sends 10 bytes of a ClientHello")
         << ", handshake_timeout 200 ms: " << (end.closed ? "closed (" + end.how + ")" : end.how) << " "
         << after.count() << " ms after connecting; " << end.bytes.size() << " byte(s) came");
    CHECK(end.closed);
    CHECK(after >= 150ms);
    CHECK(after <= scaled(1500ms));
  }
  bool const counted = rig.stats_until([](auto const& s) { return s.handshake_timeouts >= 2 && s.connections_open == 0; });
  auto const s = rig.stats();
  INFO(describe(s));
  CHECK(counted);
  CHECK(s.handshake_timeouts == 2);
  CHECK(s.handshake_failures == 0);
  CHECK(s.connections_open == 0);
}

TEST_CASE("plain HTTP on the TLS port gets no HTTP answer", "[AC8]")
{
  edge_certs edge;
  ingress_rig rig(edge);  // handshake_timeout 10 s: the close must not wait for it

  std::string const request = "GET / HTTP/1.1\r\nHost: " + acme_name + "\r\n\r\n";
  raw_tcp c(rig.port());
  INFO("a TCP connection to the ingress: " << (c.connected() ? "connected" : c.error()));
  REQUIRE(c.connected());
  REQUIRE(c.send(request));
  auto const end = c.read_until_closed(scaled(1500ms));
  INFO("sent in plain text: " << printable(request) << "\ncame back before the close: \"" << printable(end.bytes)
                              << "\"; " << (end.closed ? "closed (" + end.how + ")" : end.how));
  CHECK(end.closed);
  CHECK(end.bytes.find("HTTP/") == std::string::npos);

  bool const counted = rig.stats_until([](auto const& s) { return s.handshake_failures >= 1 && s.connections_open == 0; });
  auto const s = rig.stats();
  INFO(describe(s));
  CHECK(counted);
  CHECK(s.handshake_failures == 1);
  CHECK(s.rejected_sni == 0);
  CHECK(s.handshake_timeouts == 0);
  CHECK(s.requests == 0);
}

TEST_CASE("an idle connection is closed after idle_timeout with close_notify", "[AC8]")
{
  edge_certs edge;
  ingress_rig rig(edge, short_timeouts());

  auto c = rig.connect(acme_name);
  auto const r = c.send({"GET", "/then-idle", {}, ""});
  INFO("the connection: " << edge.describe(c.handshake()) << "; GET /then-idle: " << describe(r));
  REQUIRE(r.status == 200);

  auto const idle_from = steady_clock::now();
  bool const notified = c.peer_sent_close_notify(scaled(1500ms));
  auto const after = since(idle_from);
  INFO("then idle, idle_timeout 200 ms: " << (notified ? "close_notify came" : "no close_notify came") << " after "
                                          << after.count() << " ms\n" << rig.state());
  CHECK(notified);
  CHECK(after >= 150ms);
  CHECK(after <= scaled(1500ms));
  bool const closed = rig.stats_until([](auto const& s) { return s.connections_open == 0; });
  INFO("once it closed: " << describe(rig.stats()));
  CHECK(closed);
}

TEST_CASE("a body over max_body is refused with 413 and the connection closed", "[AC8]")
{
  edge_certs edge;
  ingress_rig rig(edge, [](stretch3::ingress_options& o) { o.max_body = 16; });

  auto c = rig.connect(acme_name);
  auto const fits = c.send({"POST", "/sixteen", {}, std::string(16, 'a')});
  INFO("max_body 16; POST /sixteen with 16 bytes: " << describe(fits));
  CHECK(fits.status == 200);
  auto const over = c.send({"POST", "/seventeen", {}, std::string(17, 'a')});
  INFO("then POST /seventeen with 17 bytes: " << describe(over) << "\n" << rig.upstream.describe());
  CHECK(over.status == 413);
  CHECK(rig.upstream.requests().size() == 1);  // the first only
  // The rest of what the client sent was never read: the connection cannot
  // go on, so it ends (close_notify first: the handshake had completed).
  CHECK(c.peer_sent_close_notify(scaled(1500ms)));
}

TEST_CASE("handshake outcomes from four threads are counted exactly", "[AC8]")
{
  edge_certs edge;
  ingress_rig rig(edge);

  // Each thread: 5 full handshakes (each saving its session), 3 refused
  // names among them, then each session offered once more. The threads
  // record what their clients saw; the test asserts after the join.
  struct tally {
    int full = 0, resumed = 0, refused = 0;
    std::string odd;  // the first outcome that was not what the client asked for
  };
  std::vector<tally> tallies(4);
  {
    std::vector<std::thread> threads;
    for (std::size_t k = 0; k < tallies.size(); ++k)
      threads.emplace_back([&, k] {
        auto& t = tallies[k];
        auto const note = [&](std::string const& what, workbook::tls_handshake_info const& h) {
          if (t.odd.empty()) t.odd = what + ": " + edge.describe(h);
        };
        std::vector<std::pair<std::string, std::shared_ptr<workbook::tls_session const>>> sessions;
        for (int i = 0; i < 5; ++i) {
          auto const name = i % 2 == 0 ? acme_name : globex_name;
          auto c = rig.connect(name);
          if (c.handshake().completed && !c.handshake().resumed) ++t.full;
          else note("a full handshake with " + name, c.handshake());
          c.send({"GET", "/thread/" + std::to_string(k), {}, ""});
          sessions.emplace_back(name, c.session());
          if (i < 3) {
            auto refused = rig.connect("unknown-" + std::to_string(k) + "-" + std::to_string(i) + ".example.test");
            if (!refused.handshake().completed && refused.handshake().alert == SSL_AD_UNRECOGNIZED_NAME) ++t.refused;
            else note("an unknown name", refused.handshake());
          }
        }
        for (auto const& [name, session] : sessions) {
          auto o = rig.client_options(name);
          o.resume = session;
          auto c = rig.connect(o);
          if (c.handshake().completed && c.handshake().resumed) ++t.resumed;
          else note("a session offered to " + name, c.handshake());
        }
      });
    for (auto& t : threads) t.join();
  }

  int full = 0, resumed = 0, refused = 0;
  std::string odd;
  for (auto const& t : tallies) {
    full += t.full;
    resumed += t.resumed;
    refused += t.refused;
    if (odd.empty()) odd = t.odd;
  }
  bool const settled = rig.stats_until(
      [](auto const& s) {
        return s.handshakes_full + s.handshakes_resumed + s.rejected_sni >= 52 && s.connections_open == 0;
      },
      scaled(3s));
  auto const s = rig.stats();
  INFO("4 threads, each 5 full, 5 resumed and 3 refused handshakes; the clients saw " << full << " full, " << resumed
                                                                                      << " resumed, " << refused << " refused"
                                                                                      << (odd.empty() ? "" : "; first other: " + odd)
                                                                                      << "\n" << describe(s));
  CHECK(full == 20);
  CHECK(resumed == 20);
  CHECK(refused == 12);
  CHECK(settled);
  CHECK(s.handshakes_full == 20);
  CHECK(s.handshakes_resumed == 20);
  CHECK(s.rejected_sni == 12);
  CHECK(s.handshake_failures == 0);
  CHECK(s.handshake_timeouts == 0);
  CHECK(s.connections_open == 0);
}
