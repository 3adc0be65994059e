// plain_transport: one exchange is one coroutine, from taking a connection
// to giving it back, so the steps read in order. The coroutine runs on the
// transport's executor and completes the caller's handler on the handler's
// own executor, with the handler's cancellation slot wired into the
// coroutine: cancelling the caller cancels whichever operation is pending.
#include <workbook/round_tripper.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <mutex>
#include <optional>
#include <vector>

namespace workbook {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

namespace {

struct connection {
  beast::tcp_stream stream;
  beast::flat_buffer buffer;  // what the last read left over (nothing, for a well-behaved upstream)
};

// A failure that means "the idle connection had been closed by the upstream
// before we used it": the request never reached a live server, so sending
// it again on a fresh connection is safe (Go's transport does the same).
bool stale_connection(error_code ec)
{
  return ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::eof;
}

error_code code_of(std::exception_ptr e)
{
  try {
    std::rethrow_exception(e);
  } catch (boost::system::system_error const& failure) {
    return failure.code();
  } catch (...) {
    return asio::error::fault;
  }
}

} // namespace

struct plain_transport::impl {
  asio::any_io_executor executor;
  asio::ip::tcp::endpoint upstream;
  options opts;

  mutable std::mutex mutex;
  std::vector<connection> idle;
  std::size_t opened = 0;

  // An idle connection if there is one (reused = true), else a new, unconnected one.
  std::pair<connection, bool> take()
  {
    std::lock_guard lock(mutex);
    if (!idle.empty()) {
      connection c = std::move(idle.back());
      idle.pop_back();
      return {std::move(c), true};
    }
    ++opened;
    return {connection{beast::tcp_stream(executor), {}}, false};
  }

  void give_back(connection c)
  {
    std::lock_guard lock(mutex);
    if (idle.size() < opts.max_idle) idle.push_back(std::move(c));
  }
};

namespace {

asio::awaitable<client_response> exchange(std::shared_ptr<plain_transport::impl> self, client_request request)
{
  auto& message = request.message;
  message.prepare_payload();
  for (;;) {
    auto [conn, reused] = self->take();
    conn.stream.expires_after(self->opts.timeout);
    if (!reused) co_await conn.stream.async_connect(self->upstream, asio::use_awaitable);
    error_code failure;
    try {
      co_await http::async_write(conn.stream, message, asio::use_awaitable);
      client_response response;
      co_await http::async_read(conn.stream, conn.buffer, response, asio::use_awaitable);
      conn.stream.expires_never();
      if (request.trace && request.trace->on_connection) request.trace->on_connection({reused, self->upstream});
      if (response.keep_alive() && message.keep_alive()) self->give_back(std::move(conn));
      co_return response;
    } catch (boost::system::system_error const& e) {
      failure = e.code();
    }
    // Only a connection from the pool may turn out to be stale; a fresh one
    // that fails is the answer.
    if (!reused || !stale_connection(failure)) throw boost::system::system_error(failure);
  }
}

} // namespace

plain_transport::plain_transport(asio::any_io_executor executor, asio::ip::tcp::endpoint upstream)
    : plain_transport(std::move(executor), upstream, options{})
{
}

plain_transport::plain_transport(asio::any_io_executor executor, asio::ip::tcp::endpoint upstream, options o)
    : impl_(std::make_shared<impl>())
{
  impl_->executor = std::move(executor);
  impl_->upstream = upstream;
  impl_->opts = o;
}

plain_transport::~plain_transport() = default;

std::size_t plain_transport::connections_opened() const
{
  std::lock_guard lock(impl_->mutex);
  return impl_->opened;
}

std::size_t plain_transport::idle_connections() const
{
  std::lock_guard lock(impl_->mutex);
  return impl_->idle.size();
}

void plain_transport::do_round_trip(client_request request, round_trip_handler handler)
{
  auto slot = asio::get_associated_cancellation_slot(handler);
  auto handler_executor = asio::get_associated_executor(handler, impl_->executor);
  auto complete = [handler = std::move(handler)](std::exception_ptr e, client_response response) mutable {
    if (e) std::move(handler)(code_of(e), client_response{});
    else std::move(handler)(error_code{}, std::move(response));
  };
  // Each exchange on a strand of its own: beast::tcp_stream's timer handler
  // and the I/O it cuts short run as separate handlers, and on an io_context
  // of several threads they must not run at once (a data race on the
  // stream's state, and the timeout reported as operation_aborted).
  asio::co_spawn(asio::make_strand(impl_->executor), exchange(impl_, std::move(request)),
                 asio::bind_executor(handler_executor, asio::bind_cancellation_slot(slot, std::move(complete))));
}

} // namespace workbook
