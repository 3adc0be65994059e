// Task 10 · a property test of the parsing path [AC7]: thousands of bodies,
// random and mutated from valid ones, straight into widget_api::handle().
// Whatever the body, the answer is a well-formed 2xx or 4xx with a JSON
// object for a body, and nothing is thrown. Each body also goes to a
// second API cut into random pieces through a body_decoder, and must get
// the same answer there as in one piece.
//
// The generator is seeded, and the seed is printed with the results, so a
// failure is reproduced by running the test again. The number of cases is
// fixed (smaller only under a sanitizer), so what the test covers is the
// same on every machine. Another seed explores other bodies:
//   TASK10_FUZZ_SEED=12345 build/dev/tasks/task-10/task-10-stub "[AC7]"
#include "fixtures.hpp"

#include <workbook/sanitizers.hpp>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <random>
#include <sstream>

using namespace task10_test;

namespace {

constexpr std::uint64_t default_seed = 0x7a5c10f00d5eedULL;
// A sanitized build runs every case several times slower: it runs fewer.
#ifdef WORKBOOK_SANITIZED
constexpr int cases_wanted = 1000;
#else
constexpr int cases_wanted = 3000;
#endif

// Where the parser stops inside a broken token (a literal, a \u escape, a
// multi-byte character) depends on whether the token came in one piece
// (widgets.hpp, check 1): the offsets of one body cut in two ways may
// differ by at most the longest such token, a surrogate pair \ud83d\ude00.
constexpr std::int64_t offset_wobble = 12;

// std::mt19937_64 is specified bit for bit, so one seed gives the same
// bodies with any standard library. (The distributions are not: hence pick().)
class generator {
public:
  explicit generator(std::uint64_t seed) : rng_(seed) {}

