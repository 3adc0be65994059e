// Task 05 · reference.
//
// Two halves with one mutex between them. The pool (which connections sit
// idle, for which origin, since when) is plain data behind `mutex`, touched
// only for the moment it takes to take or give back a connection. The I/O
// runs on one thread of the transport's own io_context; a caller of get()
// starts its operations there and waits for the result. A connection is
// owned by exactly one party at a time: the pool, or the one request using
// it. That ownership, handed over under the mutex, is what makes the
// transport safe for many threads; no lock is ever held across network I/O.
#include "transport.hpp"

#include <workbook/url.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

namespace task05 {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// Where a URL points, and the pool's key for it.
struct origin {
  std::string key;      // "http://127.0.0.1:8080": the scheme, and the host and port as connected to
  std::string host;     // the Host field: "127.0.0.1:8080"
  tcp::endpoint endpoint;
  std::string target;   // "/path?query"
};

// The URL is parsed by the workbook's one parser (workbook/url.hpp: http
// only, an IP literal, a port). The scheme is part of the key even though
// only one is spoken: an https connection to the same host and port is
// another connection entirely, and must never be handed to an http request.
beast::error_code parse_url(std::string_view url, origin& out)
{
  workbook::http_url u;
  if (auto ec = workbook::parse_http_url(url, u)) return ec;
  out.endpoint = u.endpoint;
  out.host = u.host;
  out.target = u.target;
  out.key = "http://" + out.host;
  return {};
}

struct connection {
  explicit connection(net::io_context& ioc) : stream(ioc) {}

  beast::tcp_stream stream;
  beast::flat_buffer buffer;  // bytes read but not parsed: they belong to this connection

  void close()
  {
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.close();
  }
};

struct idle_connection {
  std::unique_ptr<connection> conn;
  clock_type::time_point since;  // by the transport's clock
};

using parser_type = http::response_parser<http::string_body>;

} // namespace

struct transport::impl {
  transport_options options;

  // The I/O side. Every operation on a socket, closing included, runs on
  // io_thread: a stream is never touched by two threads at once, and a
  // pending timer's completion never races a caller.
  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work{net::make_work_guard(ioc)};
  std::thread io_thread;

  // The pool. Per key, oldest first: a list is in the order its
  // connections were given back, so expired ones are at the front and the
  // most recently used one, likeliest to be alive, is at the back.
  mutable std::mutex mutex;
  std::map<std::string, std::vector<idle_connection>, std::less<>> idle;
  std::size_t idle_total = 0;

  explicit impl(transport_options o) : options(std::move(o))
  {
    if (!options.clock) options.clock = [] { return clock_type::now(); };
    io_thread = std::thread([this] { ioc.run(); });
  }

  ~impl()
  {
    std::vector<std::unique_ptr<connection>> all;
    {
      std::lock_guard lock(mutex);
      for (auto& [key, list] : idle)
        for (auto& entry : list) all.push_back(std::move(entry.conn));
      idle.clear();
      idle_total = 0;
    }
    discard(std::move(all));
    work.reset();       // run() returns once the closes above have run
    io_thread.join();
  }

  // Closes connections on the I/O thread, and destroys them there.
  void discard(std::vector<std::unique_ptr<connection>> conns)
  {
    if (conns.empty()) return;
    net::post(ioc, [conns = std::move(conns)]() mutable {
      for (auto& c : conns) c->close();
      conns.clear();
    });
  }

  void discard(std::unique_ptr<connection> conn)
  {
    std::vector<std::unique_ptr<connection>> one;
    one.push_back(std::move(conn));
    discard(std::move(one));
  }

  // Moves the expired connections at the front of `list` to `out`.
  std::size_t take_expired(std::vector<idle_connection>& list, clock_type::time_point now,
                           std::vector<std::unique_ptr<connection>>& out)
  {
    auto const fresh = std::find_if(list.begin(), list.end(), [&](idle_connection const& e) {
      return now - e.since < options.idle_timeout;
    });
    auto const n = static_cast<std::size_t>(fresh - list.begin());
    for (auto it = list.begin(); it != fresh; ++it) out.push_back(std::move(it->conn));
    list.erase(list.begin(), fresh);
    idle_total -= n;
    return n;
  }

  // An idle connection for `key`, the most recently used one that is not
  // too old, or none. Fills in `info`.
  std::unique_ptr<connection> take_idle(std::string const& key, got_conn_info& info)
  {
    std::unique_ptr<connection> found;
    std::vector<std::unique_ptr<connection>> expired;
    {
      std::lock_guard lock(mutex);
      auto it = idle.find(key);
      if (it != idle.end()) {
        auto const now = options.clock();
        take_expired(it->second, now, expired);
        if (!it->second.empty()) {
          auto& newest = it->second.back();
          found = std::move(newest.conn);
          info.reused = true;
          info.idle_for = now - newest.since;
          it->second.pop_back();
          --idle_total;
        }
        if (it->second.empty()) idle.erase(it);
      }
    }
    discard(std::move(expired));  // outside the lock: closing is I/O
    return found;
  }

