// workbook/round_tripper.hpp: plain_transport is what tasks 18-20 wrap, so
// what they assert about the upstream rests on it reusing connections,
// reporting a 5xx as an answer and a refused connection as an error, and
// giving up at once when its caller cancels.
#include <workbook/io_threads.hpp>
#include <workbook/round_tripper.hpp>
#include <workbook/test_server.hpp>
#include <workbook/upstreams.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/use_future.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <tuple>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace std::chrono_literals;
using boost::system::error_code;

namespace {

asio::ip::tcp::endpoint local(unsigned short port) { return {asio::ip::make_address("127.0.0.1"), port}; }

workbook::client_request get(std::string target)
{
  workbook::client_request r;
  r.message = {http::verb::get, target, 11};
  r.message.set(http::field::host, "127.0.0.1");
  return r;
}

std::tuple<error_code, workbook::client_response> trip(workbook::round_tripper& t, workbook::client_request r)
{
  auto f = t.async_round_trip(std::move(r), asio::use_future(
      [](error_code ec, workbook::client_response res) { return std::make_tuple(ec, std::move(res)); }));
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  return f.get();
}

} // namespace

TEST_CASE("round_tripper: a 500 is an answer and connections are reused", "[round_tripper]")
{
  auto upstream = workbook::test_server::serving([](workbook::request const& r) {
    return workbook::response{r.target == "/fail" ? 500 : 200, "", {}, "body of " + r.target, ""};
  });
  asio::io_context ioc;
  workbook::io_threads threads(ioc);
  workbook::plain_transport transport(ioc.get_executor(), local(upstream.port()));

  for (auto target : {"/a", "/fail", "/b"}) {
    auto [ec, res] = trip(transport, get(target));
    REQUIRE_FALSE(ec);
    CHECK(res.result_int() == (target == std::string("/fail") ? 500 : 200));
    CHECK(res.body() == std::string("body of ") + target);
  }
  CHECK(upstream.accepted() == 1);
  CHECK(upstream.requests() == 3);
  CHECK(transport.connections_opened() == 1);
  CHECK(transport.idle_connections() == 1);
}

TEST_CASE("round_tripper: a refused connection is an error", "[round_tripper]")
{
  auto upstream = workbook::test_server::serving([](workbook::request const&) { return workbook::response{200, "", {}, "", ""}; });
  auto const port = upstream.port();
  upstream.stop();
  asio::io_context ioc;
  workbook::io_threads threads(ioc);
  workbook::plain_transport transport(ioc.get_executor(), local(port));
  auto [ec, res] = trip(transport, get("/"));
  CHECK(ec == asio::error::connection_refused);
}

TEST_CASE("round_tripper: cancelling the caller aborts a pending exchange at once", "[round_tripper]")
{
  auto upstream = workbook::test_server::scripted(workbook::upstreams::silent());
  asio::io_context ioc;
  workbook::io_threads threads(ioc);
  workbook::plain_transport transport(ioc.get_executor(), local(upstream.port()));

  asio::cancellation_signal cancel;
  std::promise<error_code> done;
  transport.async_round_trip(get("/"), asio::bind_cancellation_slot(cancel.slot(), [&](error_code ec, auto) {
                               done.set_value(ec);
                             }));
  auto outcome = done.get_future();
  CHECK(outcome.wait_for(100ms) == std::future_status::timeout);  // the upstream never answers
  asio::post(ioc, [&] { cancel.emit(asio::cancellation_type::terminal); });
  REQUIRE(outcome.wait_for(2s) == std::future_status::ready);
  CHECK(outcome.get() == asio::error::operation_aborted);
}

TEST_CASE("round_tripper: an idle connection the upstream closed is replaced", "[round_tripper]")
{
  // Each connection answers one request and is then closed by the upstream
  // without a "Connection: close": the transport finds out on reuse.
  auto upstream = workbook::test_server::scripted([](workbook::peer& p) {
    if (p.read_request().empty()) return;
    p.write(workbook::http_response(200, "once"));
    p.close();
  });
  asio::io_context ioc;
  workbook::io_threads threads(ioc);
  workbook::plain_transport transport(ioc.get_executor(), local(upstream.port()));
  for (int i = 0; i < 3; ++i) {
    auto [ec, res] = trip(transport, get("/"));
    REQUIRE_FALSE(ec);
    CHECK(res.body() == "once");
  }
  CHECK(upstream.accepted() == 3);
}

TEST_CASE("round_tripper: a timeout is a timeout, on an io_context of several threads", "[round_tripper]")
{
  // The exchange runs on a strand: beast::tcp_stream's timer handler and the
  // I/O it cuts short must not run at once on two threads (a data race on
  // the stream's state, and the timeout reported as operation_aborted).
  auto upstream = workbook::test_server::scripted(workbook::upstreams::silent());
  asio::io_context ioc;
  workbook::io_threads threads(ioc, 2);
  workbook::plain_transport transport(ioc.get_executor(), local(upstream.port()), {4, 100ms});
  for (int i = 0; i < 5; ++i) {
    auto [ec, res] = trip(transport, get("/"));
    INFO("exchange " << i << ": " << ec.message());
    CHECK(ec == boost::beast::error::timeout);
  }
}
