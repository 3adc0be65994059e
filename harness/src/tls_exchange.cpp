// workbook::tls::async_exchange: Beast's write and read, chained, and
// instantiated for one handler type only, the type-erased one.
#include <workbook/tls_exchange.hpp>

#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <memory>

namespace workbook::tls {

namespace http = boost::beast::http;
using boost::system::error_code;

namespace {

// What the exchange carries from the write to the read: the caller's
// handler and the response being read.
struct exchange {
  stream& s;
  boost::beast::flat_buffer& buffer;
  exchange_handler handler;
  boost::asio::any_io_executor executor;
  std::unique_ptr<client_response> response = std::make_unique<client_response>();
};

// The handler of one step. Its executor is the one the caller's handler is
// bound to (a coroutine's strand, say), so Beast runs the step's parts
// there, as it would have for the caller's own handler; its cancellation
// slot is the caller's. (Not asio::async_compose: in Boost 1.81 the
// type-erased handler's executor cannot be required to be blocking.never,
// which Beast's operations ask of it, so the executor travels as an
// any_io_executor.)
struct step {
  exchange x;
  using executor_type = boost::asio::any_io_executor;
  executor_type get_executor() const noexcept { return x.executor; }
  using cancellation_slot_type = boost::asio::cancellation_slot;
  cancellation_slot_type get_cancellation_slot() const noexcept { return x.handler.get_cancellation_slot(); }
};

struct after_read : step {
  void operator()(error_code ec, std::size_t)
  {
    if (ec) return std::move(x.handler)(ec, client_response{});
    std::move(x.handler)(error_code{}, std::move(*x.response));
  }
};

struct after_write : step {
  void operator()(error_code ec, std::size_t)
  {
    if (ec) return std::move(x.handler)(ec, client_response{});
    auto& target = *x.response;
    http::async_read(x.s, x.buffer, target, after_read{{std::move(x)}});
  }
};

} // namespace

void start_exchange(stream& s, boost::beast::flat_buffer& buffer, request_message& message,
                    boost::asio::any_io_executor handler_executor, exchange_handler handler)
{
  http::async_write(s, message, after_write{{{s, buffer, std::move(handler), std::move(handler_executor)}}});
}

} // namespace workbook::tls
