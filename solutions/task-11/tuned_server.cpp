// Task 11 · reference.
//
// A connection lives in four phases, and each phase gets exactly one
// deadline, armed once when the phase begins:
//
//   wait_for_request   idle_timeout    until the next request's first byte
//   read_header        header_timeout  the whole header, however it trickles in
//   read_body          body_timeout    the whole body
//   write_response     write_timeout   the whole response
//
// beast::tcp_stream keeps one expiry for every later operation until it is
// set again, so the rule is simple and strict: every phase starts with its
// own expires_after, and nothing else calls it. A deadline set per read
// would let a client that sends one byte at a time live for ever; a phase
// without its own call inherits the previous phase's deadline.
//
// The rest is about holding many connections cheaply: a connection that
// waits keeps no request, no response and no more than a small read buffer;
// the accept queue is as long as the kernel allows; and an accept that fails
// for lack of descriptors backs off instead of ending the accept loop.
#include "tuned_server.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>

namespace task11 {

namespace beast = boost::beast;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

struct tuned_server::state {
  state(net::io_context& ioc, tcp::endpoint ep, server_limits l, handler h)
      : ioc(ioc),
        acceptor(net::make_strand(ioc)),
        retry(acceptor.get_executor()),
        endpoint(ep),
        limits(l),
        on_request(std::move(h))
  {
  }

  net::io_context& ioc;
  tcp::acceptor acceptor;       // on its own strand, with everything below it
  net::steady_timer retry;      // the pause after a failed accept
  std::chrono::milliseconds backoff{0};
  tcp::endpoint endpoint;
  server_limits const limits;   // read-only once constructed: any strand may read it
  handler const on_request;
};

namespace {

// How much an idle connection reads when its next request begins. The
// buffer keeps its capacity between requests; one grown by a large header
// is given back before the connection goes idle.
constexpr std::size_t idle_read_bytes = 512;

class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket socket, std::shared_ptr<tuned_server::state const> server)
      : stream_(std::move(socket)), server_(std::move(server))
  {
  }

  void run()
  {
    // The socket carries a strand of its own (see do_accept): every handler
    // below runs on it, whatever number of threads runs the io_context.
    net::dispatch(stream_.get_executor(), beast::bind_front_handler(&session::read_header, shared_from_this()));
  }

private:
  server_limits const& limits() const { return server_->limits; }

  // ------------------------------------------------------------ phase: header

