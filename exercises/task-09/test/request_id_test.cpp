// Task 09 · acceptance tests for the ID itself: made when missing [AC1],
// kept when acceptable [AC2], replaced when not [AC3]. The handler behind
// your request_id() is the test's own: it answers with what it saw, the ID
// in its context and the X-Request-ID fields of the request it was given.
#include "fixtures.hpp"

#include <workbook/test_client.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <set>

using namespace task09_test;

namespace {

// The body reporting() answers with for a request whose ID is `id`.
std::string saw(std::string const& id) { return "ctx=" + id + " header=" + id; }

// CR and LF made visible, for failure messages.
std::string escaped(std::string_view s)
{
  std::string out;
  for (char c : s) out += c == '\r' ? std::string("\\r") : c == '\n' ? std::string("\\n") : std::string(1, c);
  return out;
}

// IDs a client may send and have kept: the allowed characters only, 1 to 64 of them.
std::vector<std::string> const acceptable_ids = {
    "abc-123",
    "x",
    "A.b_c-9",
    "123e4567-e89b-12d3-a456-426614174000",   // a UUID
    "0123456789abcdef0123456789ABCDEF",        // upper case kept as sent
    "order_2024.11.05-frontend-7",
    std::string(64, 'k'),                      // the longest allowed
};

// IDs that must never be kept: too long, or any character outside [A-Za-z0-9._-].
std::vector<std::string> const unacceptable_over_http = {
    std::string(65, 'k'),                      // one too long
    std::string(200, 'a'),
    "abc def",
    "<script>alert(1)</script>",
    "a;b=c",
    "a,b",
    "tab\there",
    "\"quoted\"",
    "id/../../etc/passwd",
    "caf\xc3\xa9",                             // UTF-8: not ASCII
    "100%",
};

} // namespace

// ---------------------------------------------------------------- AC1

TEST_CASE("a request without X-Request-ID gets a new ID: the injected source's 16 bytes in lowercase hex", "[AC1]")
{
  counting_random random;
  served s(task09::request_id(random.source())(reporting()));
  workbook::test_client client(s.port());

  // The source hands out 0x00, 0x01, ... in order: the n-th ID is predictable.
  // The eleventh (bytes 0xa0 ... 0xaf) shows the letters' case.
  for (std::size_t n = 0; n < 11; ++n) {
    INFO("request " << n);
    auto const res = client.get("/");
    auto const echoed = res.header("X-Request-ID").value_or("(no X-Request-ID)");
    CHECK(res.status == 200);
    CHECK(echoed == counting_random::nth_id(n));
    CHECK(res.body == saw(counting_random::nth_id(n)));
    if (echoed != counting_random::nth_id(n) || res.body != saw(counting_random::nth_id(n))) break;  // one is enough
  }
  CHECK(counting_random::nth_id(10) == "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");  // the yardstick itself
  CHECK(random.bytes_given() == 11 * 16);
}

TEST_CASE("an empty X-Request-ID counts as missing", "[AC1]")
{
  counting_random random;
  served s(task09::request_id(random.source())(reporting()));
  workbook::test_client client(s.port());

  auto const res = client.send(get("/", with_id("")));
  CHECK(res.status == 200);
  CHECK(res.header("X-Request-ID").value_or("(no X-Request-ID)") == counting_random::nth_id(0));
  CHECK(res.body == saw(counting_random::nth_id(0)));
}

TEST_CASE("new_request_id draws 16 bytes once and renders them first byte first, in lowercase hex", "[AC1]")
{
  std::vector<std::size_t> asked;
  task09::random_source const fixed = [&asked](std::span<unsigned char> out) {
    asked.push_back(out.size());
    static constexpr std::array<unsigned char, 16> bytes{0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x0a, 0x10,
                                                         0x7f, 0x80, 0xc3, 0xa9, 0xff, 0xfe, 0x42, 0x09};
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = bytes[i % bytes.size()];
  };
  CHECK(task09::new_request_id(fixed) == "deadbeef00010a107f80c3a9fffe4209");
  CHECK(asked == std::vector<std::size_t>{16});
}

TEST_CASE("os_random reads a real random source: every byte filled, different every time", "[AC1]")
{
  std::vector<unsigned char> big(100000, 0);
  task09::os_random(big);
  // Zeroed before: a source that fills only part of the buffer leaves a run of zeros.
  auto const zeros_at_end = std::count(big.end() - 256, big.end(), 0);
  CHECK(zeros_at_end < 16);

  // Each of the 8 bit positions set in about half the bytes (a fixed or
  // counting source is far off; a real one is within a few percent).
  std::array<int, 8> set{};
  for (unsigned char b : big)
    for (int bit = 0; bit < 8; ++bit) set[static_cast<std::size_t>(bit)] += (b >> bit) & 1;
  for (int bit = 0; bit < 8; ++bit) {
    INFO("bit " << bit << " set in " << set[static_cast<std::size_t>(bit)] << " of " << big.size() << " bytes");
    CHECK(set[static_cast<std::size_t>(bit)] > 45000);
    CHECK(set[static_cast<std::size_t>(bit)] < 55000);
  }

  std::array<unsigned char, 16> a{}, b{};
  task09::os_random(a);
  task09::os_random(b);
  CHECK(a != b);
}

