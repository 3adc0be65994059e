// Three tests of AC1 that never return. The first is killed at its limit;
// the other two are skipped (one time-out answers for the criterion), so the
// verdict comes after one limit, not three. AC2 still runs and passes.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>

namespace {
void never_return()
{
  std::mutex m;
  std::condition_variable cv;
  std::unique_lock lock(m);
  cv.wait(lock, [] { return false; });
}
} // namespace

TEST_CASE("hangs first", "[AC1]") { never_return(); }
TEST_CASE("would hang second", "[AC1]") { never_return(); }
TEST_CASE("would hang third", "[AC1]") { never_return(); }
TEST_CASE("passes after the hang", "[AC2]") { CHECK(true); }