  std::uint64_t pick(std::uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  bool chance(int percent) { return pick(100) < static_cast<std::uint64_t>(percent); }

  // One request body, and the name of the way it was made.
  std::pair<std::string, std::string> body()
  {
    switch (pick(10)) {
    case 0:
    case 1: return {random_bytes(), "random bytes"};
    case 2:
    case 3:
    case 4: return {mutated(), "mutated"};
    case 5:
    case 6:
    case 7: return {object(), "random object"};
    case 8: return {value(3), "random value"};
    default: return {special(), "special"};
    }
  }

  // The body cut into pieces: a few at random places, or one byte each.
  std::vector<std::string_view> pieces(std::string const& body)
  {
    std::vector<std::string_view> out;
    std::string_view rest = body;
    if (chance(10) && body.size() <= 100000) {
      for (std::size_t i = 0; i < rest.size(); ++i) out.push_back(rest.substr(i, 1));
      return out;
    }
    for (std::uint64_t n = 1 + pick(6); n > 1 && !rest.empty(); --n) {
      auto const size = pick(rest.size() + 1);  // an empty piece now and then
      out.push_back(rest.substr(0, size));
      rest.remove_prefix(size);
    }
    out.push_back(rest);
    return out;
  }

  // A target for a GET, valid or not.
  std::string target()
  {
    static char const* const tails[] = {"1", "2", "0", "-1", "999999", "18446744073709551616", "abc", "",
                                        "1/x", "%31", "1?x=y", " 1", "01", "1.0"};
    return "/widgets/" + std::string(tails[pick(std::size(tails))]);
  }

private:
  std::string random_bytes()
  {
    static constexpr std::string_view alphabet = "{}[]\":,.-+eE0123456789 \t\n\r\\/ntrufalsebu";
    std::string out(pick(64), ' ');
    for (auto& c : out)
      c = chance(10) ? static_cast<char>(pick(256)) : alphabet[pick(alphabet.size())];
    return out;
  }

  std::string valid()
  {
    static char const* const corpus[] = {
        R"({"name": "bolt", "price": 0.25, "quantity": 10})",
        R"({"name":"nut","price":0})",
        R"({"name": "Schraube \u00e9", "price": 1e2, "quantity": 1000000})",
        R"({ "quantity" : 3 , "price" : 12.5 , "name" : "washer" })",
        "{\"name\": \"caf\xc3\xa9\", \"price\": 3.5}",
    };
    return corpus[pick(std::size(corpus))];
  }

  std::string mutated()
  {
    std::string s = valid();
    for (std::uint64_t n = 1 + pick(4); n > 0; --n) {
      if (s.empty()) s = valid();
      auto const at = pick(s.size());
      switch (pick(7)) {
      case 0: s[at] = static_cast<char>(pick(256)); break;                        // any byte
      case 1: s[at] = "{}[]\":,0-e. \\"[pick(13)]; break;                          // a JSON-ish byte
      case 2: s.erase(at, 1 + pick(3)); break;                                      // delete
      case 3: s.insert(at, 1, "{}[]\":,0-e. \\x"[pick(14)]); break;               // insert
      case 4: s.resize(at); break;                                                  // truncate
      case 5: s += pick(2) ? valid() : std::string(" x"); break;                   // trailing data
      default: s.insert(at, s.substr(pick(s.size()), pick(8))); break;             // duplicate a slice
      }
    }
    return s;
  }

  std::string key()
  {
    static char const* const keys[] = {"name", "price", "quantity", "name", "price", "quantity", "color",
                                       "", "Name", "n\\u0061me", "na\xc3\xafve", "\\u0000", "prize"};
    return std::string("\"") + keys[pick(std::size(keys))] + "\"";
  }

  std::string value(int depth)
  {
    static char const* const scalars[] = {
        "null", "true", "false", "0", "-0", "1", "-1", "10", "1000000", "1000001", "0.25", "-0.01", "1.0",
        "1e3", "1e308", "1e999", "-1e999", "1e-999", "18446744073709551615", "18446744073709551616",
        "-9223372036854775809", "99999999999999999999999999999", "\"\"", "\"bolt\"", "\"3\"",
        "\"\\u0000\"", "\"\\ud800\"", "\"\\ud83d\\ude00\"", "\"\\\"\\\\\"", "\"caf\xc3\xa9\"", "\"\xff\"",
        "\"\\x\""};
    if (depth > 0 && chance(25)) {
      if (pick(2)) {
        std::string out = "[";
        for (std::uint64_t n = pick(4); n > 0; --n) out += value(depth - 1) + (n > 1 ? "," : "");
        return out + "]";
      }
      return object(depth - 1);
    }
    if (chance(5)) return "\"" + std::string(95 + pick(10), 'x') + "\"";  // names around 100 bytes
    return scalars[pick(std::size(scalars))];
  }

  std::string object(int depth = 2)
  {
    std::string out = "{";
    for (std::uint64_t n = pick(5); n > 0; --n) out += key() + ":" + value(depth) + (n > 1 ? "," : "");
    return out + "}";
  }

  std::string special()
  {
    auto const n = 1000 + pick(9000);
    switch (pick(8)) {
    case 0: return std::string(n, '[') + std::string(n, ']');  // deep, valid, not an object
    case 1: return std::string(n, '{');                        // deep and unfinished
    case 2: return R"({"name": ")" + std::string(20000 + pick(20000), 'x') + R"(", "price": 1})";
    case 3: return R"({"name": "bolt", "price": 1)" + std::string(n, '0') + "}";
    case 4: return "\xef\xbb\xbf" + valid();                    // a byte order mark
    case 5: return std::string("{\"name\": \"a\0b\", \"price\": 1}", 27);
    case 6: return valid() + std::string(n, ' ');
    default: return std::string(n, '\0');
    }
  }

  std::mt19937_64 rng_;
};

std::uint64_t seed_from_environment()
{
  if (char const* s = std::getenv("TASK10_FUZZ_SEED"); s && *s) return std::strtoull(s, nullptr, 0);
  return default_seed;
}

// What is wrong with an answer: "" when nothing is.
std::string answer_problem(task10::response const& res)
{
  auto const status = res.result_int();
  if (!((status >= 200 && status < 300) || (status >= 400 && status < 500)))
    return "status " + std::to_string(status) + " is neither 2xx nor 4xx";
  if (res[boost::beast::http::field::content_type] != "application/json")
    return "Content-Type is \"" + std::string(res[boost::beast::http::field::content_type]) + "\"";
  auto const body = json::parse(res.body(), nullptr, false);
  if (body.is_discarded() || !body.is_object()) return "the body is not a JSON object: " + printable(res.body());
  if (status >= 400 && !(body.contains("error") && body["error"].is_string()))
    return "a " + std::to_string(status) + " without a string \"error\": " + printable(res.body());
  if (status == 201 && !(body.contains("id") && body["id"].is_number_integer()))
    return "a 201 without an integer \"id\": " + printable(res.body());
  return "";
}

// What differs between the answers to one body in one piece and in
// several: "" when nothing does, beyond the offset's wobble.
std::string split_problem(task10::response const& whole, task10::response const& split)
{
  if (whole.result_int() != split.result_int())
    return "status " + std::to_string(split.result_int()) + " in pieces, " + std::to_string(whole.result_int()) +
           " in one piece";
  auto const a = json::parse(whole.body(), nullptr, false);
  auto const b = json::parse(split.body(), nullptr, false);
  if (!a.is_object() || !b.is_object()) return "";  // answer_problem() reports it
  for (char const* member : {"id", "field", "offset"}) {
    if (a.contains(member) != b.contains(member))
      return std::string("\"") + member + "\" only " + (a.contains(member) ? "in one piece" : "in pieces");
    if (!a.contains(member)) continue;
    auto const& x = a[member];
    auto const& y = b[member];
    bool const same = std::string(member) == "offset" && x.is_number_integer() && y.is_number_integer()
                          ? std::llabs(x.get<std::int64_t>() - y.get<std::int64_t>()) <= offset_wobble
                          : x == y;
    if (!same) return std::string("\"") + member + "\" is " + y.dump() + " in pieces, " + x.dump() + " in one piece";
  }
  return "";
}

std::string describe(std::vector<std::string_view> const& pieces)
{
  std::string out = std::to_string(pieces.size()) + " pieces of";
  for (auto const& p : pieces) out += " " + std::to_string(p.size());
  return out;
}

} // namespace

TEST_CASE("fuzzed bodies: every answer is a 2xx or 4xx with a JSON object, the same in pieces, and nothing throws", "[AC7]")
{
  auto const seed = seed_from_environment();
  generator gen(seed);
  task10::widget_api api;    // each body in one piece: handle(request)
  task10::widget_api split;  // the same bodies in pieces: body_decoder
  // Both see the same requests in the same order, so they store the same
  // widgets under the same ids and must answer alike.

  std::map<unsigned, int> by_status;
  std::vector<std::string> failures;
  int cases = 0;
  auto const start = std::chrono::steady_clock::now();
  for (; cases < cases_wanted; ++cases) {
    task10::request req;
    req.version(11);
    std::string how;
    if (gen.chance(10)) {
      req.method(boost::beast::http::verb::get);
      req.target(gen.target());
      how = "GET " + std::string(req.target());
    } else {
      req.method(boost::beast::http::verb::post);
      req.target("/widgets");
      auto [body, made] = gen.body();
      req.body() = std::move(body);
      how = "POST /widgets, " + made + " body: " + printable(req.body());
    }
    req.set(boost::beast::http::field::content_type, "application/json");
    req.prepare_payload();
    auto const pieces = gen.pieces(req.body());

    std::string problem;
    try {
      auto const res = api.handle(req);
      ++by_status[res.result_int()];
      task10::body_decoder body;
      for (auto const& piece : pieces)
        if (!body.write(piece)) break;  // as a server stops reading
      auto const in_pieces = split.handle(req.base(), body);
      problem = answer_problem(res);
      if (problem.empty()) {
        problem = answer_problem(in_pieces);
        if (problem.empty()) problem = split_problem(res, in_pieces);
        if (!problem.empty()) problem = "in " + describe(pieces) + ": " + problem;
      }
    } catch (std::exception const& e) {
      problem = std::string("threw: ") + e.what();
    } catch (...) {
      problem = "threw something that is not a std::exception";
    }
    if (!problem.empty()) {
      failures.push_back("case " + std::to_string(cases) + ", " + how + "\n      -> " + problem);
      if (failures.size() >= 5) {
        ++cases;
        break;
      }
    }
  }
  auto const ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);

  std::ostringstream summary;
  summary << "fuzz: seed " << seed << " (0x" << std::hex << seed << std::dec << "), " << cases << " of "
          << cases_wanted << " cases in " << ms.count() << " ms; answers:";
  for (auto const& [status, count] : by_status) summary << " " << status << " x" << count;
  WARN(summary.str());

  INFO(summary.str());
  std::string listed;
  for (auto const& f : failures) listed += "  " + f + "\n";
  INFO("the first failing cases:\n" << listed);
  CHECK(failures.empty());
}
