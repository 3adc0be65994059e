// Task 14 · reference.
//
// A stream is an HTTP response that does not end. Beast writes it in two
// parts: the head, through a serializer of a response<empty_body> that says
// `Transfer-Encoding: chunked`, and then the body by hand, one
// http::make_chunk per event, each written as soon as it is due. The session
// that does it lives as long as its client, so three things that a short
// response gets away with are done with care here:
//
//   lifetime   whatever an asynchronous write reads from (the response and
//              its serializer, the text of the chunk) is a member of the
//              session, which the write's handler keeps alive;
//   deadlines  none for the stream as a whole, one for each single write;
//   departure  one read stays pending for the whole stream, so the client's
//              FIN or reset is seen the moment it arrives, not at the next
//              write, which may be seconds away.
//
// One timer per stream decides what is written next: the next event when it
// is due, a heartbeat comment when the stream has been quiet for long enough.
// Only one write is ever in flight, so nothing needs a queue.
#include "event_stream.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <ctime>
#include <limits>
#include <optional>

namespace task14 {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;

// ---------------------------------------------------------------- the wire format

std::string format_event(std::uint64_t id, std::string_view data)
{
  std::string out = "id: " + std::to_string(id) + "\n";
  // A line ends at "\r\n", "\n" or a lone "\r": the parser on the other side
  // knows all three, so a CR left inside a data line would end it there and
  // turn the rest into a field of its own. Each line gets its own "data: ",
  // and the client joins them again with "\n".
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (data[i] != '\n' && data[i] != '\r') continue;
    out += "data: ";
    out.append(data.substr(line_start, i - line_start));
    out += '\n';
    if (data[i] == '\r' && i + 1 < data.size() && data[i + 1] == '\n') ++i;  // CRLF is one break
    line_start = i + 1;
  }
  out += "data: ";
  out.append(data.substr(line_start));
  out += "\n\n";  // the end of the last line, and the blank line that dispatches the event
  return out;
}

namespace {

// The default event source: the server's clock, in UTC.
std::string utc_now()
{
  std::time_t const now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// The id a stream starts from: one past the Last-Event-ID the client saw, when
// that is a number; a client that sends nothing (or anything else) starts at 1.
std::uint64_t first_id(beast::string_view last_event_id)
{
  std::uint64_t seen = 0;
  char const* const end = last_event_id.data() + last_event_id.size();
  auto const [stop, error] = std::from_chars(last_event_id.data(), end, seen);
  if (last_event_id.empty() || error != std::errc{} || stop != end) return 1;
  if (seen == std::numeric_limits<std::uint64_t>::max()) return 1;  // no id after it
  return seen + 1;
}

} // namespace

// ---------------------------------------------------------------- the server

struct event_server::state {
  state(net::io_context& ioc, tcp::endpoint ep, stream_options o)
      : ioc(ioc), acceptor(net::make_strand(ioc)), endpoint(ep), options(std::move(o))
  {
  }

  net::io_context& ioc;
  tcp::acceptor acceptor;
  tcp::endpoint endpoint;
  stream_options const options;  // read-only once constructed: every strand may read it
  std::atomic<std::size_t> open_streams{0};
};

namespace {

class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket socket, std::shared_ptr<event_server::state> server)
      : stream_(std::move(socket)), timer_(stream_.get_executor()), server_(std::move(server))
  {
  }

  // The one place every way a stream ends passes through: the count drops
  // when nothing holds the session any more, so a handler that still holds
  // it (a forgotten timer, a read that never completes) shows in the count.
  ~session()
  {
    if (counted_) --server_->open_streams;
  }

  void run()
  {
    net::dispatch(stream_.get_executor(), beast::bind_front_handler(&session::read_request, shared_from_this()));
  }

private:
  stream_options const& options() const { return server_->options; }

  // ------------------------------------------------------------ ordinary requests

  void read_request()
  {
    req_ = {};
    stream_.expires_after(options().request_timeout);
    http::async_read(stream_, buffer_, req_, beast::bind_front_handler(&session::on_request, shared_from_this()));
  }

