// Does not compile: the verdict is the compiler's first error, never a crash.
#include <catch2/catch.hpp>

TEST_CASE("never built", "[AC1]")
{
  int x = "not an int";
  CHECK(x == 0);
}
