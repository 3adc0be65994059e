// Task 05 · the contract between your transport, the tests and the reference.
// Do not change this file: the tests are compiled against it.
#pragma once

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace task05 {

using clock_type = std::chrono::steady_clock;

// What a request learns about the connection it got: the counterpart of
// Go's httptrace.GotConnInfo.
struct got_conn_info {
  // The origin the connection belongs to: "http://127.0.0.1:8080", always
  // with the port.
  std::string key;

  // True when the connection came from the idle pool (it has carried a
  // request before); false when it was opened for this request.
  bool reused = false;

  // How long it sat in the pool, by the transport's clock; zero when new.
  clock_type::duration idle_for{};
};

struct transport_options {
  // Idle connections kept per origin; a connection given back when its
  // origin already has this many is closed. 0 keeps none.
  std::size_t max_idle_per_host = 2;

  // Idle connections kept in all; 0 keeps none.
  std::size_t max_idle_total = 100;

  // A connection idle for this long or longer (by `clock`) is never handed
  // out again, and is closed.
  clock_type::duration idle_timeout = std::chrono::seconds(90);

  // The most one get() takes: connecting, writing and reading included.
  std::chrono::milliseconds request_timeout = std::chrono::seconds(5);

  // Where the transport's time comes from: idle times and the idle timeout
  // are measured with it, and with nothing else. Tests pass a manual clock.
  std::function<clock_type::time_point()> clock = [] { return clock_type::now(); };

  // Called once per get(), on the thread calling get(), after the request
  // has a connection and before it is written. May be empty. Called from
  // many threads at once when get() is.
  std::function<void(got_conn_info const&)> on_got_conn;
};

struct response {
  // Empty on success; otherwise the failure as Asio or Beast reported it.
  // A URL that is malformed or whose scheme is not "http" is an error
  // too, and nothing is connected for it.
  boost::system::error_code error;

  int status = 0;    // 0 when no complete response arrived
  std::string body;  // the whole body; empty when `error` is set
};

// An HTTP/1.1 client that keeps idle connections, per origin (scheme, host
// and port), for later requests: a pool with limits, Go's http.Transport in
// miniature. Safe for use by any number of threads at once.
class transport {
public:
  explicit transport(transport_options options = {});
  ~transport();  // closes every idle connection; no get() may be running

  transport(transport const&) = delete;
  transport& operator=(transport const&) = delete;

  // GET `url`, "http://IP:PORT/target" with an IP literal (no names are
  // resolved), and read the whole response. Uses an idle connection to the
  // origin if one is there and not too old, else opens one; gives the
  // connection back to the pool afterwards if it can carry another request.
  // Blocks the calling thread.
  response get(std::string const& url);

  // Idle connections in the pool: in all, and for one origin (its key, as
  // in got_conn_info: "http://127.0.0.1:8080").
  std::size_t idle_connections() const;
  std::size_t idle_connections(std::string const& key) const;

  // Closes every idle connection that has been idle for idle_timeout or
  // longer by the clock, in every origin; returns how many it closed.
  // (A program calls it from a timer; tests call it after moving the clock.)
  std::size_t close_expired_idle();

  // Yours to define in transport.cpp: whatever the transport keeps.
  // Public only so that your helper functions can name it.
  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace task05
