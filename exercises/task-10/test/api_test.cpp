// Task 10 · acceptance tests for the API through your server: creating and
// reading widgets [AC1], unknown fields [AC2], bodies that are not one JSON
// object [AC3] and values that are wrong [AC4].
#include "fixtures.hpp"

#include <workbook/test_client.hpp>

#include <catch2/catch.hpp>

#include <set>
#include <thread>

using namespace task10_test;

namespace {

struct bad_body {
  std::string body;
  std::string field;
};

} // namespace

// ---------------------------------------------------------------- AC1

TEST_CASE("POST /widgets answers 201 {\"id\": N} as application/json, with ids 1, 2, 3 in order", "[AC1]")
{
  running_api api;
  workbook::test_client client(api.port());

  auto const first = client.send(post(R"({"name": "bolt", "price": 0.25, "quantity": 10})"));
  CHECK(first.status == 201);
  CHECK(first.header("Content-Type").value_or("(none)") == "application/json");
  CHECK(body_of(first) == json{{"id", 1}});
  CHECK(first.header("Location").value_or("(none)") == "/widgets/1");

  auto const second = client.send(post(R"({"name": "nut", "price": 0.05})"));
  CHECK(second.status == 201);
  CHECK(body_of(second) == json{{"id", 2}});
  CHECK(second.header("Location").value_or("(none)") == "/widgets/2");

  auto const third = client.send(post(R"({ "quantity" : 3 , "price" : 12 , "name" : "washer" })"));
  CHECK(body_of(third) == json{{"id", 3}});
  CHECK(client.connections_opened() == 1);  // kept alive throughout
}

TEST_CASE("GET /widgets/N answers the widget as it was stored, quantity 0 when it was left out", "[AC1]")
{
  running_api api;
  workbook::test_client client(api.port());

  REQUIRE(client.send(post(R"({"name": "bolt", "price": 0.25, "quantity": 10})")).status == 201);
  REQUIRE(client.send(post(R"({"name": "Schraube \u00e9 \"M4\"", "price": 3})")).status == 201);

  auto const bolt = client.get("/widgets/1");
  CHECK(bolt.status == 200);
  CHECK(bolt.header("Content-Type").value_or("(none)") == "application/json");
  CHECK(body_of(bolt) == json{{"id", 1}, {"name", "bolt"}, {"price", 0.25}, {"quantity", 10}});

  auto const schraube = client.get("/widgets/2");
  CHECK(schraube.status == 200);
  CHECK(body_of(schraube) == json{{"id", 2}, {"name", "Schraube \xc3\xa9 \"M4\""}, {"price", 3}, {"quantity", 0}});
}

TEST_CASE("unknown widgets and paths answer 404, other methods 405 with Allow, all as JSON", "[AC1]")
{
  running_api api;
  workbook::test_client client(api.port());
  REQUIRE(client.send(post(R"({"name": "bolt", "price": 1})")).status == 201);

  for (std::string target : {"/widgets/2", "/widgets/0", "/widgets/abc", "/widgets/-1", "/widgets/1/parts", "/nope", "/"}) {
    INFO("GET " << target);
    auto const res = client.get(target);
    CHECK(error_problem(res, 404) == "");
  }

  auto const put = client.send(with_method("PUT", "/widgets"));
  CHECK(error_problem(put, 405) == "");
  CHECK(put.header("Allow").value_or("(none)") == "POST");

  auto const del = client.send(with_method("DELETE", "/widgets/1"));
  CHECK(error_problem(del, 405) == "");
  CHECK(del.header("Allow").value_or("(none)") == "GET");

  // Still there, and the same connection throughout.
  CHECK(client.get("/widgets/1").status == 200);
  CHECK(client.connections_opened() == 1);
}

TEST_CASE("concurrent POSTs on a 2-thread server each get an id of their own: 1 to N, none twice", "[AC1]")
{
  constexpr int clients = 8;
  constexpr int each = 15;
  running_api api(2);

  std::vector<std::vector<json>> ids(clients);
  {
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c)
      threads.emplace_back([c, port = api.port(), &mine = ids[static_cast<std::size_t>(c)]] {
        workbook::test_client client(port);
        for (int i = 0; i < each; ++i) {
          auto const res = client.send(post(R"({"name": "w)" + std::to_string(c) + "-" + std::to_string(i) +
                                            R"(", "price": 1})"));
          mine.push_back(body_of(res).is_object() ? body_of(res).value("id", json()) : json());
        }
      });
    for (auto& t : threads) t.join();
  }
  std::set<std::int64_t> seen;
  std::vector<std::string> wrong;
  for (auto const& mine : ids)
    for (auto const& id : mine) {
      if (!id.is_number_integer()) wrong.push_back("an answer without an integer id: " + id.dump());
      else if (!seen.insert(id.get<std::int64_t>()).second) wrong.push_back("id " + id.dump() + " given twice");
    }
  INFO(wrong.size() << " wrong answers; the first: " << (wrong.empty() ? "" : wrong.front()));
  CHECK(wrong.empty());
  CHECK(seen.size() == clients * each);
  CHECK((!seen.empty() && *seen.begin() == 1 && *seen.rbegin() == clients * each));
}

