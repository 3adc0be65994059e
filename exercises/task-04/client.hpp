// Task 04 · the contract between your client, the tests and the reference.
// Do not change this file: the tests are compiled against it.
#pragma once

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace task04 {

struct response {
  // Empty on success; otherwise the failure as Beast or Asio reported it
  // (beast::error::timeout when a deadline passed).
  boost::system::error_code error;

  // The status code (200, 404, ...); 0 when no complete response arrived.
  int status = 0;

  // The whole body; empty when `error` is set.
  std::string body;
};

// The body of one response, read a piece at a time. client::open returns it
// once the status line and the header fields have arrived; the body is
// still on the connection, and the connection is busy until the body has
// been read to its end, or the reader gives up on it.
class body_reader {
public:
  // Yours to define in client.cpp: whatever a reader needs to keep.
  struct state;

  explicit body_reader(std::unique_ptr<state> s);
  body_reader(body_reader&&) noexcept;
  body_reader& operator=(body_reader&&) noexcept;  // gives up on the body it held, if unfinished
  ~body_reader();                                  // gives up on the body, if unfinished

  // The response's status code; 0 if no response header arrived (error() says why).
  int status() const;

  // Why the response could not be opened or its body read; empty otherwise.
  boost::system::error_code error() const;

  // The next piece of the body, at most `max` bytes (max > 0). Returns ""
  // once the body is complete (done() is then true) or when reading failed
  // (error() is then set). Blocks at most the client's timeout.
  std::string read_some(std::size_t max = 16 * 1024);

  // True once the whole body has been read.
  bool done() const;

private:
  std::unique_ptr<state> state_;
};

// An HTTP/1.1 client for one server that keeps its connection alive between
// requests, and reuses it only when that is safe: when the previous
// response was read to its very end and allowed the connection to persist.
//
//   host     an IP literal ("127.0.0.1"): the client resolves no names
//   timeout  the most any single call (get, post, open, read_some) blocks,
//            connecting included
//
// The constructor connects nothing. One request at a time: a body_reader
// must be finished or destroyed before the client's next request, and must
// not outlive the client. Not thread-safe.
class client {
public:
  client(std::string host, unsigned short port,
         std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~client();  // closes the kept connection, if any

  client(client const&) = delete;
  client& operator=(client const&) = delete;

  // GET `target` and read the whole response. If the request went out on a
  // kept connection and that connection failed before any byte of the
  // response came back (the server had closed it, say), the request is sent
  // once more on a new connection: GET is idempotent, so sending it twice
  // is safe. A failure on a new connection is returned as it is.
  response get(std::string const& target);

  // POST `body` (Content-Type: text/plain) to `target` and read the whole
  // response. Never sent twice: when it fails, whatever the connection,
  // the error is returned. The server may have acted on the first copy.
  response post(std::string const& target, std::string body);

  // GET `target` and return once the response header has arrived (kept
  // connections are reused, and a stale one is retried, as for get). The
  // body is left for the caller to read with body_reader::read_some.
  // Failures are reported through the reader's error(); open never throws
  // for them.
  body_reader open(std::string const& target);

  // Yours to define in client.cpp: whatever the client keeps.
  // Public only so that your helper functions and body_reader::state can name it.
  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace task04
