// workbook::tls::async_read_request and async_write_response: Beast's read
// and write over an ssl::stream, instantiated for one handler type only,
// the type-erased one.
#include <workbook/tls_serve.hpp>

#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace workbook::tls {

namespace http = boost::beast::http;

namespace {

// The caller's handler, run on the executor it is bound to and cancelled
// through its own slot. (Not the type-erased handler itself: in Boost 1.81
// its executor cannot be required to be blocking.never, which Beast's
// operations ask of it; tls_exchange.cpp says the same.)
struct forward {
  transfer_handler handler;
  boost::asio::any_io_executor executor;

  using executor_type = boost::asio::any_io_executor;
  executor_type get_executor() const noexcept { return executor; }
  using cancellation_slot_type = boost::asio::cancellation_slot;
  cancellation_slot_type get_cancellation_slot() const noexcept { return handler.get_cancellation_slot(); }

  void operator()(boost::system::error_code ec, std::size_t bytes) { std::move(handler)(ec, bytes); }
};

} // namespace

void start_read_request(server_stream& s, boost::beast::flat_buffer& buffer, request_parser& parser,
                        boost::asio::any_io_executor handler_executor, transfer_handler handler)
{
  http::async_read(s, buffer, parser, forward{std::move(handler), std::move(handler_executor)});
}

void start_write_response(server_stream& s, response_message& response,
                          boost::asio::any_io_executor handler_executor, transfer_handler handler)
{
  http::async_write(s, response, forward{std::move(handler), std::move(handler_executor)});
}

} // namespace workbook::tls
