// Task 12 · test helpers: your proxy on 127.0.0.1 (port 0), backends that
// record what reached them, and, for the streaming tests, a client and a
// backend that move bodies of any size through fixed buffers, keep none of
// them, and check every byte against a pattern.
#pragma once

#include "proxy.hpp"

#include <workbook/eventually.hpp>
#include <workbook/header_values.hpp>
#include <workbook/http.hpp>
#include <workbook/io_threads.hpp>
#include <workbook/sanitizers.hpp>
#include <workbook/test_server.hpp>
#include <workbook/transcript.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace task12_test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

// ---------------------------------------------------------------- sizes


inline constexpr std::uint64_t MiB = 1024 * 1024;

// The bodies the streaming tests send through the proxy, and how far one
// end may get ahead of the other while the far end stops reading: through
// a proxy that reads a piece only once it has written the last, no further
// than the kernel's socket buffers on the proxy's two sockets allow (on
// loopback here about 9 MiB were measured, of 16 MiB received and 4 MiB
// queued to send at most), never the whole body.
//
// A sanitizer makes every copy several times slower, so there the bodies
// are scaled down (WORKBOOK_SANITIZED); what the tests prove does not depend
// on the size, as long as it is far above the heap bound and the body is
// larger than the ahead bound. The dev build sends the seed's 100 MB.
#ifdef WORKBOOK_SANITIZED
inline constexpr std::uint64_t big_response_bytes = 40'000'000;
inline constexpr std::uint64_t download_ahead_bound = 24 * MiB;
inline constexpr std::uint64_t chunked_response_bytes = 16 * MiB;
inline constexpr std::uint64_t upload_bytes = 24 * MiB;
#else
inline constexpr std::uint64_t big_response_bytes = 100'000'000;
inline constexpr std::uint64_t download_ahead_bound = 48 * MiB;
inline constexpr std::uint64_t chunked_response_bytes = 32 * MiB;
inline constexpr std::uint64_t upload_bytes = 48 * MiB;
#endif
inline constexpr std::uint64_t upload_ahead_bound = upload_bytes * 2 / 3;

// What the whole test process may gain on the heap while one of those
// bodies goes through: the proxy's buffers, the test's own (a 64 KiB piece
// on each side) and the transcript (at most 256 KiB); the reference's
// streams gain about 0.6 MiB. A proxy that holds a body, or queues pieces
// faster than it can write them, needs tens of megabytes.
inline constexpr std::size_t heap_bound = 4 * MiB;

// The test client's and the upload backend's receive buffers: small, so
// that the room between the two ends is mostly the proxy's.
inline constexpr int small_receive_buffer = 256 * 1024;

// ---------------------------------------------------------------- the proxy

// Your proxy on 127.0.0.1, port 0, its io_context run by `threads` threads.
// Destroyed bottom-up: the threads stop before the proxy goes.
struct running_proxy {
  explicit running_proxy(task12::proxy_options options, int threads = 2)
      : proxy(ioc, {net::ip::make_address("127.0.0.1"), 0}, options)
  {
    proxy.start();
    io.emplace(ioc, threads);
  }
  ~running_proxy() { io.reset(); }

  unsigned short port() const { return proxy.local_endpoint().port(); }

  net::io_context ioc;
  task12::reverse_proxy proxy;
  std::optional<workbook::io_threads> io;
};

inline task12::proxy_options options_for(unsigned short backend_port, milliseconds backend_timeout = 2000ms)
{
  task12::proxy_options options;
  options.backend = {net::ip::make_address("127.0.0.1"), backend_port};
  options.backend_timeout = backend_timeout;
  options.client_timeout = 5000ms;
  options.buffer_size = 64 * 1024;
  return options;
}

// ---------------------------------------------------------------- headers

using workbook::values_of;

inline std::string show(workbook::header_list const& headers)
{
  std::string out;
  for (auto const& [k, v] : headers) out += k + ": " + v + "\n";
  return out;
}

// True when a comma-separated field value has `token` among its tokens.
inline bool has_token(std::string_view value, std::string_view token)
{
  for (auto const t : http::token_list{value})
    if (beast::iequals(t, token)) return true;
  return false;
}

