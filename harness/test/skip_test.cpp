// workbook/skip.hpp: finding a program as a shell would, and the reason a
// skipped case leaves for the harness main.
#include <workbook/skip.hpp>

#include <catch2/catch.hpp>

TEST_CASE("skip: installed() searches PATH like a shell", "[skip]")
{
  CHECK(workbook::installed("sh"));
  CHECK(workbook::installed("/bin/sh"));
  CHECK_FALSE(workbook::installed("workbook-no-such-program"));
  CHECK_FALSE(workbook::installed("/nonexistent/sh"));
  CHECK_FALSE(workbook::installed(""));
}

TEST_CASE("skip: the reason is taken once", "[skip]")
{
  workbook::skip_case("nghttpd is not installed");
  CHECK(workbook::detail::take_skip_reason() == "nghttpd is not installed");
  CHECK(workbook::detail::take_skip_reason().empty());
}