  void read_header()
  {
    // A parser serves one message; its limits are per message too.
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(limits().header_limit, std::numeric_limits<std::uint32_t>::max())));
    parser_->body_limit(limits().body_limit);
    // ONE deadline for the whole header. async_read_header reads as many
    // times as it takes; none of those reads moves this expiry, so a client
    // dribbling a byte every 50 ms is cut off here all the same.
    stream_.expires_after(limits().header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&session::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t)
  {
    if (ec == http::error::header_limit)
      return refuse(http::status::request_header_fields_too_large, "request header fields too large\n");
    // Content-Length over the limit: the parser says so as soon as the
    // header is complete (basic_parser::finish_header), before any body.
    if (ec == http::error::body_limit) return refuse(http::status::payload_too_large, "payload too large\n");
    if (ec == http::error::end_of_stream) return close();  // the client left between requests
    // beast::error::timeout (tcp_stream has closed the socket already), a
    // reset, or bytes that are not HTTP: nothing worth answering.
    if (ec) return;
    if (parser_->is_done()) return respond();  // no body (a GET, or Content-Length: 0)
    read_body();
  }

  // ------------------------------------------------------------ phase: body

  void read_body()
  {
    // A new phase, a new deadline. Without this line the header's expiry
    // would still apply, and a body would have whatever the header left.
    stream_.expires_after(limits().body_timeout);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&session::on_body, shared_from_this()));
  }

  void on_body(beast::error_code ec, std::size_t)
  {
    if (ec == http::error::body_limit) return refuse(http::status::payload_too_large, "payload too large\n");
    if (ec) return;  // timeout or reset: the connection is gone
    respond();
  }

  // ------------------------------------------------------------ the handler

  void respond()
  {
    request req = parser_->release();
    parser_.reset();  // nothing of this request stays with the connection
    response res;
    try {
      res = server_->on_request(req);
    } catch (...) {
      res = response{http::status::internal_server_error, req.version()};
      res.set(http::field::content_type, "text/plain");
      res.body() = "internal server error\n";
    }
    res.version(req.version());
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    write_response(std::move(res));
  }

  // An answer the connection cannot survive: the rest of the request is
  // unread, so the next bytes would not be the start of a request.
  void refuse(http::status status, char const* why)
  {
    response res{status, parser_->get().version()};
    res.set(http::field::content_type, "text/plain");
    res.body() = why;
    res.keep_alive(false);
    res.prepare_payload();
    parser_.reset();
    write_response(std::move(res));
  }

  // ------------------------------------------------------------ phase: write

  void write_response(response res)
  {
    res_.emplace(std::move(res));
    // The whole response, however slowly the client reads it.
    stream_.expires_after(limits().write_timeout);
    http::async_write(stream_, *res_, beast::bind_front_handler(&session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t)
  {
    bool const keep_alive = res_->keep_alive();
    res_.reset();  // an idle connection keeps no response
    if (ec) return;  // the write deadline passed (socket closed), or a reset
    if (!keep_alive) return linger();
    wait_for_request();
  }

  // ------------------------------------------------------------ phase: idle

  void wait_for_request()
  {
    // The client may have sent its next request already (pipelining): then
    // it has begun, and its header's deadline applies, not the idle one.
    if (buffer_.size() > 0) return read_header();
    // Idle connections are the many: give back what a large header grew.
    if (buffer_.capacity() > idle_read_bytes) buffer_.shrink_to_fit();
    stream_.expires_after(limits().idle_timeout);
    stream_.async_read_some(buffer_.prepare(idle_read_bytes),
                            beast::bind_front_handler(&session::on_first_bytes, shared_from_this()));
  }

  void on_first_bytes(beast::error_code ec, std::size_t n)
  {
    buffer_.commit(n);
    if (ec == net::error::eof) return close();
    // beast::error::timeout: the idle deadline passed and tcp_stream closed
    // the socket. Nothing was unread, so the client sees a clean FIN.
    if (ec) return;
    // The next request has begun: its header deadline counts from now.
    read_header();
  }

  // ------------------------------------------------------------ closing

  void close()
  {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  // After an answer that ends the connection. Closing a socket with bytes
  // still unread, or one that receives more afterwards, makes the kernel
  // send a reset, which can destroy the answer in the client's buffer before
  // it is read. So: send our FIN, read and discard what the client still
  // sends, for a bounded time, and only then close.
  void linger()
  {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(limits().header_timeout);
    discard();
  }

  void discard()
  {
    buffer_.consume(buffer_.size());
    stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec) return self->discard();
      self->stream_.close();  // the client's FIN, or the deadline
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<response> res_;
  std::shared_ptr<tuned_server::state const> server_;
};

void do_accept(std::shared_ptr<tuned_server::state> server);

// accept() failed: out of descriptors (EMFILE, ENFILE), or out of memory for
// one more socket. The connection is still in the queue, so accepting again
// at once would fail again at once, and spin a thread. Wait a little, more
// each time, as Go's Serve does (5 ms doubling to 1 s), and try again.
void accept_later(std::shared_ptr<tuned_server::state> server, beast::error_code ec)
{
  if (server->backoff == 0ms) std::fprintf(stderr, "accept: %s; retrying\n", ec.message().c_str());
  server->backoff = server->backoff == 0ms ? 5ms : std::min<std::chrono::milliseconds>(server->backoff * 2, 1s);
  server->retry.expires_after(server->backoff);
  server->retry.async_wait([server](beast::error_code ec) {
    if (!ec && server->acceptor.is_open()) do_accept(server);
  });
}

void do_accept(std::shared_ptr<tuned_server::state> server)
{
  auto& acceptor = server->acceptor;
  // Each connection gets a strand of its own: one connection's handlers
  // never run at once, and connections run in parallel on many threads.
  acceptor.async_accept(net::make_strand(server->ioc), [server](beast::error_code ec, tcp::socket socket) {
    if (!server->acceptor.is_open()) return;  // the server is being destroyed
    if (ec) return accept_later(server, ec);
    server->backoff = 0ms;
    std::make_shared<session>(std::move(socket), server)->run();
    do_accept(server);
  });
}

} // namespace

tuned_server::tuned_server(net::io_context& ioc, tcp::endpoint listen_on, server_limits limits, handler h)
    : state_(std::make_shared<state>(ioc, listen_on, limits, std::move(h)))
{
}

tuned_server::~tuned_server()
{
  // Nothing runs the io_context any more (the contract says so).
  beast::error_code ignored;
  state_->acceptor.close(ignored);
  state_->retry.cancel();
}

void tuned_server::start()
{
  auto& a = state_->acceptor;
  a.open(state_->endpoint.protocol());
  a.set_option(net::socket_base::reuse_address(true));
  a.bind(state_->endpoint);
  // The accept queue holds connections the kernel has completed and we
  // have not accepted yet: a burst of 10K arrives faster than any loop
  // accepts. SOMAXCONN asks for the most; the kernel caps it at
  // /proc/sys/net/core/somaxconn. When the queue is full, Linux drops the
  // SYN, and the client retries a second later.
  a.listen(net::socket_base::max_listen_connections);
  state_->endpoint = a.local_endpoint();
  net::dispatch(a.get_executor(), [s = state_] { do_accept(s); });
}

tcp::endpoint tuned_server::local_endpoint() const { return state_->endpoint; }

// ---------------------------------------------------------------- open files

fd_limit_report raise_fd_limit(std::uint64_t wanted)
{
  fd_limit_report report;
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    report.message = std::string("getrlimit(RLIMIT_NOFILE) failed: ") + std::strerror(errno);
    return report;
  }
  report.before = report.after = rl.rlim_cur;
  report.hard = rl.rlim_max;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= wanted) return report;  // enough; never lower it

  // An unprivileged process may raise its soft limit up to the hard one,
  // and no further: asking for more fails with EINVAL and changes nothing.
  bool const capped = rl.rlim_max != RLIM_INFINITY && wanted > rl.rlim_max;
  rlimit raised = rl;
  raised.rlim_cur = capped ? rl.rlim_max : static_cast<rlim_t>(wanted);
  if (::setrlimit(RLIMIT_NOFILE, &raised) != 0) {
    report.message = "could not raise the limit on open files from " + std::to_string(rl.rlim_cur) + " to " +
                     std::to_string(raised.rlim_cur) + ": setrlimit: " + std::strerror(errno);
    return report;
  }
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) report.after = rl.rlim_cur;
  if (capped)
    report.message = "wanted " + std::to_string(wanted) + " open files, but the hard limit is " +
                     std::to_string(report.hard) + " (`ulimit -Hn`); the soft limit is now " +
                     std::to_string(report.after) +
                     ". Raise the hard limit as root: `nofile` in /etc/security/limits.conf, or LimitNOFILE= "
                     "in the service's systemd unit";
  return report;
}

} // namespace task11