  // Gives a clean connection back to the pool, or closes it when the pool
  // is full. Per origin, the newcomer is refused (its origin already has
  // enough spare connections); across origins, the longest idle connection
  // anywhere makes room, so one busy origin cannot be starved by idle
  // connections to others (Go does the same).
  void give_back(std::string const& key, std::unique_ptr<connection> conn)
  {
    std::vector<std::unique_ptr<connection>> to_close;
    {
      std::lock_guard lock(mutex);
      auto& list = idle[key];
      if (list.size() >= options.max_idle_per_host) {
        to_close.push_back(std::move(conn));
      } else {
        list.push_back({std::move(conn), options.clock()});
        ++idle_total;
        while (idle_total > options.max_idle_total) {
          // Each list is oldest first, so the oldest overall heads some list.
          auto oldest = idle.end();
          for (auto it = idle.begin(); it != idle.end(); ++it)
            if (!it->second.empty() && (oldest == idle.end() || it->second.front().since < oldest->second.front().since))
              oldest = it;
          to_close.push_back(std::move(oldest->second.front().conn));
          oldest->second.erase(oldest->second.begin());
          --idle_total;
          if (oldest->second.empty()) idle.erase(oldest);
        }
      }
      if (auto it = idle.find(key); it != idle.end() && it->second.empty()) idle.erase(it);
    }
    discard(std::move(to_close));
  }

  // Runs start(done) on the I/O thread and blocks until it calls done(ec).
  // The promise is shared with the handler: the waiting thread may return
  // and unwind while set_value is still finishing on the I/O thread.
  template <class Start>
  beast::error_code on_io_thread(Start start)
  {
    auto promise = std::make_shared<std::promise<beast::error_code>>();
    auto result = promise->get_future();
    net::post(ioc, [start = std::move(start), promise]() mutable {
      start([promise](beast::error_code ec) { promise->set_value(ec); });
    });
    return result.get();
  }

  beast::error_code connect(connection& c, origin const& o, clock_type::time_point deadline)
  {
    return on_io_thread([&c, &o, deadline](auto done) {
      // Beast 1.81's tcp_stream misbehaves with a deadline already past.
      if (clock_type::now() >= deadline) return done(beast::error::timeout);
      c.stream.expires_at(deadline);
      c.stream.async_connect(o.endpoint, [done](beast::error_code ec) { done(ec); });
    });
  }

  beast::error_code exchange(connection& c, http::request<http::empty_body> const& request,
                             parser_type& parser, clock_type::time_point deadline)
  {
    return on_io_thread([&c, &request, &parser, deadline](auto done) {
      if (clock_type::now() >= deadline) return done(beast::error::timeout);
      c.stream.expires_at(deadline);
      http::async_write(c.stream, request, [&c, &parser, done](beast::error_code ec, std::size_t) {
        if (ec) return done(ec);
        http::async_read(c.stream, c.buffer, parser,
                         [done](beast::error_code ec, std::size_t) { done(ec); });
      });
    });
  }
};

transport::transport(transport_options options) : impl_(std::make_unique<impl>(std::move(options))) {}

transport::~transport() = default;

response transport::get(std::string const& url)
{
  auto& self = *impl_;
  response result;
  origin o;
  if (auto ec = parse_url(url, o)) {
    result.error = ec;
    return result;
  }
  // The request's deadline is real time: it bounds how long a caller
  // waits, and the sockets know no other clock. The injected clock is for
  // the pool's bookkeeping only.
  auto const deadline = clock_type::now() + self.options.request_timeout;

  got_conn_info info;
  info.key = o.key;
  auto conn = self.take_idle(o.key, info);
  if (!conn) {
    conn = std::make_unique<connection>(self.ioc);
    if (auto ec = self.connect(*conn, o, deadline)) {
      self.discard(std::move(conn));
      result.error = ec;
      return result;
    }
  }

  if (self.options.on_got_conn) {
    try {
      self.options.on_got_conn(info);
    } catch (...) {
      self.discard(std::move(conn));
      throw;
    }
  }

  http::request<http::empty_body> request{http::verb::get, o.target, 11};
  request.set(http::field::host, o.host);
  request.set(http::field::user_agent, "workbook-task-05");
  parser_type parser;
  auto const ec = self.exchange(*conn, request, parser, deadline);

  // Task 04's rule: only a connection at the very start of the next
  // response may go back to the pool.
  bool const reusable = !ec && parser.is_done() && parser.keep_alive() && conn->buffer.size() == 0;
  if (reusable) self.give_back(o.key, std::move(conn));
  else self.discard(std::move(conn));

  if (ec) {
    result.error = ec;
    return result;
  }
  result.status = static_cast<int>(parser.get().result_int());
  result.body = std::move(parser.get().body());
  return result;
}

std::size_t transport::idle_connections() const
{
  std::lock_guard lock(impl_->mutex);
  return impl_->idle_total;
}

std::size_t transport::idle_connections(std::string const& key) const
{
  std::lock_guard lock(impl_->mutex);
  auto const it = impl_->idle.find(key);
  return it == impl_->idle.end() ? 0 : it->second.size();
}

std::size_t transport::close_expired_idle()
{
  std::vector<std::unique_ptr<connection>> expired;
  std::size_t n = 0;
  {
    std::lock_guard lock(impl_->mutex);
    auto const now = impl_->options.clock();
    for (auto it = impl_->idle.begin(); it != impl_->idle.end();) {
      n += impl_->take_expired(it->second, now, expired);
      it = it->second.empty() ? impl_->idle.erase(it) : std::next(it);
    }
  }
  impl_->discard(std::move(expired));
  return n;
}

} // namespace task05
