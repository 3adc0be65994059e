#include <workbook/ports.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <future>

namespace net = boost::asio;
using tcp = net::ip::tcp;

TEST_CASE("a refusing port refuses at once", "[ports]")
{
  workbook::refusing_port p;
  REQUIRE(p.port() != 0);
  net::io_context ioc;
  tcp::socket s(ioc);
  boost::system::error_code ec;
  s.connect({net::ip::make_address("127.0.0.1"), p.port()}, ec);
  CHECK(ec == net::error::connection_refused);
}

TEST_CASE("an unanswered port leaves a connect hanging until it is closed", "[ports]")
{
  workbook::unanswered_port p;
  REQUIRE(p.port() != 0);
  if (!p.unanswered()) {
    WARN("this kernel answered every connection attempt: nothing to check here");
    return;
  }
  net::io_context ioc;
  tcp::socket s(ioc);
  bool done = false;
  s.async_connect({net::ip::make_address("127.0.0.1"), p.port()}, [&](boost::system::error_code) { done = true; });
  ioc.run_for(std::chrono::milliseconds(300));
  CHECK_FALSE(done);   // neither connected nor refused
}
