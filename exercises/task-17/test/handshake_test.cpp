// Task 17 · [AC1]: the 101. A request that asks for the echo protocol, its
// tokens in any case, inside comma lists, or on several lines of a field,
// gets `101 Switching Protocols` with `Upgrade: echo` and `Connection:
// Upgrade`, no body framing, and nothing between the head and the first
// reply.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

using namespace task17_test;

namespace {

// An upgrade request with these fields, in this order, on `target`.
struct variant {
  std::string target;
  workbook::header_list fields;
};

std::string show(variant const& v)
{
  std::string out = "GET " + v.target;
  for (auto const& [name, value] : v.fields) out += " | " + name + ": " + value;
  return out;
}

void check_upgrades(std::vector<variant> const& variants)
{
  running_server s;
  for (auto const& v : variants) {
    auto o = open_with(s.port, request_text(v.target, v.fields));
    INFO("the request: " << show(v) << "\n" << o.describe());
    CHECK(o.upgraded());
    if (!o.upgraded()) continue;
    CHECK(round_trip(*o.client, "abc") == "ABC\n");
  }
}

} // namespace

TEST_CASE("an echo upgrade gets 101 Switching Protocols, with no body framing", "[AC1]")
{
  running_server s;
  auto o = open_echo(s.port);
  INFO(o.describe());
  REQUIRE(o.head);
  CHECK(o.head->status_line == "HTTP/1.1 101 Switching Protocols");
  CHECK(workbook::iequals(o.head->field("Upgrade").value_or("(none)"), "echo"));
  INFO("Connection: " << o.head->field("Connection").value_or("(none)"));
  CHECK(o.head->has_token("Connection", "upgrade"));
  // A 101 has no body (RFC 9110 §15.2, §8.6): no field may announce one.
  CHECK_FALSE(o.head->field("Content-Length"));
  CHECK_FALSE(o.head->field("Transfer-Encoding"));
  // Nothing between the head and the echo: the first bytes after the blank
  // line are the first reply.
  auto const first = round_trip(*o.client, "ping");
  INFO("what came after the 101's head: " << printable(first + o.client->unread()));
  CHECK(first == "PING\n");
}

TEST_CASE("the upgrade tokens count in any case and inside comma lists", "[AC1]")
{
  check_upgrades({
      {"/echo", {{"Upgrade", "ECHO"}, {"Connection", "upgrade"}}},
      {"/echo", {{"Upgrade", "Echo"}, {"Connection", "keep-alive, Upgrade"}}},
      {"/echo", {{"Connection", "UPGRADE"}, {"Upgrade", "echo"}}},
      {"/echo", {{"Upgrade", "h2c, echo"}, {"Connection", "Upgrade, HTTP2-Settings"}}},
      {"/echo", {{"Upgrade", "websocket ,echo"}, {"Connection", "keep-alive,upgrade"}}},
      {"/echo?client=tests", {{"Upgrade", "echo"}, {"Connection", "Upgrade"}}},
  });
}

TEST_CASE("Connection or Upgrade sent on two lines still count as one list", "[AC1]")
{
  // RFC 9110 §5.3: several lines of one field are one comma-separated list.
  check_upgrades({
      {"/echo", {{"Connection", "keep-alive"}, {"Upgrade", "echo"}, {"Connection", "Upgrade"}}},
      {"/echo", {{"Upgrade", "h2c"}, {"Connection", "Upgrade"}, {"Upgrade", "echo"}}},
  });
}
