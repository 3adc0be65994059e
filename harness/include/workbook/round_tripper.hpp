// The workbook's client interface: one HTTP exchange, request in, response
// out, behind a virtual call, so that a circuit breaker (task 18), a retrier
// (task 19), a per-tenant TLS pool (task 20) and the stretch challenges
// compose around any transport, each other included. Go calls this an
// http.RoundTripper; here it is an Asio asynchronous operation, so that a
// caller picks how to wait (a callback, a coroutine with use_awaitable, a
// future with use_future) and cancels through the handler's cancellation
// slot, as with any Asio operation.
//
// The shape is Asio's own type-erasure idiom (see the "type_erasure" example
// and asio/any_completion_handler.hpp): a template front end that takes any
// completion token, and a virtual back end that takes the handler erased.
// any_completion_handler keeps the handler's associated executor, allocator
// and cancellation slot, so cancelling the caller reaches the implementation.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>

namespace workbook {

using client_response = boost::beast::http::response<boost::beast::http::string_body>;

// What a transport can tell about the connection that carried an exchange
// (Go's httptrace.GotConnInfo).
struct connection_info {
  bool reused = false;  // taken from the idle keep-alive connections, not opened for this request
  boost::asio::ip::tcp::endpoint remote;
};

// Hooks a caller hangs on one request to watch what the transport does with
// it (Go's httptrace.ClientTrace). A transport that can tell calls each hook
// it has something for; one that cannot, never: callers must not count on
// them. Called on the exchange's thread, before the round trip completes.
struct client_trace {
  // Once per exchange that got a response: the connection that carried it.
  std::function<void(connection_info const&)> on_connection;
};

struct client_request {
  // What goes on the wire: method, target (origin-form, "/path?query"),
  // fields, and the body for the first attempt.
  boost::beast::http::request<boost::beast::http::string_body> message;
  // Makes the body again, for a second attempt (Go's Request.GetBody). A
  // round tripper consumes the message it is given, body included, so a
  // wrapper that may send a request twice needs this whenever the body is
  // not empty; without it, such a request can be sent only once.
  std::function<std::string()> body_factory;
  // Null unless the caller watches this request. A wrapper that sends
  // attempts of its own decides whether they carry it.
  std::shared_ptr<client_trace const> trace = nullptr;
};

using round_trip_signature = void(boost::system::error_code, client_response);
using round_trip_handler = boost::asio::any_completion_handler<round_trip_signature>;

class round_tripper {
public:
  virtual ~round_tripper() = default;

  // Sends `request` and reads the whole response. Completes with an error
  // for a transport failure (no response, or an incomplete one), and with
  // success for any complete response, whatever its status: a 500 is an
  // answer, not a transport error. Cancelling through the handler's slot
  // aborts the exchange (operation_aborted).
  template <class CompletionToken>
  auto async_round_trip(client_request request, CompletionToken&& token)
  {
    return boost::asio::async_initiate<CompletionToken, round_trip_signature>(
        [this](auto handler, client_request r) { do_round_trip(std::move(r), round_trip_handler(std::move(handler))); },
        token, std::move(request));
  }

protected:
  virtual void do_round_trip(client_request request, round_trip_handler handler) = 0;
};

// A plain HTTP/1.1 transport to one upstream: keeps up to `max_idle` idle
// keep-alive connections and reuses them, opens one per request otherwise,
// bounds each exchange with `timeout`. Safe to call from any thread; the
// exchanges run on `executor`, each on a strand of its own. What the tests
// of tasks 18-20 wrap. Reports each exchange's connection to the request's
// client_trace.
class plain_transport : public round_tripper {
public:
  struct options {
    std::size_t max_idle = 4;
    std::chrono::milliseconds timeout = std::chrono::seconds(5);
  };
  plain_transport(boost::asio::any_io_executor executor, boost::asio::ip::tcp::endpoint upstream);
  plain_transport(boost::asio::any_io_executor executor, boost::asio::ip::tcp::endpoint upstream, options o);
  ~plain_transport() override;

  std::size_t connections_opened() const;
  std::size_t idle_connections() const;

  struct impl;

protected:
  void do_round_trip(client_request request, round_trip_handler handler) override;

private:
  std::shared_ptr<impl> impl_;  // shared with the exchanges still running
};

} // namespace workbook