// ---------------------------------------------------------------- AC2

TEST_CASE("an unknown field is a 400 that names it, and nothing is stored", "[AC2]")
{
  running_api api;
  workbook::test_client client(api.port());

  auto const res = client.send(post(R"({"name": "bolt", "price": 1, "color": "red"})"));
  INFO("body: " << res.body);
  CHECK(error_problem(res, 400, "color") == "");

  // Nothing was stored: the next widget is the first, on the same connection.
  auto const next = client.send(post(R"({"name": "bolt", "price": 1})"));
  CHECK(next.status == 201);
  CHECK(body_of(next) == json{{"id", 1}});
  CHECK(client.connections_opened() == 1);
}

TEST_CASE("of several unknown fields, the first in the body is named; names are case-sensitive", "[AC2]")
{
  running_api api;
  workbook::test_client client(api.port());

  // "zeta" comes first in the body, "alpha" first in the alphabet.
  auto const two = client.send(post(R"({"zeta": 1, "name": "bolt", "alpha": 2, "price": 1})"));
  INFO("body: " << two.body);
  CHECK(error_problem(two, 400, "zeta") == "");

  auto const cased = client.send(post(R"({"name": "bolt", "price": 1, "Name": "other"})"));
  INFO("body: " << cased.body);
  CHECK(error_problem(cased, 400, "Name") == "");
}

TEST_CASE("an unknown field is reported before any wrong value", "[AC2]")
{
  running_api api;
  workbook::test_client client(api.port());

  // A typo: "prize" for "price". The client should hear about the typo,
  // not that price is missing.
  auto const typo = client.send(post(R"({"name": "bolt", "prize": 1})"));
  INFO("body: " << typo.body);
  CHECK(error_problem(typo, 400, "prize") == "");

  auto const both = client.send(post(R"({"name": "", "price": -1, "colour": "red"})"));
  INFO("body: " << both.body);
  CHECK(error_problem(both, 400, "colour") == "");
}

// ---------------------------------------------------------------- AC3

TEST_CASE("malformed JSON is a 400 with the offset of the byte where parsing stopped", "[AC3]")
{
  running_api api;
  workbook::test_client client(api.port());

  // Refused at a byte of the body, a body also closes the connection (AC6);
  // ended too soon, it does not. The client reconnects as needed.
  struct malformed {
    std::string body;
    std::size_t offset;
  };
  for (auto const& m : std::vector<malformed>{
           {R"({"name": "bolt", "price": 1.5,})", 30},     // the '}' after a trailing comma
           {R"({'name': 'bolt'})", 1},                     // single quotes
           {R"({"name": bolt, "price": 1})", 9},           // a value that cannot start JSON
           {"{\"name\": \"caf\xff\", \"price\": 1}", 13},  // a byte that is not UTF-8
           {R"({"name": "bo)", 12},                        // ended too soon: the length
           {"", 0},                                        // nothing at all
       }) {
    INFO("body: " << printable(m.body));
    auto const res = client.send(post(m.body));
    INFO("answer: " << res.body);
    auto const problem = error_problem(res, 400, std::nullopt, m.offset);
    CHECK(problem == "");
    if (!problem.empty()) break;  // one is enough to show
  }
}

TEST_CASE("data after the object is a 400 with its offset; whitespace after it is fine", "[AC3]")
{
  running_api api;
  // Each of these is refused at a byte of its body, and a refusal there
  // closes the connection (AC6): the client opens a new one each time.
  workbook::test_client client(api.port());

  auto const two = client.send(post(R"({"name":"a","price":1}{"name":"b","price":2})"));
  INFO("answer: " << two.body);
  CHECK(error_problem(two, 400, std::nullopt, 22) == "");

  auto const junk = client.send(post(R"({"name":"a","price":1} x)"));
  INFO("answer: " << junk.body);
  CHECK(error_problem(junk, 400, std::nullopt, 23) == "");

  auto const array = client.send(post("{\"name\":\"a\",\"price\":1}\n\n[]"));
  INFO("answer: " << array.body);
  CHECK(error_problem(array, 400, std::nullopt, 24) == "");

  // None of them was stored; trailing whitespace is not trailing data.
  auto const fine = client.send(post("{\"name\":\"a\",\"price\":1}\r\n \t\n"));
  CHECK(fine.status == 201);
  CHECK(body_of(fine) == json{{"id", 1}});
}