  void on_request(beast::error_code ec, std::size_t)
  {
    if (ec) return close();  // the client left, the deadline passed, or it was not HTTP
    auto const target = req_.target();
    auto const path = target.substr(0, target.find('?'));
    if (req_.method() == http::verb::get && path == "/events") return start_stream();
    if (req_.method() == http::verb::get && path == "/")
      return respond(http::status::ok, "text/html; charset=utf-8", options().page);
    respond(http::status::not_found, "text/plain", "not found\n");
  }

  void respond(http::status status, beast::string_view type, std::string body)
  {
    page_.emplace(status, req_.version());
    page_->set(http::field::content_type, type);
    page_->body() = std::move(body);
    page_->keep_alive(req_.keep_alive());
    page_->prepare_payload();
    stream_.expires_after(options().write_timeout);
    http::async_write(stream_, *page_, beast::bind_front_handler(&session::on_response_written, shared_from_this()));
  }

  void on_response_written(beast::error_code ec, std::size_t)
  {
    bool const keep_alive = page_->keep_alive();
    page_.reset();
    if (ec || !keep_alive) return close();
    read_request();
  }

  // ------------------------------------------------------------ the stream: head

  void start_stream()
  {
    counted_ = true;
    ++server_->open_streams;
    next_id_ = first_id(req_["Last-Event-ID"]);

    // An empty body with chunked(true): the serializer writes the head with
    // `Transfer-Encoding: chunked` and nothing else; the chunks are ours.
    head_.emplace(http::status::ok, req_.version());
    head_->set(http::field::content_type, "text/event-stream");
    head_->set(http::field::cache_control, "no-cache");
    head_->chunked(true);
    serializer_.emplace(*head_);

    // Each event is a small write that must leave now, not when the kernel
    // has collected a full segment: Nagle's algorithm off (Go does this for
    // every TCP connection; Asio does not).
    beast::error_code ignored;
    stream_.socket().set_option(tcp::no_delay(true), ignored);

    stream_.expires_after(options().write_timeout);
    // The serializer reads from *head_, and async_write_header reads from the
    // serializer until its handler runs: both are members, not locals.
    http::async_write_header(stream_, *serializer_,
                             beast::bind_front_handler(&session::on_head_written, shared_from_this()));
  }

  void on_head_written(beast::error_code ec, std::size_t)
  {
    serializer_.reset();  // the head is out: neither is read again
    head_.reset();
    req_ = {};
    if (ec) return close();

    // From here on the connection lasts as long as the client wants. The
    // request's deadline is still armed for reads (and the head's for
    // writes): clear both before the read below starts, or that read would
    // end the stream when they pass.
    stream_.expires_never();
    watch_for_departure();

    next_event_at_ = clock_type::now();  // the first event is due at once
    if (options().retry.count() > 0) return write_chunk("retry: " + std::to_string(options().retry.count()) + "\n\n");
    send_event();
  }

  // ------------------------------------------------------------ the stream: the client

