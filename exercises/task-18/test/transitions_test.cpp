// Task 18 · acceptance tests for on_state_change [AC7]: one call per
// transition, in order, with the states left and entered, state() already
// saying the new one; and no call when nothing changes.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

using namespace task18_test;

namespace {

std::string entries_text(transitions const& log)
{
  std::string out;
  for (auto const& e : log.entries()) {
    if (!out.empty()) out += ", ";
    out += std::string(task18::to_string(e.from)) + "→" + task18::to_string(e.to) + " (state() said " +
           (e.state_inside ? task18::to_string(*e.state_inside) : "?") + ")";
  }
  return out.empty() ? "(none)" : out;
}

} // namespace

TEST_CASE("every transition is reported once, in order, with from and to", "[AC7]")
{
  using S = breaker_state;
  rig r;
  std::vector<std::pair<S, S>> expected;
  auto check = [&](std::string const& what) {
    INFO(what << "\nexpected: " << sequence_text(expected) << "\nreported: " << entries_text(r.log));
    auto const entries = r.log.entries();
    REQUIRE(entries.size() == expected.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
      CHECK(entries[i].from == expected[i].first);
      CHECK(entries[i].to == expected[i].second);
      CHECK(entries[i].state_inside == expected[i].second);  // state() inside the callback says `to`
    }
  };

  REQUIRE(r.open_it());
  expected.push_back({S::closed, S::open});
  check("five failures");

  r.clock.advance(30s);
  auto probe = r.start("/hold");
  REQUIRE(r.until_held(1));
  expected.push_back({S::open, S::half_open});
  check("the period is over and a call arrives: it is the probe");

  r.upstream.release_all(200);
  REQUIRE(probe.wait().completed);
  expected.push_back({S::half_open, S::closed});
  check("the probe succeeds");

  REQUIRE(r.open_it());
  expected.push_back({S::closed, S::open});
  r.clock.advance(30s);
  r.must_answer("/status/502");
  expected.push_back({S::open, S::half_open});
  expected.push_back({S::half_open, S::open});
  check("five failures again, then a probe that fails");

  r.clock.advance(30s);
  r.must_answer("/refused");
  expected.push_back({S::open, S::half_open});
  expected.push_back({S::half_open, S::open});
  r.clock.advance(30s);
  r.must_answer("/status/204");
  expected.push_back({S::open, S::half_open});
  expected.push_back({S::half_open, S::closed});
  check("a probe that fails with a transport error, then one that succeeds");
}

TEST_CASE("no transition, no callback", "[AC7]")
{
  rig r;
  // Successes, 4xx and fewer failures than the threshold change nothing.
  for (auto target : {"/status/200", "/status/500", "/status/404", "/status/200", "/status/500", "/status/500",
                      "/status/500", "/status/500"})
    r.must_answer(target);
  INFO("200, 500, 404, 200 and four 500s: reported " << entries_text(r.log));
  CHECK(r.log.size() == 0);
  CHECK(r.breaker.state() == breaker_state::closed);

  // The failure that opens it: one call. Refusals while open: none.
  r.must_answer("/status/500");
  for (int i = 0; i < 5; ++i) r.must_answer("/status/200");
  INFO("then the fifth failure and five refused calls: reported " << entries_text(r.log));
  CHECK(r.log.text() == "closed→open");

  // A probe answered 4xx: the breaker stays half-open, and says nothing more.
  r.clock.advance(30s);
  r.must_answer("/status/429");
  r.must_answer("/status/404");
  INFO("two probes answered 429 and 404: reported " << entries_text(r.log));
  CHECK(r.log.text() == "closed→open, open→half_open");
  CHECK(r.breaker.state() == breaker_state::half_open);
}
