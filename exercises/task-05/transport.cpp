// Task 05 · your transport. Start with README.md; the steps there match the
// TODOs here. Run `grader task-05` after each step.
//
// Two questions shape the design before any code does. Who owns a
// connection at each moment: the pool, or the one request using it? And
// what does a thread hold while it waits for the network: the pool's lock
// must not be one of those things.
#include "transport.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <mutex>

namespace task05 {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// TODO (step 2): turn "http://127.0.0.1:8080/path" into what a request
// needs: the key ("http://127.0.0.1:8080"), an endpoint, a Host field and
// the target. A scheme other than http, or a host that is not an IP
// literal, is an error, and nothing is connected.

// TODO (steps 1 and 3): what does the transport keep? Whatever runs the
// sockets' asynchronous operations while get() blocks its caller (one
// io_context per call cannot work here: a connection outlives the call
// that opened it); the options; the pool of idle connections, per key,
// each with the time (by options.clock) it was given back; and a mutex for
// the pool.
struct transport::impl {
  transport_options options;
};

transport::transport(transport_options options) : impl_(std::make_unique<impl>())
{
  impl_->options = std::move(options);
}

transport::~transport() = default;  // TODO (step 6): close every idle connection

response transport::get(std::string const& url)
{
  // TODO (step 3): take an idle connection for the URL's key, or open one;
  // tell options.on_got_conn which it was, and how long it sat idle.
  // TODO (step 2): send the GET and read the whole response (task 04).
  // TODO (step 4): give the connection back to the pool if it can carry
  // another request and the pool has room; close it otherwise.
  // TODO (step 5): never hand out a connection idle for idle_timeout or
  // longer.
  (void)url;
  return {};
}

std::size_t transport::idle_connections() const
{
  return 0;  // TODO (step 4)
}

std::size_t transport::idle_connections(std::string const& key) const
{
  (void)key;
  return 0;  // TODO (step 4)
}

std::size_t transport::close_expired_idle()
{
  return 0;  // TODO (step 5)
}

} // namespace task05
