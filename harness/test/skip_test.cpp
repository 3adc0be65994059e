// workbook/skip.hpp: finding a program as a shell would, and the reason a
// skipped case leaves for the harness main.
#include <workbook/skip.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

TEST_CASE("skip: find_program() searches PATH like a shell, and the sbin directories", "[skip]")
{
  CHECK(workbook::installed("sh"));
  auto const sh = workbook::find_program("sh");
  REQUIRE(sh);
  CHECK(sh->ends_with("/sh"));
  CHECK(workbook::find_program("/bin/sh") == "/bin/sh");
  CHECK(workbook::installed("/bin/sh"));
  CHECK_FALSE(workbook::installed("workbook-no-such-program"));
  CHECK_FALSE(workbook::installed("/nonexistent/sh"));
  CHECK_FALSE(workbook::installed(""));
}

TEST_CASE("skip: a server in /usr/sbin is found with a PATH that lacks it", "[skip]")
{
  // ldconfig (libc-bin, in every Debian) lives in /usr/sbin.
  std::string const saved = std::getenv("PATH") ? std::getenv("PATH") : "";
  ::setenv("PATH", "/nonexistent", 1);
  auto const found = workbook::find_program("ldconfig");
  ::setenv("PATH", saved.c_str(), 1);
  REQUIRE(found);
  CHECK(found->ends_with("sbin/ldconfig"));
}

TEST_CASE("skip: the reason is taken once", "[skip]")
{
  workbook::skip_case("nghttpd is not installed");
  CHECK(workbook::detail::take_skip_reason() == "nghttpd is not installed");
  CHECK(workbook::detail::take_skip_reason().empty());
}
