// Task 06 · reference.
//
// Shutdown is a conversation between two kinds of strand:
//   - the server's strand owns the acceptor, the registry of sessions, the
//     deadline timer and the shutdown's outcome;
//   - each session's strand owns its socket, its buffers and its phase
//     (reading, handling, writing, closed).
// Neither touches the other's state. The server asks a session to drain or
// to close by posting to the session's strand; a session leaves the registry
// by posting to the server's strand from its destructor. Whatever thread
// calls shutdown(), the work happens on those strands, so the io_context may
// run on any number of threads.
#include "graceful_server.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <unordered_map>
#include <utility>
#include <vector>

namespace task06 {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using boost::system::error_code;

namespace {
class session;
}

struct graceful_server::state : std::enable_shared_from_this<state> {
  state(net::io_context& ioc, tcp::endpoint ep, handler h)
      : ioc(ioc),
        strand(net::make_strand(ioc)),
        acceptor(strand),
        deadline(strand),
        endpoint(ep),
        on_request(std::move(h))
  {
  }

  net::io_context& ioc;
  net::strand<net::io_context::executor_type> strand;

  // Everything from here to `waiters` belongs to `strand`.
  tcp::acceptor acceptor;
  net::steady_timer deadline;
  // Weak: a session lives as long as its own operations hold it. Keyed by a
  // number, not by address: a new session may be born at the address of one
  // whose departure has not reached us yet.
  std::unordered_map<std::uint64_t, std::weak_ptr<session>> sessions;
  std::uint64_t next_id = 0;
  enum class stage { serving, draining, finished };
  stage now = stage::serving;
  error_code outcome;
  std::vector<shutdown_handler> waiters;

  // Set by shutdown() itself, before it returns, on the caller's thread; read
  // by sessions on theirs. The drain message that follows via the strands
  // arrives a moment later: a response built in that moment must still say
  // Connection: close.
  std::atomic<bool> stopping{false};

  // Written by start(), before anything runs; read-only afterwards, so any
  // thread may read them.
  tcp::endpoint endpoint;
  handler on_request;
  // Handlers block; they do it here, never on a thread that runs `ioc`.
  net::thread_pool pool{4};

  void accept();
  void begin_shutdown(std::chrono::milliseconds grace, shutdown_handler done);
  void forget(std::uint64_t id);
  void finish(error_code ec);
};

namespace {

// One connection: read a request, hand it to the pool, write the answer,
// repeat while keep-alive holds, and listen to the server's drain and close.
class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket socket, std::shared_ptr<graceful_server::state> server, std::uint64_t id)
      : executor_(socket.get_executor()), stream_(std::move(socket)), server_(std::move(server)), id_(id)
  {
  }

  // The registry learns of our end on its own strand. (During the
  // io_context's destruction the post is discarded, which is fine: nobody
  // is waiting any more.)
  ~session()
  {
    net::post(server_->strand, [server = server_, id = id_] { server->forget(id); });
  }

  // The session's strand; a copy made at construction, so the server's
  // strand can read it while ours uses the stream.
  net::any_io_executor const& executor() const { return executor_; }

  void run()
  {
    // The socket was accepted on the server's strand but carries a strand of
    // its own (see accept()); everything below runs there.
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
  }

  // Shutdown has started (called on our strand).
  void drain()
  {
    if (draining_) return;
    draining_ = true;
    stop_.request_stop();  // a handler that watches its token may give up now
    // Idle: no request of ours is in flight, so nothing is lost by closing.
    // (A request half received counts as idle: see WHY.md.)
    if (phase_ == phase::reading) close();
    // handling: send() will add Connection: close; writing: on_write closes.
  }

  // The deadline passed (called on our strand).
  void force_close()
  {
    stop_.request_stop();
    close();
  }

private:
  enum class phase { reading, handling, writing, closed };

  // Shutdown has started, whether or not its drain() has reached us yet.
  bool closing() const { return draining_ || server_->stopping.load(); }

