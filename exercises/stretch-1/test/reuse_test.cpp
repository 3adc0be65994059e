// Stretch 1 · acceptance tests for connection reuse [AC4]: through the
// plain_transport the observer owns, ten calls to a keep-alive test_server
// are 1 connection opened and 9 reused (ratio 0.9, and the server accepted
// one), and to a server that closes every connection 10 opened (ratio 0);
// the fake upstream's reports under two Host values are counted apart;
// with retries every attempt's connection is reported; and a transport
// that reports nothing leaves connections_total and the ratio out, with no
// "NaN" anywhere.
#include "fixtures.hpp"

#include <workbook/test_server.hpp>

#include <catch2/catch.hpp>

using namespace stretch1_test;

namespace {

labels reused(std::string const& host, std::string const& r) { return series_of("test", host, {{"reused", r}}); }

void ten_calls(rig& r)
{
  for (int i = 0; i < 10; ++i) {
    auto const a = r.call("/item/" + std::to_string(i), "api.test");
    INFO("call " << i + 1 << ": GET /item/" << i << " -> " << a.describe());
    REQUIRE(a.completed);
    REQUIRE_FALSE(a.ec);
  }
}

} // namespace

TEST_CASE("ten calls to a keep-alive upstream open one connection and reuse it nine times", "[AC4]")
{
  auto upstream = workbook::test_server::serving([](workbook::request const&) {
    return workbook::response{200, "", {}, "kept alive", ""};
  });
  rig r({}, local(upstream.port()));
  ten_calls(r);
  auto const m = r.metrics();
  INFO(m.describe() << "the server accepted " << upstream.accepted() << " connection(s) and read "
                    << upstream.requests() << " request(s)");
  CHECK(upstream.accepted() == 1);
  CHECK(m.value("http_client_connections_total", reused("api.test", "false")) == 1);
  CHECK(m.value("http_client_connections_total", reused("api.test", "true")) == 9);
  CHECK(m.value_text("http_client_connection_reuse_ratio", series_of("test", "api.test")) == shortest(9.0 / 10.0));
}

TEST_CASE("an upstream that closes every connection is never reused", "[AC4]")
{
  auto upstream = workbook::test_server::scripted([](workbook::peer& p) {
    if (p.read_request().empty()) return;
    p.write(workbook::http_response(200, "closing", {{"Connection", "close"}}));
    p.close();
  });
  rig r({}, local(upstream.port()));
  ten_calls(r);
  auto const m = r.metrics();
  INFO(m.describe() << "the server accepted " << upstream.accepted() << " connection(s)");
  CHECK(upstream.accepted() == 10);
  CHECK(m.value("http_client_connections_total", reused("api.test", "false")) == 10);
  CHECK(m.value("http_client_connections_total", reused("api.test", "true")).value_or(0) == 0);
  CHECK(m.value_text("http_client_connection_reuse_ratio", series_of("test", "api.test")) == "0");
}

TEST_CASE("connections to two hosts are counted apart", "[AC4]")
{
  rig r;
  std::vector<std::pair<std::string, std::string>> const calls{
      {"a.test", "/reuse/false/status/200"}, {"b.test", "/reuse/false/status/200"}, {"a.test", "/reuse/true/status/200"},
      {"b.test", "/reuse/false/status/404"}, {"a.test", "/reuse/true/status/503"},  {"b.test", "/reuse/false/status/200"},
      {"b.test", "/reuse/false/status/200"},
  };
  for (auto const& [host, target] : calls) {
    auto const a = r.call(target, host);
    INFO("GET " << target << " Host: " << host << " -> " << a.describe());
    REQUIRE(a.completed);
  }
  auto const m = r.metrics();
  INFO(m.describe() << "the fake reported " << r.upstream.reports() << " connections");
  CHECK(r.upstream.reports() == 7);
  CHECK(m.value("http_client_connections_total", reused("a.test", "false")) == 1);
  CHECK(m.value("http_client_connections_total", reused("a.test", "true")) == 2);
  CHECK(m.value("http_client_connections_total", reused("b.test", "false")) == 4);
  CHECK(m.value("http_client_connections_total", reused("b.test", "true")).value_or(0) == 0);
  CHECK(m.value_text("http_client_connection_reuse_ratio", series_of("test", "a.test")) == shortest(2.0 / 3.0));
  CHECK(m.value_text("http_client_connection_reuse_ratio", series_of("test", "b.test")) == "0");
}

TEST_CASE("with retries every attempt reports its connection", "[AC4]")
{
  // The retrier builds each later attempt itself: only a client_trace set
  // below it, by the attempt layer, is on every attempt.
  rig r([](stretch1::observe_options& o) {
    task19::retry_options retry;
    retry.max_attempts = 3;
    retry.base = 1ms;
    retry.cap = 2ms;
    retry.random = [] { return 0.5; };
    o.retry = retry;
  });
  auto const a = r.call("/reuse/true/seq/500,500,200");
  INFO("GET /reuse/true/seq/500,500,200 with three attempts allowed -> " << a.describe());
  REQUIRE(a.completed);
  CHECK(a.status == 200);
  auto const m = r.metrics();
  INFO(m.describe() << "the upstream received " << r.upstream.calls() << " requests, " << r.upstream.reports()
                    << " of them with a client_trace it reported to");
  CHECK(r.upstream.calls() == 3);
  CHECK(m.value("http_client_connections_total", reused("a.test", "true")) == 3);
  CHECK(m.value_text("http_client_connection_reuse_ratio", series_of("test", "a.test")) == "1");
}

TEST_CASE("a transport that reports no connection leaves the ratio out", "[AC4]")
{
  rig r;
  r.upstream.silent(true);
  for (int i = 0; i < 3; ++i) {
    auto const a = r.call("/reuse/true/status/200");
    INFO("GET /reuse/true/status/200 from a fake that never reports a connection -> " << a.describe());
    REQUIRE(a.completed);
  }
  auto const m = r.metrics();
  INFO(m.describe());
  CHECK(m.value("http_client_requests_total", request_labels("test", "a.test", "GET", "200")) == 3);
  CHECK(m.series("http_client_connections_total").empty());
  CHECK(m.series("http_client_connection_reuse_ratio").empty());
  CHECK(m.text().find("NaN") == std::string::npos);
  for (auto const& f : m.families())
    for (auto const& s : f.samples) {
      INFO(s.name << describe(s.label) << " " << s.text);
      CHECK_FALSE(std::isnan(s.value));
    }
}
