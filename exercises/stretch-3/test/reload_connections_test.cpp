// Stretch 3 · acceptance tests for what a reload leaves alone [AC4]: a
// keep-alive connection opened before it keeps carrying requests, even
// when the reload removed its name, while new handshakes see the new set;
// and a request in flight upstream during reloads completes.
//
// A tls_client never reconnects, so requests that succeed on one client
// after the reload went over the connection opened before it.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

using namespace stretch3_test;

TEST_CASE("a connection opened before a reload keeps serving after it", "[AC4]")
{
  edge_certs edge;
  ingress_rig rig(edge);
  auto keep = rig.connect(acme_name);
  auto const before = keep.send({"GET", "/before", {}, ""});
  INFO("the connection: " << edge.describe(keep.handshake()) << "; GET /before: " << describe(before));
  REQUIRE(before.status == 200);

  auto const v2 = edge.issue("acme v2", {acme_name});
  edge.dir.put("acme", v2);
  auto const r = rig.reload();
  INFO("acme replaced by v2; reload() returned " << describe(r));
  REQUIRE(r.applied);

  std::vector<workbook::response> after;
  for (int i = 1; i <= 5; ++i) after.push_back(keep.send({"GET", "/after/" + std::to_string(i), {}, ""}));
  INFO("5 GETs on the connection opened before the reload: " << describe(after) << "\n" << rig.state());
  for (std::size_t i = 0; i < after.size(); ++i) {
    CHECK(after[i].status == 200);
    CHECK(after[i].body == fake_body("acme", acme_name, "GET", "/after/" + std::to_string(i + 1)));
  }

  auto fresh = rig.connect(acme_name);
  INFO("a new handshake for " << acme_name << ": " << edge.describe(fresh.handshake()));
  CHECK(fresh.handshake().completed);
  CHECK(fresh.handshake().peer_fingerprint == fingerprint(v2));
}

TEST_CASE("a connection whose name a reload removed finishes its requests", "[AC4]")
{
  edge_certs edge;
  ingress_rig rig(edge);
  auto keep = rig.connect(globex_name);
  auto const before = keep.send({"GET", "/before", {}, ""});
  INFO("the connection: " << edge.describe(keep.handshake()) << "; GET /before: " << describe(before));
  REQUIRE(before.status == 200);

  edge.dir.remove("globex");
  auto const r = rig.reload();
  INFO("globex removed; reload() returned " << describe(r));
  REQUIRE(r.applied);

  std::vector<workbook::response> after;
  for (int i = 1; i <= 3; ++i) after.push_back(keep.send({"GET", "/after/" + std::to_string(i), {}, ""}));
  INFO("3 GETs on the globex connection opened before the reload: " << describe(after) << "\n" << rig.state());
  for (std::size_t i = 0; i < after.size(); ++i) {
    CHECK(after[i].status == 200);
    CHECK(after[i].body == fake_body("globex", globex_name, "GET", "/after/" + std::to_string(i + 1)));
  }

  auto fresh = rig.connect(globex_name);
  auto const& h = fresh.handshake();
  INFO("a new handshake for " << globex_name << ": " << edge.describe(h));
  CHECK_FALSE(h.completed);
  CHECK(h.alert == SSL_AD_UNRECOGNIZED_NAME);
}

TEST_CASE("a request in flight upstream during reloads completes", "[AC4]")
{
  edge_certs edge;
  ingress_rig rig(edge);
  auto const v2 = edge.issue("acme v2", {acme_name});

  background_request held(rig, acme_name, {"GET", "/hold/1", {}, ""}, scaled(5s));
  bool const arrived = workbook::eventually([&] { return rig.upstream.held() == 1; }, scaled(2s));
  INFO("GET /hold/1 sent on a new acme connection; the fake upstream holds " << rig.upstream.held() << "\n" << rig.state());
  REQUIRE(arrived);

  for (int i = 1; i <= 3; ++i) {
    edge.dir.put("acme", i % 2 == 1 ? v2 : edge.acme);
    auto const r = rig.reload();
    INFO("reload " << i << " while the request is held: " << describe(r));
    CHECK(r.applied);
  }
  {
    INFO("after 3 reloads the fake upstream holds " << rig.upstream.held() << " request(s)\n" << rig.state());
    CHECK(rig.upstream.held() == 1);
  }

  rig.upstream.release(200);
  auto const outcome = held.wait(scaled(3s));
  REQUIRE(outcome.has_value());
  INFO("released after 3 reloads; the client's handshake " << edge.describe(outcome->handshake)
                                                         << ", its response: " << describe(outcome->response) << "\n"
                                                         << rig.state());
  CHECK(outcome->response.status == 200);
  CHECK(outcome->response.body == "status 200 from the upstream");
}
