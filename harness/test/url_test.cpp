#include <workbook/url.hpp>

#include <catch2/catch.hpp>

namespace errc = boost::system::errc;

TEST_CASE("http URLs with an IP literal are parsed into what a client needs", "[url]")
{
  workbook::http_url u;
  REQUIRE_FALSE(workbook::parse_http_url("http://127.0.0.1:8080/now?x=1", u));
  CHECK(u.endpoint.port() == 8080);
  CHECK(u.endpoint.address().to_string() == "127.0.0.1");
  CHECK(u.host == "127.0.0.1:8080");
  CHECK(u.target == "/now?x=1");

  REQUIRE_FALSE(workbook::parse_http_url("HTTP://[::1]", u));
  CHECK(u.endpoint.port() == 80);
  CHECK(u.host == "[::1]:80");
  CHECK(u.target == "/");
}

TEST_CASE("URLs a test client cannot use are refused with a reason", "[url]")
{
  workbook::http_url u;
  CHECK(workbook::parse_http_url("https://127.0.0.1/", u) == errc::protocol_not_supported);
  for (auto bad : {"http://localhost:80/", "http://127.0.0.1:0/", "http://127.0.0.1:/", "http://127.0.0.1:99999/",
                   "not a url", "http:///x"}) {
    INFO(bad);
    CHECK(workbook::parse_http_url(bad, u) == errc::invalid_argument);
  }
}
