// A segmentation fault in one test and abort() in another; the tests after
// them must still run (in a fresh process) and pass.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <iostream>

namespace {
int* volatile nowhere = nullptr;
}

TEST_CASE("passes before the crash", "[AC1]") { CHECK(true); }

TEST_CASE("dereferences a null pointer", "[AC1]")
{
  std::cout << "about to read through a null pointer" << std::endl;
  CHECK(*nowhere == 0);
}

TEST_CASE("calls abort", "[AC2]")
{
  std::cout << "about to abort" << std::endl;
  std::abort();
}

TEST_CASE("runs after the crashes", "[AC3]") { CHECK(true); }