  // A client of an event stream sends nothing after its request, so a read
  // completes only when it goes: with end of stream for its FIN, with an
  // error for a reset. Kept pending for the whole stream, it is how the
  // server learns of a departure at once, between events, instead of at the
  // next write (which, with the kernel's buffers, may even succeed).
  void watch_for_departure()
  {
    buffer_.consume(buffer_.size());
    stream_.async_read_some(buffer_.prepare(512), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->close();  // FIN, reset, or our own close()
      self->watch_for_departure();   // bytes after the request: ignored
    });
  }

  // ------------------------------------------------------------ the stream: writes

  void send_event()
  {
    std::uint64_t const id = next_id_++;
    ++events_sent_;
    next_event_at_ = clock_type::now() + options().tick;
    write_chunk(format_event(id, options().data ? options().data(id) : utc_now()));
  }

  // One chunk: the retry line, an event or a heartbeat. The text lives in the
  // session until the write completes: net::async_write may need several
  // writes for it (a large event, a client that reads slowly), long after
  // this function has returned.
  void write_chunk(std::string text)
  {
    chunk_text_ = std::move(text);
    // The read is pending, so this arms the write's timer only: one write
    // that cannot finish within write_timeout ends the stream, however long
    // the stream has lived.
    stream_.expires_after(options().write_timeout);
    net::async_write(stream_, http::make_chunk(net::buffer(chunk_text_)),
                     beast::bind_front_handler(&session::on_chunk_written, shared_from_this()));
  }

  void on_chunk_written(beast::error_code ec, std::size_t)
  {
    if (ec) return close();  // a reset, a write deadline, or our own close()
    // A write can succeed and still complete after the client has gone: the
    // departure read and this write finished together, and the read's
    // handler ran first. Arming the timer now would keep a closed session
    // alive until the next tick.
    if (closed_) return;
    last_write_at_ = clock_type::now();
    if (options().close_after > 0 && events_sent_ >= options().close_after) return finish();
    wait_for_next_write();
  }

  // The next write is the next event when it falls due, or a heartbeat when
  // the stream has been quiet for `heartbeat` before that.
  void wait_for_next_write()
  {
    auto wake = next_event_at_;
    if (options().heartbeat.count() > 0) wake = std::min(wake, last_write_at_ + options().heartbeat);
    timer_.expires_at(wake);
    timer_.async_wait(beast::bind_front_handler(&session::on_timer, shared_from_this()));
  }

  void on_timer(beast::error_code ec)
  {
    if (ec || closed_) return;  // cancelled by close(): the stream is over
    if (clock_type::now() >= next_event_at_) return send_event();
    write_chunk(std::string(heartbeat_comment));
  }

  // ------------------------------------------------------------ the end

  // close_after events: the last chunk ends the response properly, then the
  // connection closes.
  void finish()
  {
    stream_.expires_after(options().write_timeout);
    net::async_write(stream_, http::make_chunk_last(),
                     [self = shared_from_this()](beast::error_code, std::size_t) { self->close(); });
  }

  // Every way out comes here, once. Cancelling the timer and closing the
  // socket makes every pending operation complete (with operation_aborted),
  // each handler drops its share of the session, and the last one frees it.
  void close()
  {
    if (closed_) return;
    closed_ = true;
    timer_.cancel();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  net::steady_timer timer_;  // on the session's strand, like the socket
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  std::optional<http::response<http::string_body>> page_;
  std::optional<http::response<http::empty_body>> head_;
  std::optional<http::response_serializer<http::empty_body>> serializer_;
  std::string chunk_text_;  // the chunk being written
  std::uint64_t next_id_ = 1;
  std::uint64_t events_sent_ = 0;
  clock_type::time_point next_event_at_{};
  clock_type::time_point last_write_at_{};
  bool counted_ = false;
  bool closed_ = false;
  std::shared_ptr<event_server::state> server_;
};

void do_accept(std::shared_ptr<event_server::state> server)
{
  // Each connection on a strand of its own: its handlers never run at once,
  // whatever number of threads runs the io_context.
  server->acceptor.async_accept(net::make_strand(server->ioc), [server](beast::error_code ec, tcp::socket socket) {
    if (!server->acceptor.is_open()) return;  // the server is being destroyed
    if (!ec) std::make_shared<session>(std::move(socket), server)->run();
    do_accept(server);
  });
}

} // namespace

event_server::event_server(net::io_context& ioc, tcp::endpoint listen_on, stream_options options)
    : state_(std::make_shared<state>(ioc, listen_on, std::move(options)))
{
}

event_server::~event_server()
{
  beast::error_code ignored;
  state_->acceptor.close(ignored);
}

void event_server::start()
{
  auto& a = state_->acceptor;
  a.open(state_->endpoint.protocol());
  a.set_option(net::socket_base::reuse_address(true));
  a.bind(state_->endpoint);
  a.listen(net::socket_base::max_listen_connections);
  state_->endpoint = a.local_endpoint();
  net::dispatch(a.get_executor(), [s = state_] { do_accept(s); });
}

tcp::endpoint event_server::local_endpoint() const { return state_->endpoint; }

std::size_t event_server::open_streams() const { return state_->open_streams.load(); }

} // namespace task14
