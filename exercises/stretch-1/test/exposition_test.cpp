// Stretch 1 · acceptance tests for the exposition [AC5]: a strict reader of
// the text format (fixtures.hpp) finds every family with one # HELP and one
// # TYPE line before its samples, all its samples together, label values
// escaped (\\ \" \n) and counters ending in _total; the metrics_endpoint on
// 127.0.0.1:0, read with workbook::test_client, answers GET /metrics with
// the exact Content-Type and the registry's text, 404 elsewhere, 405 with
// "Allow: GET" for another method; it refuses an address that is not
// loopback with std::invalid_argument; it outlives the transport; and
// promtool, when installed, accepts the text.
#include "fixtures.hpp"

#include <workbook/process.hpp>
#include <workbook/skip.hpp>
#include <workbook/temp_dir.hpp>
#include <workbook/test_client.hpp>

#include <catch2/catch.hpp>

#include <ifaddrs.h>
#include <netinet/in.h>

#include <fstream>

using namespace stretch1_test;

namespace {

std::string const content_type = "text/plain; version=0.0.4; charset=utf-8";

// Calls that give every family the transport writes without a retrier or a
// breaker a sample, the hosts taking turns, and one call still held (in
// flight) when the test reads the text. Returns the held call.
pending workload(rig& r, std::string const& odd_host = "b.test")
{
  std::vector<std::pair<std::string, std::string>> const calls{
      {"a.test", "/reuse/false/took/3/status/200"}, {odd_host, "/reuse/false/took/9/status/503"},
      {"a.test", "/reuse/true/status/404"},         {odd_host, "/reuse/true/took/1/status/200"},
      {"a.test", "/took/20/refused"},               {odd_host, "/reuse/true/status/201"},
  };
  for (auto const& [host, target] : calls) {
    auto const a = r.call(target, host);
    INFO("GET " << target << " Host: " << printable(host) << " -> " << a.describe());
    REQUIRE(a.completed);
  }
  auto held = r.start(get("/hold", odd_host));
  r.until_held(1);
  return held;
}

std::string describe(workbook::response const& res)
{
  if (res.status == 0) return "no response: " + res.error;
  std::string out = std::to_string(res.status) + " " + res.reason + "\n";
  for (auto const& [k, v] : res.headers) out += k + ": " + v + "\n";
  return out + "\n" + res.body;
}

std::optional<asio::ip::address> first_address_not_loopback()
{
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return std::nullopt;
  std::optional<asio::ip::address> found;
  for (auto* i = list; i && !found; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    auto const* in = reinterpret_cast<sockaddr_in const*>(i->ifa_addr);
    asio::ip::address_v4 const a(ntohl(in->sin_addr.s_addr));
    if (!a.is_loopback() && !a.is_unspecified()) found = a;
  }
  ::freeifaddrs(list);
  return found;
}

bool ipv6_loopback_available()
{
  asio::io_context ioc;
  asio::ip::tcp::acceptor acceptor(ioc);
  error_code ec;
  acceptor.open(asio::ip::tcp::v6(), ec);
  if (!ec) acceptor.bind({asio::ip::address_v6::loopback(), 0}, ec);
  return !ec;
}

} // namespace

TEST_CASE("the metrics endpoint answers GET /metrics with the text format on loopback", "[AC5]")
{
  rig r;
  for (auto target : {"/status/200", "/took/5/status/503", "/status/200"}) REQUIRE(r.call(target).completed);
  stretch1::metrics_endpoint endpoint(r.ioc.get_executor(), r.transport->shared_metrics(), local(0));
  auto const port = endpoint.local_endpoint().port();
  INFO("the endpoint says it listens on " << endpoint.local_endpoint());
  REQUIRE(port != 0);
  CHECK(endpoint.local_endpoint().address() == asio::ip::make_address("127.0.0.1"));

  workbook::test_client client(port);
  auto const res = client.get("/metrics");
  auto const now = r.text();
  {
    INFO("GET /metrics ->\n" << describe(res) << "\nexposition() right after:\n" << now);
    REQUIRE(res.status == 200);
    CHECK(res.header("Content-Type") == content_type);
    CHECK(res.body == now);
    CHECK(exposition::parse(res.body).value("http_client_requests_total",
                                            request_labels("test", "a.test", "GET", "200")) == 2);
  }
  auto const again = client.get("/metrics");
  {
    INFO("GET /metrics a second time ->\n" << describe(again));
    CHECK(again.status == 200);
    CHECK(client.connections_opened() == 1);  // keep-alive
  }
  auto const other = client.get("/other");
  {
    INFO("GET /other ->\n" << describe(other));
    CHECK(other.status == 404);
  }
  workbook::request post;
  post.method = "POST";
  post.target = "/metrics";
  post.body = "x";
  auto const posted = client.send(post);
  INFO("POST /metrics ->\n" << describe(posted));
  CHECK(posted.status == 405);
  CHECK(posted.header("Allow") == "GET");
}

