// One HTTP/1.1 exchange over a TLS connection that is already connected and
// handshaken: the request written with http::async_write, the response read
// with http::async_read, nothing else. It is compiled once, here in the
// harness, because those two calls over an ssl::stream are the most
// expensive templates a task instantiates (about five of the eight seconds
// task 20's reference took to compile, on every edit), and
// they are not what a TLS task is about: the context, the SNI and the
// handshake stay in the task's own code.
//
//   ssl::stream<beast::tcp_stream> stream(executor, context);
//   ... connect, set SNI, co_await stream.async_handshake(...) ...
//   auto response = co_await workbook::tls::async_exchange(stream, buffer, message, asio::use_awaitable);
//
// Like the two calls it makes: `stream`, `buffer` and `message` must outlive
// the operation; it completes with the first error either call returns
// (the response is then empty); `buffer` keeps what was read past the
// response, for the next exchange on the same connection; a cancellation
// through the token's slot reaches whichever call is pending.
#pragma once

#include <workbook/round_tripper.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <utility>

namespace workbook::tls {

using stream = boost::asio::ssl::stream<boost::beast::tcp_stream>;
using request_message = boost::beast::http::request<boost::beast::http::string_body>;
using exchange_handler = boost::asio::any_completion_handler<round_trip_signature>;

// The compiled part: writes `message`, then reads the response into a
// client_response, completing `handler` with it; both operations run their
// steps on `handler_executor`, the executor the caller's handler is bound to.
void start_exchange(stream& s, boost::beast::flat_buffer& buffer, request_message& message,
                    boost::asio::any_io_executor handler_executor, exchange_handler handler);

// Any completion token: a callback, asio::use_awaitable, asio::use_future.
template <class CompletionToken>
auto async_exchange(stream& s, boost::beast::flat_buffer& buffer, request_message& message, CompletionToken&& token)
{
  return boost::asio::async_initiate<CompletionToken, round_trip_signature>(
      [&s, &buffer, &message](auto handler) {
        boost::asio::any_io_executor executor = boost::asio::get_associated_executor(handler, s.get_executor());
        start_exchange(s, buffer, message, std::move(executor), exchange_handler(std::move(handler)));
      },
      token);
}

} // namespace workbook::tls
