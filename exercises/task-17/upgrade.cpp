// Task 17 · your upgrading server. Start with README.md; the steps there
// match the TODOs here. Run `grader task-17` after each step.
//
// As it stands the server never listens: it compiles, runs, and fails every
// criterion.
#include "upgrade.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <atomic>

namespace task17 {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

struct upgrade_server::state {
  net::io_context& ioc;
  tcp::endpoint endpoint;
  upgrade_options options;
  // TODO (step 1): the acceptor, at least.
  // TODO (step 7): the count echo_connections() reads, safe to read from
  // any thread while the io_context's threads change it.
};

// TODO (step 1): a session per connection, on a strand of its own: read a
// request under request_timeout, answer it under write_timeout (404, and
// the 426 of upgrade.hpp; a 400 and the end for a request that is not
// HTTP), keep the connection alive as the request asks.
//
// TODO (step 2): is this request an upgrade to echo? Which fields, which
// tokens, which method and version? Read websocket::is_upgrade first, then
// decide what yours must do that it does not.
//
// TODO (step 3): the 101, written by hand. What must it not contain?
//
// TODO (step 4): the hand-off. What does the echo need from the HTTP
// session, and what must stay behind with it? Which of the session's bytes
// exist nowhere else?
//
// TODO (step 5): the echo protocol: whole lines in, one reply per line out,
// in order. Where do the first lines come from? What is a line's end, and
// what does a line that never ends cost you?
//
// TODO (step 6): the echo's own deadline. What renews it, what does not,
// and what happens when it passes while a reply is being written?
//
// TODO (step 7): the end. A client that leaves, a client that only ends its
// side, the deadline: every way out frees the session, and nothing waits
// for a timer to let go of it.
//
// TODO (step 8, bonus): GET /ws, the same echo over beast::websocket.

upgrade_server::upgrade_server(net::io_context& ioc, tcp::endpoint listen_on, upgrade_options options)
    : state_(std::make_shared<state>(state{ioc, listen_on, options}))
{
}

upgrade_server::~upgrade_server() = default;

void upgrade_server::start()
{
  // TODO (step 1): open, bind, listen, and accept in a loop.
}

tcp::endpoint upgrade_server::local_endpoint() const
{
  // TODO (step 1): once listening, the port the operating system chose.
  return state_->endpoint;
}

std::size_t upgrade_server::echo_connections() const
{
  // TODO (step 7): the echo connections that exist now.
  return 0;
}

} // namespace task17
