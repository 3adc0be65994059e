// 10 MB on stdout: the grader keeps it in the log, not in memory, and the
// verdict still names the failure.
#include <catch2/catch.hpp>

#include <iostream>
#include <string>

TEST_CASE("prints 10 MB, then fails", "[AC1]")
{
  std::string const line(99, 'x');
  for (int i = 0; i < 100'000; ++i) std::cout << line << '\n';
  std::cout << "the last line" << std::endl;
  CHECK(1 == 2);
}

TEST_CASE("passes", "[AC2]") { CHECK(true); }