TEST_CASE("JSON that is not an object is a 400", "[AC3]")
{
  running_api api;
  workbook::test_client client(api.port());

  for (std::string body : {"[1, 2]", R"("bolt")", "42", "null", "true", R"([{"name": "bolt", "price": 1}])"}) {
    INFO("body: " << body);
    auto const res = client.send(post(body));
    INFO("answer: " << res.body);
    CHECK(error_problem(res, 400) == "");
  }
  auto const fine = client.send(post(R"({"name": "bolt", "price": 1e300})"));
  CHECK(fine.status == 201);
  CHECK(body_of(fine) == json{{"id", 1}});
}

// ---------------------------------------------------------------- AC4

TEST_CASE("a wrong type, a missing field or a value out of range is a 422 that names the field", "[AC4]")
{
  running_api api;
  workbook::test_client client(api.port());

  std::string const long_name(101, 'x');
  for (auto const& b : std::vector<bad_body>{
           {R"({"price": 1})", "name"},
           {R"({"name": "", "price": 1})", "name"},
           {R"({"name": 42, "price": 1})", "name"},
           {R"({"name": null, "price": 1})", "name"},
           {R"({"name": ["bolt"], "price": 1})", "name"},
           {R"({"name": ")" + long_name + R"(", "price": 1})", "name"},
           {R"({"name": "bolt"})", "price"},
           {R"({"name": "bolt", "price": -0.01})", "price"},
           {R"({"name": "bolt", "price": "1.5"})", "price"},
           {R"({"name": "bolt", "price": null})", "price"},
           {R"({"name": "bolt", "price": 1e999})", "price"},  // too large for a double: infinite
           {R"({"name": "bolt", "price": -1e999})", "price"},
           {R"({"name": "bolt", "price": true})", "price"},
           {R"({"name": "bolt", "price": 1, "quantity": 1.5})", "quantity"},
           {R"({"name": "bolt", "price": 1, "quantity": 2.0})", "quantity"},
           {R"({"name": "bolt", "price": 1, "quantity": 1e3})", "quantity"},
           {R"({"name": "bolt", "price": 1, "quantity": -1})", "quantity"},
           {R"({"name": "bolt", "price": 1, "quantity": 1000001})", "quantity"},
           {R"({"name": "bolt", "price": 1, "quantity": 18446744073709551615})", "quantity"},
           {R"({"name": "bolt", "price": 1, "quantity": "3"})", "quantity"},
           {R"({})", "name"},
           {R"({"quantity": -1, "price": -1, "name": ""})", "name"},  // the first of name, price, quantity
       }) {
    INFO("body: " << printable(b.body));
    auto const res = client.send(post(b.body));
    INFO("answer: " << res.body);
    auto const problem = error_problem(res, 422, b.field);
    CHECK(problem == "");
    if (!problem.empty()) break;  // one is enough to show
  }

  // Nothing was stored.
  auto const next = client.send(post(R"({"name": "bolt", "price": 1})"));
  CHECK(body_of(next) == json{{"id", 1}});
  CHECK(client.connections_opened() == 1);
}

TEST_CASE("values at the edges are accepted and stored as sent", "[AC4]")
{
  running_api api;
  workbook::test_client client(api.port());

  std::string const longest(100, 'x');
  std::vector<json> const edges{
      {{"name", "x"}, {"price", 0}, {"quantity", 0}},
      {{"name", longest}, {"price", 1e300}, {"quantity", 1000000}},
      {{"name", "bolt"}, {"price", 19.99}},
  };
  int id = 0;
  for (auto const& widget : edges) {
    INFO("body: " << widget.dump());
    auto const created = client.send(post(widget.dump()));
    CHECK(created.status == 201);
    ++id;
    auto const stored = body_of(client.get("/widgets/" + std::to_string(id)));
    INFO("GET /widgets/" << id << ": " << stored.dump());
    REQUIRE(stored.is_object());
    CHECK(stored.value("name", json()) == widget["name"]);
    CHECK(stored.value("price", json()) == widget["price"]);
    CHECK(stored.value("quantity", json()) == widget.value("quantity", json(0)));
  }
}
