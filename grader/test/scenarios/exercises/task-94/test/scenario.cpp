// std::exit(0) in the middle of a test ends the binary with "success": the
// grader must still see that the test never finished. And `throw 42` is
// legal C++: Catch2 reports it as an unexpected exception.
#include <catch2/catch.hpp>

#include <cstdlib>

TEST_CASE("calls std::exit(0)", "[AC1]") { std::exit(0); }

TEST_CASE("throws 42", "[AC2]") { throw 42; }

TEST_CASE("passes", "[AC3]") { CHECK(true); }