TEST_CASE("every family has one help and one type line and all its samples together", "[AC5]")
{
  rig r([](stretch1::observe_options& o) { o.client = "shop"; });
  auto held = workload(r);
  auto const m = r.metrics();
  INFO(m.describe());
  CHECK(m.problems().empty());
  for (auto name : {"http_client_requests_total", "http_client_requests_in_flight", "http_client_request_duration_seconds",
                    "http_client_connections_total", "http_client_connection_reuse_ratio"}) {
    INFO("family " << name);
    REQUIRE(m.find(name));
    CHECK(m.find(name)->type == contract_types.at(name));
    CHECK_FALSE(m.find(name)->help.empty());
  }
  for (auto const& f : m.families()) {
    INFO("family " << f.name << " is not one of the contract's");
    CHECK(contract_types.count(f.name) == 1);
  }
  CHECK(m.value("http_client_requests_in_flight", series_of("shop", "b.test")) == 1);

  // A summary's samples: the three quantiles, then _sum and _count.
  for (auto host : {"a.test", "b.test"}) {
    std::string order;
    for (auto const& s : m.find("http_client_request_duration_seconds")->samples)
      if (s.label.count("host") && s.label.at("host") == host)
        order += s.name.substr(std::string("http_client_request_duration_seconds").size()) +
                 (s.label.count("quantile") ? "{" + s.label.at("quantile") + "}" : "") + " ";
    INFO("host " << host << ": the summary's samples in the order written: " << order);
    CHECK(order == "{0.5} {0.95} {0.99} _sum _count ");
  }
  r.upstream.release("/hold", 200);
  held.wait();
}

TEST_CASE("label values with quotes, backslashes and line feeds are escaped and read back", "[AC5]")
{
  std::string const client = "we\"ird\\cli\nent";
  std::string const host = "a\"b\\c";
  rig r([&](stretch1::observe_options& o) { o.client = client; });
  auto const a = r.call("/status/200", host);
  INFO("GET /status/200 Host: " << printable(host) << " -> " << a.describe());
  REQUIRE(a.completed);
  auto const m = r.metrics();
  INFO(m.describe() << "client label: " << printable(client) << "\nhost label: " << printable(host));
  CHECK(m.problems().empty());
  CHECK(m.value("http_client_requests_total", request_labels(client, host, "GET", "200")) == 1);
  CHECK(m.text().find(R"(client="we\"ird\\cli\nent")") != std::string::npos);
  CHECK(m.text().find(R"(host="a\"b\\c")") != std::string::npos);
}

TEST_CASE("an endpoint on an address that is not loopback is refused before it binds", "[AC5]")
{
  asio::io_context ioc;
  auto registry = std::make_shared<stretch1::metrics_registry>();
  auto listen = [&](asio::ip::address const& a) {
    stretch1::metrics_endpoint e(ioc.get_executor(), registry, asio::ip::tcp::endpoint(a, 0));
    return e.local_endpoint();
  };
  std::vector<asio::ip::address> refused{asio::ip::make_address("0.0.0.0"), asio::ip::make_address("::")};
  if (auto a = first_address_not_loopback()) refused.push_back(*a);
  for (auto const& a : refused) {
    INFO("metrics_endpoint on " << a << " port 0");
    CHECK_THROWS_AS(listen(a), std::invalid_argument);
  }

  auto const v4 = listen(asio::ip::make_address("127.0.0.1"));
  INFO("metrics_endpoint on 127.0.0.1:0 listened on " << v4);
  CHECK(v4.port() != 0);
  if (ipv6_loopback_available()) {
    asio::ip::tcp::endpoint v6;
    CHECK_NOTHROW(v6 = listen(asio::ip::make_address("::1")));
    INFO("metrics_endpoint on [::1]:0 listened on " << v6);
    CHECK(v6.port() != 0);
  }
}

TEST_CASE("the endpoint outlives the transport that filled its registry", "[AC5]")
{
  rig r;
  for (int i = 0; i < 3; ++i) REQUIRE(r.call("/status/200").completed);
  stretch1::metrics_endpoint endpoint(r.ioc.get_executor(), r.transport->shared_metrics(), local(0));
  r.transport.reset();  // no call is in flight
  workbook::test_client client(endpoint.local_endpoint().port());
  auto const res = client.get("/metrics");
  INFO("the transport is gone; GET /metrics ->\n" << describe(res));
  REQUIRE(res.status == 200);
  CHECK(exposition::parse(res.body).value("http_client_requests_total", request_labels("test", "a.test", "GET", "200")) ==
        3);
}

TEST_CASE("promtool accepts the exposition", "[AC5]")
{
  rig r([](stretch1::observe_options& o) { o.client = "shop"; });
  auto held = workload(r, "b\"\\.test");
  auto const text = r.text();
  auto const m = exposition::parse(text);
  {
    INFO(m.describe());
    REQUIRE(m.find("http_client_requests_total"));
    REQUIRE(m.find("http_client_request_duration_seconds"));
  }
  r.upstream.release("/hold", 200);
  held.wait();

  auto const promtool = workbook::find_program("promtool");
  if (!promtool) WORKBOOK_SKIP("promtool is not installed: apt install prometheus");
  workbook::temp_dir dir("stretch1-promtool");
  auto const file = dir.path() / "metrics.txt";
  std::ofstream(file, std::ios::binary) << text;
  auto const result =
      workbook::run_process({"/bin/sh", "-c", "'" + *promtool + "' check metrics < '" + file.string() + "'"}, 10s);
  INFO(m.describe() << "promtool check metrics exited with " << result.exit_code
                    << (result.timed_out ? " (timed out)" : "") << " and said:\n"
                    << result.output);
  CHECK(result.exit_code == 0);
  CHECK_FALSE(result.timed_out);
  CHECK(result.output.empty());
}
