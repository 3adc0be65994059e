// The server side of HTTP/1.1 over TLS, compiled once: read one request,
// write one response, on an ssl::stream that is already handshaken. The
// twin of tls_exchange.hpp, for the same reason: http::async_read and
// http::async_write over an ssl::stream are the costliest templates a TLS
// task instantiates, and they are not what the task is about. The
// handshake, the deadlines and the shutdown stay in the task's own code.
//
//   workbook::tls::request_parser parser;
//   parser.body_limit(options.max_body);
//   co_await workbook::tls::async_read_request(stream, buffer, parser, asio::use_awaitable);
//   auto request = parser.release();
//   ...
//   co_await workbook::tls::async_write_response(stream, response, asio::use_awaitable);
//
// Like the calls they make: the stream, buffer, parser and response must
// outlive the operation; the handler gets the error and the bytes moved; a
// cancellation through the token's slot reaches the pending call; the
// stream's deadline (beast::tcp_stream::expires_after) applies.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <utility>

namespace workbook::tls {

using server_stream = boost::asio::ssl::stream<boost::beast::tcp_stream>;
using request_parser = boost::beast::http::request_parser<boost::beast::http::string_body>;
using response_message = boost::beast::http::response<boost::beast::http::string_body>;
using transfer_signature = void(boost::system::error_code, std::size_t);
using transfer_handler = boost::asio::any_completion_handler<transfer_signature>;

// The compiled parts. Each runs its steps on `handler_executor`, the
// executor the caller's handler is bound to (a connection's strand, say).
void start_read_request(server_stream& s, boost::beast::flat_buffer& buffer, request_parser& parser,
                        boost::asio::any_io_executor handler_executor, transfer_handler handler);
void start_write_response(server_stream& s, response_message& response,
                          boost::asio::any_io_executor handler_executor, transfer_handler handler);

// Any completion token: a callback, asio::use_awaitable, asio::use_future.
template <class CompletionToken>
auto async_read_request(server_stream& s, boost::beast::flat_buffer& buffer, request_parser& parser,
                        CompletionToken&& token)
{
  return boost::asio::async_initiate<CompletionToken, transfer_signature>(
      [&s, &buffer, &parser](auto handler) {
        boost::asio::any_io_executor executor = boost::asio::get_associated_executor(handler, s.get_executor());
        start_read_request(s, buffer, parser, std::move(executor), transfer_handler(std::move(handler)));
      },
      token);
}

template <class CompletionToken>
auto async_write_response(server_stream& s, response_message& response, CompletionToken&& token)
{
  return boost::asio::async_initiate<CompletionToken, transfer_signature>(
      [&s, &response](auto handler) {
        boost::asio::any_io_executor executor = boost::asio::get_associated_executor(handler, s.get_executor());
        start_write_response(s, response, std::move(executor), transfer_handler(std::move(handler)));
      },
      token);
}

} // namespace workbook::tls
