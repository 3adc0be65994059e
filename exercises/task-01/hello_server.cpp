// Task 01 · your server. Start with README.md; the steps there match the
// TODOs here. Run `grader task-01` after each step.
//
// Call chain, first request (AC2). Replace the dots: one function per line,
// outermost first, in the order they run between io_context::run and your
// handler. At least six. Names as the trace prints them (step 4 of the
// README), e.g. "http::async_read", each followed by why it is there.
//   1. ...
//   2. ...
//   3. ...
//   4. ...
//   5. ...
//   6. ...
#include "hello_server.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace task01 {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct hello_server::state {
  net::io_context& ioc;
  tcp::endpoint endpoint;
  blocking_work slow_work;
  // TODO (step 2): what must live as long as the server? The acceptor, at least.
};

// TODO (step 3): a session per connection. Read a request with
// http::async_read, build the response, write it with http::async_write, and
// read again while the client keeps the connection alive. What does the
// client expect when it does not? What keeps the session alive between two
// asynchronous operations?

// TODO (step 5): GET /slow calls state::slow_work, which blocks. The
// io_context in the tests has ONE thread: where may that call run?

hello_server::hello_server(net::io_context& ioc, tcp::endpoint listen_on, blocking_work slow_work)
    : state_(std::make_shared<state>(state{ioc, listen_on, std::move(slow_work)}))
{
}

// TODO (step 5): blocking work may still be running when the server is
// destroyed, and its owner may free what that work uses right after. What
// must the destructor wait for?
hello_server::~hello_server() = default;

void hello_server::start()
{
  // TODO (step 2): open, bind and listen, then accept connections in a loop
  // that never waits for one connection to finish before accepting the next.
}

tcp::endpoint hello_server::local_endpoint() const
{
  // TODO (step 2): once listening, the port the operating system chose.
  return state_->endpoint;
}

} // namespace task01
