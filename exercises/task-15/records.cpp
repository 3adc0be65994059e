// Task 15 · your streaming server. Start with README.md; the steps there
// match the TODOs here. Run `grader task-15` after each step.
//
// As it stands the server never listens: it compiles, runs, and fails every
// criterion.
#include "records.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <string>
#include <utility>

namespace task15 {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

struct records_server::state {
  net::io_context& ioc;
  tcp::endpoint endpoint;
  record_source source;
  server_options options;
  // TODO (step 4): the acceptor, and what live_sessions() counts.
};

// TODO (step 2): one record as JSON text, appended to a string you reuse:
// the numbers with std::to_chars, the name between quotes with the escapes
// RFC 8259 §7 demands. Which bytes are they? Try make_record(5), (9), (13)
// and (3): records.hpp says what each one holds.

// TODO (step 3): the request. The path, the method, then n and format,
// checked in the order records.hpp gives, each refusal a small JSON answer
// with a Content-Length.

// TODO (step 5): the stream's body. Either a Beast body type of your own
// whose writer produces one batch per call to get() (model it on the
// writers in buffer_body.hpp and basic_file_body.hpp), or one chunk per
// batch written by hand (http::make_chunk). Where do the commas go, and
// what does the first batch have that the others do not? The last?

// TODO (step 4): a session per connection, as in task 10: read a request,
// answer it, keep the connection alive as the client asks.
// TODO (step 6): write the stream one write at a time, each under
// options.stall_timeout.
// TODO (step 7): when a write fails, what must the session do, and what
// must it not do, so that it is destroyed? live_sessions() counts sessions
// from their constructor to their destructor.

records_server::records_server(net::io_context& ioc, tcp::endpoint listen_on, record_source source,
                               server_options options)
    : state_(std::make_shared<state>(state{ioc, listen_on, std::move(source), options}))
{
}

records_server::~records_server() = default;

void records_server::start()
{
  // TODO (step 4): open, bind, listen, and accept in a loop.
}

tcp::endpoint records_server::local_endpoint() const
{
  // TODO (step 4): once listening, the port the operating system chose.
  return state_->endpoint;
}

std::size_t records_server::live_sessions() const
{
  // TODO (step 7): the sessions alive now.
  return 0;
}

} // namespace task15