// ---------------------------------------------------------------- recording backend

// What a backend saw: every request, in order.
struct seen_requests {
  std::mutex mutex;
  std::vector<workbook::request> list;

  std::vector<workbook::request> snapshot()
  {
    std::lock_guard lock(mutex);
    return list;
  }
  std::vector<std::string> targets()
  {
    std::vector<std::string> out;
    for (auto const& r : snapshot()) out.push_back(r.target);
    return out;
  }
};

// A keep-alive test server that records each request and answers 200 with
// the body "<METHOD> <target>" and the field X-Backend-Saw: <target>.
inline workbook::test_server recording_backend(std::shared_ptr<seen_requests> seen)
{
  return workbook::test_server::serving([seen](workbook::request const& req) {
    {
      std::lock_guard lock(seen->mutex);
      seen->list.push_back(req);
    }
    workbook::response res;
    res.status = 200;
    res.headers = {{"Content-Type", "text/plain"}, {"X-Backend-Saw", req.target}};
    res.body = req.method + " " + req.target;
    return res;
  });
}

// A backend that answers every request with the same bytes.
inline workbook::test_server raw_backend(std::string reply)
{
  return workbook::test_server::scripted([reply = std::move(reply)](workbook::peer& p) {
    while (!p.read_request().empty())
      if (!p.write(reply)) return;
  });
}

// "GET <target> HTTP/1.1" with a Host, and `more` (whole lines, each ending in \r\n).
inline std::string get_request(std::string_view target, std::string_view more = {})
{
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + std::string(more) + "\r\n";
}

// ---------------------------------------------------------------- the pattern

// Every streamed body is the same pattern: byte k is pattern_byte(k). Its
// period, 65521, is a prime, so no piece size a proxy might use lines up
// with it: a piece lost, sent twice or out of order shows up as a mismatch.
inline constexpr std::size_t pattern_period = 65521;

// Twice the period, so that the pattern from any offset is contiguous for
// one whole period. Static storage: it is not on the heap the tests measure.
inline char const* pattern_table()
{
  static std::array<char, 2 * pattern_period> const table = [] {
    std::array<char, 2 * pattern_period> t{};
    std::uint32_t x = 2463534242u;
    for (std::size_t i = 0; i < pattern_period; ++i) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      t[i] = t[i + pattern_period] = static_cast<char>(x & 0xff);
    }
    return t;
  }();
  return table.data();
}

// The pattern from `offset` on, at most one period of it.
inline std::string_view pattern_at(std::uint64_t offset, std::size_t n)
{
  return {pattern_table() + offset % pattern_period, std::min<std::size_t>(n, pattern_period)};
}

// True when `data` is the pattern from `offset` on.
inline bool matches_pattern(std::uint64_t offset, std::string_view data)
{
  while (!data.empty()) {
    auto const expected = pattern_at(offset, data.size());
    if (data.substr(0, expected.size()) != expected) return false;
    data.remove_prefix(expected.size());
    offset += expected.size();
  }
  return true;
}

// ---------------------------------------------------------------- a download backend

// Shared by a pattern_source backend and the test. The backend holds its
// last piece back until the client has seen the first bytes (or 3 s pass):
// a proxy that forwards nothing before the body is complete cannot pass.
struct source_progress {
  std::atomic<std::uint64_t> sent{0};       // body bytes the backend has handed to its socket
  std::atomic<bool> waited_for_client{false};
  std::atomic<bool> client_first_before_last{false};

  void client_has_first_bytes()
  {
    std::lock_guard lock(mutex_);
    client_saw_first_ = true;
    cv_.notify_all();
  }
  bool wait_for_client(milliseconds within)
  {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, within, [this] { return client_saw_first_; });
  }

private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool client_saw_first_ = false;
};

