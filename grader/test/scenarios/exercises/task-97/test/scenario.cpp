// A bonus criterion is graded like any other, but the task's pass does not
// depend on it: AC1 passes, the bonus AC2 fails, the bonus AC3 passes.
#include <catch2/catch.hpp>

TEST_CASE("the required criterion holds", "[AC1]") { CHECK(1 + 1 == 2); }

TEST_CASE("the bonus is not met", "[AC2]") { CHECK(1 + 1 == 3); }

TEST_CASE("the other bonus is met", "[AC3]") { CHECK(2 * 2 == 4); }
