#include "live_events.hpp"
#include "text.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <deque>
#include <exception>

namespace grader::web {

namespace asio = boost::asio;
namespace beast = boost::beast;

std::string sse_event(std::string_view name, std::string_view data)
{
  std::string out = "event: " + std::string(name) + "\n";
  for (auto const& line : split_lines(data)) out += "data: " + line + "\n";
  return out + "\n";
}

// One browser's stream. Writes one message at a time from a queue; keeps a
// read pending, which completes only when the browser goes (it sends nothing
// after its request), and a heartbeat, whose write fails on a dead peer.
class event_stream : public std::enable_shared_from_this<event_stream> {
public:
  explicit event_stream(beast::tcp_stream stream) : stream_(std::move(stream)), heartbeat_(stream_.get_executor()) {}

  void start(std::string first)
  {
    stream_.expires_never();   // a stream lives as long as the page
    send("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
         "Connection: keep-alive\r\n\r\nretry: 2000\n\n" + first);
    notice_departure();
    beat();
  }

  void send(std::string message)
  {
    if (closed_) return;
    queue_.push_back(std::move(message));
    if (queue_.size() == 1) write_next();
  }

  void close()
  {
    if (closed_) return;
    closed_ = true;
    heartbeat_.cancel();
    beast::error_code ignored;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

private:
  void write_next()
  {
    asio::async_write(stream_, asio::buffer(queue_.front()),
                      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec)
  {
    if (ec) return close();
    queue_.pop_front();
    if (!queue_.empty()) write_next();
  }

  void notice_departure()
  {
    stream_.async_read_some(asio::buffer(scratch_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      self->notice_departure();   // bytes after the request: ignored
    });
  }

  void beat()
  {
    heartbeat_.expires_after(std::chrono::seconds(15));
    heartbeat_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->closed_) return;
      self->send(": still here\n\n");
      self->beat();
    });
  }

  beast::tcp_stream stream_;
  asio::steady_timer heartbeat_;
  std::deque<std::string> queue_;
  char scratch_[512];
  bool closed_ = false;
};

live_events::live_events(std::function<std::string(std::string const&)> render) : render_(std::move(render)) {}

live_verdict live_events::state(std::string const& task) const
{
  auto const it = state_.find(task);
  return it == state_.end() ? live_verdict{} : it->second;
}

void live_events::building(std::string const& task)
{
  state_[task].building = true;
  publish(task, sse_event("building", "building…"));
}

void live_events::graded(std::string const& task, verdict v)
{
  auto& s = state_[task];
  s.building = false;
  s.latest = std::move(v);
  publish(task, sse_event("verdict", rendered(task)));
}

void live_events::subscribe(std::string const& task, beast::tcp_stream stream)
{
  auto s = std::make_shared<event_stream>(std::move(stream));
  s->start(sse_event("verdict", rendered(task)));
  auto& list = streams_[task];
  std::erase_if(list, [](auto const& w) { return w.expired(); });
  list.push_back(s);
}

// The section as render_ draws it; if that throws (the progress file
// unreadable), a section that says so, rather than an exception out of the
// io_context's thread.
std::string live_events::rendered(std::string const& task) const
{
  try {
    return render_(task);
  } catch (std::exception const& e) {
    return "<section id=\"verdict\" data-state=\"error\"><h2>Verdict</h2><p class=\"fail\">" +
           markup_escaped(e.what()) + "</p></section>";
  }
}

void live_events::publish(std::string const& task, std::string const& event)
{
  auto& list = streams_[task];
  std::erase_if(list, [](auto const& w) { return w.expired(); });
  for (auto const& w : list)
    if (auto s = w.lock()) s->send(event);
}

void live_events::close_all()
{
  for (auto& [task, list] : streams_)
    for (auto const& w : list)
      if (auto s = w.lock()) s->close();
  streams_.clear();
}

} // namespace grader::web