  void do_read()
  {
    phase_ = phase::reading;
    request_ = {};
    // A client that never finishes its request may not hold us forever.
    stream_.expires_after(std::chrono::seconds(30));
    http::async_read(stream_, buffer_, request_,
                     beast::bind_front_handler(&session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t)
  {
    // phase_ == closed: drain() closed us after this read had already
    // completed but before its handler ran. The request is dropped with the
    // connection, as an idle one would have been.
    if (ec || phase_ == phase::closed) return close();

    phase_ = phase::handling;
    stream_.expires_never();  // the handler's time is ours, not the client's
    stop_ = std::stop_source{};  // a fresh signal per request
    if (closing()) stop_.request_stop();

    // The work guard keeps the io_context's run() from returning while the
    // handler runs: no asynchronous operation of ours is pending meanwhile.
    net::post(server_->pool, [self = shared_from_this(), token = stop_.get_token(),
                              work = net::make_work_guard(stream_.get_executor())] {
      response res;
      try {
        // request_ is not touched on the strand until send() runs.
        res = self->server_->on_request(self->request_, token);
      } catch (...) {
        res = response{http::status::internal_server_error, 11};
        res.set(http::field::content_type, "text/plain");
        res.body() = "internal error\n";
      }
      net::post(self->stream_.get_executor(),
                [self, res = std::move(res)]() mutable { self->send(std::move(res)); });
    });
  }

  void send(response res)
  {
    if (phase_ == phase::closed) return;  // force-closed while the handler ran
    phase_ = phase::writing;
    response_ = std::move(res);
    response_.version(request_.version());
    // Decided now, not when the request arrived: a shutdown that started
    // while the handler ran is the reason to say goodbye.
    response_.keep_alive(request_.keep_alive() && !closing());
    response_.prepare_payload();
    stream_.expires_after(std::chrono::seconds(30));
    http::async_write(stream_, response_,
                      beast::bind_front_handler(&session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t)
  {
    if (ec || !response_.keep_alive() || closing()) return close();
    do_read();
  }

  void close()
  {
    if (phase_ == phase::closed) return;
    phase_ = phase::closed;
    beast::error_code ignored;
    // Send our FIN first, so a response just written is read in full, then
    // close: a pending read completes with operation_aborted and the last
    // handler to hold us lets go.
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  net::any_io_executor const executor_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  request request_;
  response response_;
  std::shared_ptr<graceful_server::state> server_;
  std::uint64_t id_;
  phase phase_ = phase::reading;
  bool draining_ = false;
  std::stop_source stop_;
};

} // namespace

void graceful_server::state::accept()
{
  // Each connection gets its own strand: its handlers never run at once,
  // whatever runs the io_context, and never block the server's strand.
  acceptor.async_accept(net::make_strand(ioc), [self = shared_from_this()](error_code ec, tcp::socket socket) {
    if (!self->acceptor.is_open()) return;  // closed by shutdown() or the destructor
    if (!ec) {
      auto const id = ++self->next_id;
      auto s = std::make_shared<session>(std::move(socket), self, id);
      self->sessions.emplace(id, s);
      s->run();
    }
    self->accept();
  });
}

void graceful_server::state::begin_shutdown(std::chrono::milliseconds grace, shutdown_handler done)
{
  if (now == stage::finished) {
    // A late caller learns the outcome that is already known.
    if (done) done(outcome);
    return;
  }
  if (done) waiters.push_back(std::move(done));
  if (now == stage::draining) return;  // the first call's deadline stands
  now = stage::draining;

  // 1. No new connections: the port stops listening, connects are refused.
  //    An accept that completed just before is still delivered; accept()
  //    sees the closed acceptor and drops that socket with its handler.
  error_code ignored;
  acceptor.close(ignored);

  // 2. Tell every session; each decides on its own strand what that means.
  for (auto const& [id, weak] : sessions)
    if (auto s = weak.lock()) net::post(s->executor(), [s] { s->drain(); });

  // 3. The deadline, on our strand like everything else here.
  deadline.expires_after(grace);
  deadline.async_wait([self = shared_from_this()](error_code ec) {
    if (ec || self->now != stage::draining) return;  // cancelled: we finished in time
    for (auto const& [id, weak] : self->sessions)
      if (auto s = weak.lock()) net::post(s->executor(), [s] { s->force_close(); });
    self->finish(net::error::timed_out);
  });

  if (sessions.empty()) finish({});
}

void graceful_server::state::forget(std::uint64_t id)
{
  sessions.erase(id);
  if (now == stage::draining && sessions.empty()) finish({});
}

void graceful_server::state::finish(error_code ec)
{
  if (now == stage::finished) return;
  now = stage::finished;
  outcome = ec;
  deadline.cancel();  // its handler runs once more, with operation_aborted
  // Moved out first: a waiter may call shutdown() again, which would touch
  // `waiters` while we iterate.
  auto to_call = std::move(waiters);
  waiters.clear();
  for (auto& done : to_call) done(ec);
}

graceful_server::graceful_server(net::io_context& ioc, tcp::endpoint listen_on, handler h)
    : state_(std::make_shared<state>(ioc, listen_on, std::move(h)))
{
}

graceful_server::~graceful_server()
{
  // Nothing runs the io_context now (the contract says so), so touching the
  // acceptor off its strand races with nobody. Joining the pool waits for
  // handlers still running: they use the state and the sessions.
  error_code ignored;
  state_->acceptor.close(ignored);
  state_->pool.join();
}

void graceful_server::start()
{
  auto& acceptor = state_->acceptor;
  acceptor.open(state_->endpoint.protocol());
  acceptor.set_option(net::socket_base::reuse_address(true));
  acceptor.bind(state_->endpoint);
  acceptor.listen(net::socket_base::max_listen_connections);
  // Kept, so that local_endpoint() need not ask the acceptor, which the
  // server's strand closes during a shutdown.
  state_->endpoint = acceptor.local_endpoint();
  // On the strand, like every later use of the acceptor.
  net::dispatch(state_->strand, [s = state_] { s->accept(); });
}

tcp::endpoint graceful_server::local_endpoint() const
{
  return state_->endpoint;
}

void graceful_server::shutdown(std::chrono::milliseconds grace, shutdown_handler done)
{
  // Before returning: any response built from now on says goodbye.
  state_->stopping = true;
  // post, not dispatch: even when called on the server's strand (from a
  // `done` callback, say), begin_shutdown runs later, never inside the
  // caller's own iteration over the registry or the waiters.
  net::post(state_->strand, [s = state_, grace, done = std::move(done)]() mutable {
    s->begin_shutdown(grace, std::move(done));
  });
}

int serve_until_signal(net::io_context& ioc, graceful_server& server, std::chrono::milliseconds grace)
{
  int exit_code = 0;
  // Installed before run(): a signal that arrives from now on is ours; one
  // that arrived earlier met the default action and ended the process.
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](error_code ec, int signal) {
    if (ec) return;
    std::fprintf(stderr, "signal %d: shutting down (grace %lld ms)\n", signal,
                 static_cast<long long>(grace.count()));
    server.shutdown(grace, [&](error_code result) {
      if (!result) return;  // everything closed; run() returns by itself
      exit_code = 1;
      std::fprintf(stderr, "shutdown: %s; abandoning what still runs\n", result.message().c_str());
      // A handler that ignores its token still holds work on the io_context:
      // without stop(), run() would wait for it after all.
      ioc.stop();
    });
  });
  // Not re-armed: a second SIGTERM while draining is caught and ignored
  // (see NOTES.md for the variation that makes it force the exit).
  ioc.run();
  return exit_code;
}

} // namespace task06