// A backend that answers one request with `size` bytes of the pattern,
// with a Content-Length or chunked, written a period at a time from static
// memory: it holds none of the body itself.
inline workbook::test_server::script pattern_source(std::shared_ptr<source_progress> progress, std::uint64_t size,
                                                   bool chunked)
{
  return [progress, size, chunked](workbook::peer& p) {
    if (p.read_request().empty()) return;
    std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n";
    head += chunked ? "Transfer-Encoding: chunked\r\n\r\n" : "Content-Length: " + std::to_string(size) + "\r\n\r\n";
    if (!p.write(head)) return;
    auto write_piece = [&](std::string_view piece) {
      if (!chunked) return p.write(piece);
      char line[32];
      int const n = std::snprintf(line, sizeof line, "%zx\r\n", piece.size());
      return p.write({line, static_cast<std::size_t>(n)}) && p.write(piece) && p.write("\r\n");
    };
    std::uint64_t sent = 0;
    while (size - sent > pattern_period) {
      if (!write_piece(pattern_at(sent, pattern_period))) return;
      sent += pattern_period;
      progress->sent = sent;
    }
    // The last piece waits for the client's first bytes.
    progress->waited_for_client = true;
    progress->client_first_before_last = progress->wait_for_client(3000ms);
    if (!write_piece(pattern_at(sent, static_cast<std::size_t>(size - sent)))) return;
    progress->sent = size;
    if (chunked) p.write("0\r\n\r\n");
    p.hold();
  };
}

// ---------------------------------------------------------------- a streaming client

// One client connection that sends what it is given and reads a response's
// body a piece at a time into a fixed 64 KiB buffer, keeping none of it.
// Each operation runs on a private io_context with its own deadline, as the
// harness's clients do, so every wait is bounded.
class streaming_client {
public:
  explicit streaming_client(unsigned short port, milliseconds timeout = 5000ms, int receive_buffer = 0)
      : timeout_(timeout), stream_(ioc_), piece_(64 * 1024), id_(workbook::transcript::open_connection())
  {
    beast::error_code ec;
    stream_.socket().open(tcp::v4(), ec);
    // A receive buffer set before connecting keeps the kernel from growing it.
    if (!ec && receive_buffer > 0) stream_.socket().set_option(net::socket_base::receive_buffer_size(receive_buffer), ec);
    ec = run([&](auto handler) {
      stream_.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), std::move(handler));
    });
    connected_ = !ec;
    if (connected_) {
      beast::error_code ignored;
      workbook::transcript::register_client_port(stream_.socket().local_endpoint(ignored).port());
      workbook::transcript::note(id_, "connected to 127.0.0.1:" + std::to_string(port));
    } else {
      workbook::transcript::note(id_, "connect to 127.0.0.1:" + std::to_string(port) + " failed: " + ec.message());
    }
    parser_.body_limit(boost::none);
    buffer_.reserve(piece_.size());  // reads as large as a piece (beast::read_size)
  }

  bool connected() const { return connected_; }

  // Sends all of `bytes`; the transcript shows them (keep that for headers).
  bool send(std::string_view bytes)
  {
    workbook::transcript::record(id_, workbook::transcript::direction::sent, bytes);
    return send_quietly(bytes);
  }

  // Sends all of `bytes` without recording them: for bodies.
  bool send_quietly(std::string_view bytes)
  {
    if (!connected_) return false;
    auto const ec = run([&](auto handler) { net::async_write(stream_, net::buffer(bytes.data(), bytes.size()), std::move(handler)); });
    if (ec) {
      error_ = ec;
      workbook::transcript::note(id_, "send failed: " + describe(ec));
      return false;
    }
    return true;
  }

  // Reads the response's status line and fields.
  bool read_header()
  {
    auto const ec = run([&](auto handler) { http::async_read_header(stream_, buffer_, parser_, std::move(handler)); });
    if (ec) {
      error_ = ec;
      workbook::transcript::note(id_, "no response header: " + describe(ec));
      return false;
    }
    auto const& msg = parser_.get();
    status_ = static_cast<int>(msg.result_int());
    for (auto const& f : msg) headers_.emplace_back(std::string(f.name_string()), std::string(f.value()));
    std::ostringstream head;
    head << msg.base();
    workbook::transcript::record(id_, workbook::transcript::direction::received, head.str());
    return true;
  }

  int status() const { return status_; }
  workbook::header_list const& headers() const { return headers_; }
  std::optional<std::string> header(std::string_view name) const
  {
    auto const v = values_of(headers_, name);
    if (v.empty()) return std::nullopt;
    return v.front();
  }

  // The next piece of the body (a view of the client's buffer, valid until
  // the next call). Empty once the body is complete (done()) or when reading
  // failed (error(): the connection's end, a reset, or a timeout).
  std::string_view read_some()
  {
    while (!parser_.is_done() && !error_) {
      auto& body = parser_.get().body();
      body.data = piece_.data();
      body.size = piece_.size();
      auto ec = run([&](auto handler) { http::async_read_some(stream_, buffer_, parser_, std::move(handler)); });
      if (ec == http::error::need_buffer) ec = {};
      std::size_t const got = piece_.size() - body.size;
      body_bytes_ += got;
      if (ec) {
        error_ = ec;
        workbook::transcript::note(id_, "the body ended after " + std::to_string(body_bytes_) +
                                            " bytes: " + describe(ec));
      }
      if (got > 0) return {piece_.data(), got};
    }
    return {};
  }

  // Reads the rest of the body, checking it against the pattern from
  // `offset` on; returns false at the first mismatch.
  bool read_pattern(std::uint64_t& offset)
  {
    for (;;) {
      auto const piece = read_some();
      if (piece.empty()) return true;
      if (!matches_pattern(offset, piece)) {
        workbook::transcript::note(id_, "body byte " + std::to_string(offset) + " on is not what the backend sent");
        return false;
      }
      offset += piece.size();
    }
  }

  // Reads the rest of a (small) body into a string.
  std::string read_rest()
  {
    std::string out;
    for (auto piece = read_some(); !piece.empty(); piece = read_some()) out.append(piece);
    return out;
  }

  bool done() const { return parser_.is_done(); }
  beast::error_code error() const { return error_; }
  std::uint64_t body_bytes() const { return body_bytes_; }

  void close()
  {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  static std::string describe(beast::error_code ec)
  {
    if (ec == beast::error::timeout) return "nothing arrived for as long as the test waits (the deadline passed)";
    if (ec == http::error::partial_message) return "the connection closed in the middle of the body";
    if (ec == http::error::end_of_stream || ec == net::error::eof) return "the connection closed";
    return ec.message();
  }

private:
  template <class Start>
  beast::error_code run(Start start)
  {
    beast::error_code result = net::error::would_block;
    stream_.expires_after(timeout_);
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc_.restart();
    ioc_.run();
    return result;
  }

  milliseconds timeout_;
  net::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::response_parser<http::buffer_body> parser_;
  std::vector<char> piece_;
  int id_;
  bool connected_ = false;
  beast::error_code error_;
  int status_ = 0;
  workbook::header_list headers_;
  std::uint64_t body_bytes_ = 0;
};