TEST_CASE("with the default source, every request gets an ID of its own", "[AC1]")
{
  journal j;
  auto const h = task09::request_id()(reporting());
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto req = direct("/");
    auto const out = call(h, req, j);
    REQUIRE(out.response);
    auto const it = out.response->find("X-Request-ID");
    std::string const id = it == out.response->end() ? "(no X-Request-ID)" : std::string(it->value());
    INFO("request " << i << ": X-Request-ID " << id);
    REQUIRE(is_lower_hex_id(id));
    seen.insert(id);
  }
  CHECK(seen.size() == 1000);
}

// ---------------------------------------------------------------- AC2

TEST_CASE("an acceptable X-Request-ID is kept byte for byte: echoed, in the context, on the request", "[AC2]")
{
  counting_random random;
  served s(task09::request_id(random.source())(reporting()));
  workbook::test_client client(s.port());

  for (auto const& id : acceptable_ids) {
    INFO("X-Request-ID: " << id);
    auto const res = client.send(get("/", with_id(id)));
    auto const echoed = res.header("X-Request-ID").value_or("(no X-Request-ID)");
    CHECK(res.status == 200);
    CHECK(echoed == id);
    CHECK(res.body == saw(id));
    if (echoed != id || res.body != saw(id)) break;  // one is enough
  }
  CHECK(random.calls() == 0);  // nothing was generated
}

TEST_CASE("acceptable_request_id takes 1 to 64 of A-Z a-z 0-9 . _ -", "[AC2]")
{
  for (auto const& id : acceptable_ids) {
    INFO("id: " << id);
    CHECK(task09::acceptable_request_id(id));
  }
  CHECK(task09::acceptable_request_id("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._"));
  // ... and no more than 64, and not none.
  CHECK_FALSE(task09::acceptable_request_id(std::string(65, 'k')));
  CHECK_FALSE(task09::acceptable_request_id(""));
}

// ---------------------------------------------------------------- AC3

TEST_CASE("an unacceptable X-Request-ID is replaced by a new one and never echoed", "[AC3]")
{
  counting_random random;
  served s(task09::request_id(random.source())(reporting()));
  workbook::test_client client(s.port());

  std::size_t n = 0;
  for (auto const& id : unacceptable_over_http) {
    INFO("X-Request-ID: " << id);
    auto const res = client.send(get("/", with_id(id)));
    auto const fresh = counting_random::nth_id(n++);
    auto const echoed = res.header("X-Request-ID").value_or("(no X-Request-ID)");
    CHECK(res.status == 200);
    CHECK(echoed == fresh);
    // The handler saw only the new ID, in its context and on the request.
    CHECK(res.body == saw(fresh));
    if (echoed != fresh || res.body != saw(fresh)) break;  // one is enough
  }
  CHECK(random.bytes_given() == 16 * unacceptable_over_http.size());
}

TEST_CASE("CR and LF in X-Request-ID are never echoed: no header can be smuggled into the response", "[AC3]")
{
  counting_random random;
  journal j;
  auto const h = task09::request_id(random.source())(reporting());
  std::size_t n = 0;
  for (std::string id : {"abc\r\nX-Injected: yes", "abc\nSet-Cookie: session=stolen", "abc\r", "\r\n\r\n<html>"}) {
    INFO("X-Request-ID: " << escaped(id));
    auto req = direct("/", with_id(id));
    auto const out = call(h, req, j);
    REQUIRE(out.response);
    auto const fresh = counting_random::nth_id(n++);
    auto const it = out.response->find("X-Request-ID");
    CHECK((it != out.response->end() && it->value() == fresh));
    CHECK(out.response->find("X-Injected") == out.response->end());
    CHECK(out.response->find("Set-Cookie") == out.response->end());
    CHECK(out.response->body() == saw(fresh));
  }
}

TEST_CASE("a request passes inward with exactly one X-Request-ID, even when the client sent several", "[AC3]")
{
  counting_random random;
  journal j;
  auto const h = task09::request_id(random.source())(reporting());

  auto req = direct("/", {{"X-Request-ID", "first-one"}, {"X-Request-ID", "second one; evil"}});
  auto const out = call(h, req, j);
  REQUIRE(out.response);
  auto const it = out.response->find("X-Request-ID");
  REQUIRE(it != out.response->end());
  std::string const id(it->value());
  INFO("the response's X-Request-ID: " << id);
  CHECK(task09::acceptable_request_id(id));
  // "header=" lists every X-Request-ID field the handler found: one, the ID.
  CHECK(out.response->body() == saw(id));
  CHECK(out.response->count("X-Request-ID") == 1);
}

TEST_CASE("acceptable_request_id refuses the empty, the long and anything outside the allowed characters", "[AC3]")
{
  for (auto const& id : unacceptable_over_http) {
    INFO("id: " << id);
    CHECK_FALSE(task09::acceptable_request_id(id));
  }
  for (std::string id : {std::string(), std::string("abc\r\nX: y"), std::string("a\nb"), std::string("nul\0byte", 8),
                         std::string("\x7f"), std::string("a+b"), std::string("a:b"), std::string("a@b"), std::string("a=b")}) {
    INFO("id: " << escaped(id) << " (" << id.size() << " bytes)");
    CHECK_FALSE(task09::acceptable_request_id(id));
  }
  // The refusals mean something only if the allowed still passes.
  CHECK(task09::acceptable_request_id("abc-123"));
  CHECK(task09::acceptable_request_id(std::string(64, 'k')));
}
