// Task 11 · your server, tuned to hold 10K connections. Start with README.md;
// the steps there match the TODOs here. Run `grader task-11` after each step.
//
// As it stands the server never listens and raise_fd_limit() changes
// nothing: it compiles, runs, and fails every criterion.
#include "tuned_server.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <sys/resource.h>

namespace task11 {

namespace beast = boost::beast;
using tcp = net::ip::tcp;

struct tuned_server::state {
  net::io_context& ioc;
  tcp::endpoint endpoint;
  server_limits limits;
  handler on_request;
  // TODO (step 2): the acceptor, at least. What else does the accept loop
  // need once accept() starts failing with "too many open files" (step 8)?
};

// TODO (step 2): a session per connection, as in task 01 or task 10: a
// beast::tcp_stream on a strand of its own, a buffer, a fresh
// http::request_parser per request, the handler's response written back,
// and a loop while the client keeps the connection alive.
//
// TODO (step 3): the header phase. Where does its deadline start, and how
// many times may it be set while the header trickles in?
// TODO (step 4): the body phase and the write phase, each with a deadline of
// its own. What deadline does an operation get when you set none?
// TODO (step 5): the idle phase between two requests on a kept-alive
// connection: its own deadline, and the next request's header deadline
// counted from its first byte, not from the end of the last response.
// TODO (step 6): the parser's header and body limits; 431 and 413, each
// with `Connection: close`, and a close that does not reset a client still
// sending.
// TODO (step 9): what does a connection that waits keep in memory?

tuned_server::tuned_server(net::io_context& ioc, tcp::endpoint listen_on, server_limits limits, handler h)
    : state_(std::make_shared<state>(state{ioc, listen_on, limits, std::move(h)}))
{
}

tuned_server::~tuned_server() = default;

void tuned_server::start()
{
  // TODO (step 2): open, bind, listen, and accept in a loop.
  // TODO (step 7): how long may the accept queue be, and who decides?
  // TODO (step 8): when an accept fails, does the loop go on? At once?
}

tcp::endpoint tuned_server::local_endpoint() const
{
  // TODO (step 2): once listening, the port the operating system chose.
  return state_->endpoint;
}

fd_limit_report raise_fd_limit(std::uint64_t wanted)
{
  // TODO (step 1): getrlimit(RLIMIT_NOFILE), then setrlimit: as far as
  // `wanted`, or as far as the hard limit allows, never lower. Report what
  // you found and what you did; when you could not reach `wanted`, say so in
  // a way a person can act on.
  (void)wanted;
  fd_limit_report report;
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    report.before = report.after = rl.rlim_cur;
    report.hard = rl.rlim_max;
  }
  return report;
}

} // namespace task11