// ---------------------------------------------------------------- an upload backend

// A backend that reads request bodies a piece at a time through a fixed
// 64 KiB buffer, keeps none of them, and checks them against the pattern;
// it answers each request 200 "received N bytes". It runs its own
// io_context on its own thread, and stops and joins it when destroyed.
class upload_sink {
public:
  struct report {
    std::string method;
    std::string target;
    workbook::header_list headers;
    std::uint64_t body_bytes = 0;
    bool pattern_ok = true;
    bool complete = false;  // the body reached the end its framing announced
    std::string error;
  };

  upload_sink() : shared_(std::make_shared<shared>()), acceptor_(ioc_)
  {
    tcp::endpoint const ep(net::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    // Inherited by every accepted socket: little room on the backend's side.
    acceptor_.set_option(net::socket_base::receive_buffer_size(small_receive_buffer));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~upload_sink()
  {
    ioc_.stop();
    thread_.join();
  }
  upload_sink(upload_sink const&) = delete;
  upload_sink& operator=(upload_sink const&) = delete;

  unsigned short port() const { return port_; }
  std::uint64_t received() const { return shared_->received; }
  bool first_bytes_seen() const { return shared_->first_seen; }

  // Runs on the backend's thread, once, right after the first piece of a
  // body has been read; the backend reads nothing more until it returns.
  // Set it before any request arrives; it must only touch what is safe to
  // touch from another thread.
  void on_first_piece(std::function<void()> hook)
  {
    std::lock_guard lock(shared_->mutex);
    shared_->hook = std::move(hook);
  }

  // The requests whose bodies have ended (completely or not), in order.
  std::vector<report> reports() const
  {
    std::lock_guard lock(shared_->mutex);
    return shared_->reports;
  }

private:
  struct shared {
    mutable std::mutex mutex;
    std::vector<report> reports;
    std::atomic<std::uint64_t> received{0};
    std::atomic<bool> first_seen{false};
    std::function<void()> hook;
  };

  class session : public std::enable_shared_from_this<session> {
  public:
    session(tcp::socket socket, std::shared_ptr<shared> s)
        : stream_(std::move(socket)), shared_(std::move(s)), piece_(64 * 1024)
    {
      buffer_.reserve(piece_.size());  // reads as large as a piece (beast::read_size)
    }

    void read_header()
    {
      parser_.emplace();
      parser_->body_limit(boost::none);
      report_ = {};
      offset_ = 0;
      stream_.expires_after(5s);
      http::async_read_header(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec) return;
        auto const& msg = self->parser_->get();
        self->report_.method = std::string(msg.method_string());
        self->report_.target = std::string(msg.target());
        for (auto const& f : msg) self->report_.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
        self->read_body();
      });
    }

  private:
    void read_body()
    {
      if (parser_->is_done()) return finish();
      auto& body = parser_->get().body();
      body.data = piece_.data();
      body.size = piece_.size();
      stream_.expires_after(5s);
      http::async_read_some(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        self->on_piece(ec);
      });
    }

