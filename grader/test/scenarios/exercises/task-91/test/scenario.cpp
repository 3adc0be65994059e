// Passes AC1 (beside a test of AC1 that cannot run here), fails AC2 with an
// HTTP exchange on record, leaves AC3 untested and carries a test tagged
// with no criterion of the README.
#include <workbook/test_client.hpp>
#include <workbook/test_server.hpp>

#include <workbook/skip.hpp>

#include <catch2/catch.hpp>

TEST_CASE("arithmetic holds", "[AC1]") { CHECK(1 + 1 == 2); }

TEST_CASE("needs a program this machine lacks", "[AC1]")
{
  if (!workbook::installed("workbook-no-such-peer")) WORKBOOK_SKIP("workbook-no-such-peer is not installed");
  FAIL("a program that cannot be installed was found");
}

TEST_CASE("the server answers 200", "[AC2]")
{
  auto server = workbook::test_server::serving([](workbook::request const&) {
    workbook::response r;
    r.status = 404;
    r.body = "not here\n";
    return r;
  });
  workbook::test_client client(server.port());
  auto const r = client.get("/");
  CHECK(r.status == 200);
}

TEST_CASE("a test with no criterion", "[misc]") { CHECK(true); }
