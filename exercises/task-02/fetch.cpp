// Task 02 · your client. Start with README.md; the steps there match the
// TODOs here. Run `grader task-02` after each step.
//
// Where does Beast start the clock that cuts a slow response off? (AC5) Find
// the line in Beast's source (README, step 5) and write its number after the
// last colon, on this line, keeping the rest as it is:
//
// Timer armed at: boost/beast/core/impl/basic_stream.hpp:
#include "fetch.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace task02 {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

fetch_result fetch(std::string const& host,
                   unsigned short port,
                   std::string const& target,
                   std::chrono::milliseconds timeout)
{
  fetch_result result;

  // TODO (step 2): where are you connecting? `host` is an IP literal, so
  // net::ip::make_address turns it into an address without asking anyone.
  // Why does this contract refuse host names? (README, step 2)

  // TODO (step 3): what owns the I/O? fetch blocks its caller, so it can
  // have an io_context of its own, and a beast::tcp_stream on it.

  // TODO (step 3): ONE deadline for everything below. Where does it go so
  // that it covers the connect as well, and how many times do you set it?

  // TODO (step 4): connect, send a GET for `target` (HTTP/1.1 wants a Host
  // field) and read the whole response. Which of tcp_stream's operations
  // does the deadline apply to, and which does it ignore?

  // TODO (step 4): make it all happen, then fill `result`: the status and
  // body, or the error exactly as Beast reported it.

  // Remove these once you use the parameters.
  (void)host;
  (void)port;
  (void)target;
  (void)timeout;
  return result;
}

} // namespace task02