    void on_piece(beast::error_code ec)
    {
      if (ec == http::error::need_buffer) ec = {};
      std::size_t const got = piece_.size() - parser_->get().body().size;
      if (got > 0) {
        if (report_.pattern_ok && !matches_pattern(offset_, {piece_.data(), got})) report_.pattern_ok = false;
        offset_ += got;
        report_.body_bytes = offset_;
        shared_->received += got;
        if (!shared_->first_seen.exchange(true)) {
          std::function<void()> hook;
          {
            std::lock_guard lock(shared_->mutex);
            hook = shared_->hook;
          }
          if (hook) hook();
        }
      }
      if (ec) {
        report_.error = ec.message();
        std::lock_guard lock(shared_->mutex);
        shared_->reports.push_back(report_);
        return;
      }
      read_body();
    }

    void finish()
    {
      report_.complete = true;
      {
        std::lock_guard lock(shared_->mutex);
        shared_->reports.push_back(report_);
      }
      res_ = {http::status::ok, 11};
      res_.set(http::field::content_type, "text/plain");
      res_.body() = "received " + std::to_string(offset_) + " bytes\n";
      res_.keep_alive(parser_->keep_alive());
      res_.prepare_payload();
      stream_.expires_after(5s);
      http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec) return;
        if (self->res_.keep_alive()) return self->read_header();
        beast::error_code ignored;
        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      });
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::shared_ptr<shared> shared_;
    std::vector<char> piece_;
    std::optional<http::request_parser<http::buffer_body>> parser_;
    http::response<http::string_body> res_;
    report report_;
    std::uint64_t offset_ = 0;
  };

  void accept()
  {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;
      std::make_shared<session>(std::move(socket), shared_)->read_header();
      accept();
    });
  }

  std::shared_ptr<shared> shared_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::thread thread_;
};

// ---------------------------------------------------------------- chunks

// One chunk of a chunked body, written into `out` (which must have room
// for the data and 16 bytes more): its size line, the data, CRLF.
inline std::string_view make_chunk(std::vector<char>& out, std::string_view data)
{
  int const n = std::snprintf(out.data(), out.size(), "%zx\r\n", data.size());
  auto* p = out.data() + n;
  std::copy(data.begin(), data.end(), p);
  p += data.size();
  *p++ = '\r';
  *p++ = '\n';
  return {out.data(), static_cast<std::size_t>(p - out.data())};
}

} // namespace task12_test
