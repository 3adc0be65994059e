// Task 15 · acceptance tests for the parameters [AC4]: every way to ask
// badly is a 400 that says what is wrong and which parameter, as JSON, on
// a connection that stays open; the largest n is accepted; other paths and
// methods get 404 and 405.
#include "fixtures.hpp"

#include <workbook/test_client.hpp>

#include <catch2/catch.hpp>

using namespace task15_test;

namespace {

// What is wrong with an answer that should be a 400 about `parameter`.
std::string refusal_problem(workbook::response const& res, std::string const& parameter)
{
  if (res.status == 0) return "no response: " + res.error;
  if (res.status != 400) return "status " + std::to_string(res.status) + ", expected 400";
  auto const type = res.header("Content-Type").value_or("(none)");
  if (type.substr(0, type.find(';')) != "application/json") return "Content-Type " + type + ", expected application/json";
  auto const body = nlohmann::json::parse(res.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) return "the body is not a JSON object: " + printable(res.body);
  if (!body.contains("error") || !body["error"].is_string() || body["error"].get<std::string>().empty())
    return "the body has no string \"error\" for a person to read: " + body.dump();
  if (!body.contains("parameter") || body["parameter"] != parameter)
    return "\"parameter\" should be \"" + parameter + "\": " + body.dump();
  return "";
}

} // namespace

TEST_CASE("a bad n or format is a 400 naming the parameter, as JSON, and the connection stays open", "[AC4]")
{
  running_server s;
  workbook::test_client client(s.port());
  struct bad {
    char const* target;
    char const* parameter;
  };
  bad const cases[] = {
      {"/records", "n"},                                  // missing
      {"/records?format=ndjson", "n"},                    // missing, with a good format
      {"/records?n=", "n"},                               // empty
      {"/records?n", "n"},                                // no value at all
      {"/records?n=-1", "n"},                             // negative
      {"/records?n=%2B5", "n"},                           // "+5": a sign
      {"/records?n=%205", "n"},                           // " 5": a space
      {"/records?n=1.5", "n"},                            // a point
      {"/records?n=1e6", "n"},                            // an exponent
      {"/records?n=0x10", "n"},                           // hexadecimal
      {"/records?n=12abc", "n"},                          // digits, then letters
      {"/records?n=abc", "n"},                            // no digits
      {"/records?n=10000001", "n"},                       // max_records + 1
      {"/records?n=18446744073709551616", "n"},           // 2^64
      {"/records?n=99999999999999999999999999", "n"},     // far beyond
      {"/records?format=xml", "n"},                       // n is checked first
      {"/records?n=5&format=xml", "format"},              // unknown format
      {"/records?n=5&format=", "format"},                 // empty format
      {"/records?n=5&format=JSON", "format"},             // formats are lower case
      {"/records?format=csv&n=5", "format"},              // in any order
  };
  for (auto const& c : cases) {
    INFO("GET " << c.target);
    auto const res = client.get(c.target);
    CHECK(refusal_problem(res, c.parameter) == "");
  }
  // Every answer had a length and kept the connection.
  CHECK(client.connections_opened() == 1);
}

TEST_CASE("the largest n is accepted, other parameters are ignored, and their order does not matter", "[AC4]")
{
  running_server s;
  {
    // Ten million records: the header says yes; the client leaves then.
    stream_client client(s.port());
    REQUIRE(client.connected());
    REQUIRE(client.get("/records?n=10000000"));
    CHECK(stream_header_problem(client, "application/json") == "");
    auto const first = client.read_some();
    CHECK_FALSE(first.empty());
    client.close();
  }
  workbook::test_client client(s.port());
  auto const reordered = client.get("/records?format=ndjson&n=3");
  CHECK(reordered.status == 200);
  CHECK(reordered.header("Content-Type").value_or("").substr(0, 20) == "application/x-ndjson");
  CHECK(whole_body_problem(reordered.body, format::ndjson, 3) == "");
  auto const extra = client.get("/records?page=2&n=4&sort=desc");
  CHECK(extra.status == 200);
  CHECK(whole_body_problem(extra.body, format::json, 4) == "");
  CHECK(client.connections_opened() == 1);
}

TEST_CASE("another path is a 404, another method a 405 with Allow: GET, both as JSON", "[AC4]")
{
  running_server s;
  workbook::test_client client(s.port());
  for (char const* target : {"/", "/record?n=5", "/records/5", "/recordsx?n=5"}) {
    INFO("GET " << target);
    auto const res = client.get(target);
    CHECK(res.status == 404);
    CHECK(res.header("Content-Type").value_or("(none)").substr(0, 16) == "application/json");
    CHECK_FALSE(nlohmann::json::parse(res.body, nullptr, false).is_discarded());
  }
  workbook::request post;
  post.method = "POST";
  post.target = "/records?n=5";
  post.body = "{}";
  auto const res = client.send(post);
  CHECK(res.status == 405);
  CHECK(res.header("Allow").value_or("(none)") == "GET");
  CHECK(client.connections_opened() == 1);
}
