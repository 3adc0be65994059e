// Task 14 · the contract between your event-stream server, the tests and the
// reference. Do not change this file: the tests are compiled against it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace task14 {

namespace net = boost::asio;

// ---------------------------------------------------------------- the wire format

// One event as the server writes it: the event-stream format of the HTML
// standard ("Server-sent events", section 9.2), every line ended by a single
// "\n" (LF), nothing before the first field and nothing after the blank line:
//
//   id: <id>\n            the id in decimal, no leading zeros
//   data: <line>\n        one such line for each line of `data`, in order
//   \n                    the blank line that ends (dispatches) the event
//
// The lines of `data` are what lies between its line breaks, and a line
// break is any of "\r\n", "\n" or a lone "\r" (the three the standard's
// parser knows): data with k line breaks has k + 1 lines, some of them maybe
// empty, and each is written after "data: " exactly as it is. Empty data is
// one empty line ("data: \n"); "a\n" is the two lines "a" and "". A browser's
// EventSource then hands its onmessage handler the lines joined by "\n".
//
//   format_event(7, "tick")      == "id: 7\ndata: tick\n\n"
//   format_event(8, "a\r\nb\rc") == "id: 8\ndata: a\ndata: b\ndata: c\n\n"
std::string format_event(std::uint64_t id, std::string_view data);

// The heartbeat: a comment line (a line that begins with ':', which every
// client ignores) and the blank line, written when the stream has been quiet.
inline constexpr std::string_view heartbeat_comment = ": heartbeat\n\n";

// What event `id` says: its data, which may hold line breaks. Called once per
// event, on a thread that runs the io_context; calls for different streams
// may run at once on different threads. It must not block.
using event_source = std::function<std::string(std::uint64_t id)>;

// ---------------------------------------------------------------- the options

// What the server streams, how often, and its ordinary deadlines. The
// defaults are production's; the tests pass their own, scaled down to tens or
// hundreds of milliseconds.
struct stream_options {
  // One event per tick: a stream's first event goes out right after its head
  // (and the retry line, below), each next one no sooner than `tick` after
  // the one before it was handed to the socket, and promptly then.
  std::chrono::milliseconds tick = std::chrono::seconds(1);

  // When `heartbeat` has passed since the stream last finished writing
  // anything (an event, a comment) and no event is due, the server writes
  // heartbeat_comment. 0: never.
  std::chrono::milliseconds heartbeat = std::chrono::seconds(15);

  // When > 0, every stream begins with the line "retry: <milliseconds>\n"
  // and a blank line ("retry: 3000\n\n"), which tells an EventSource how long
  // to wait before it reconnects (3 s by default in browsers). 0: no such line.
  std::chrono::milliseconds retry{0};

  // The server's ordinary deadlines. request_timeout: reading a request,
  // from the connection's start or the end of the previous response.
  // write_timeout: writing an ordinary response, a stream's head, and each
  // single write of a stream (a chunk). No deadline covers a stream as a
  // whole: a stream lives as long as its client stays and reads.
  std::chrono::milliseconds request_timeout = std::chrono::seconds(10);
  std::chrono::milliseconds write_timeout = std::chrono::seconds(10);

  // After this many events, a stream ends: the server writes the last chunk
  // ("0\r\n\r\n") and closes the connection (a FIN, not a reset). A browser
  // then reconnects, with Last-Event-ID. 0: a stream never ends on its own.
  std::uint64_t close_after = 0;

  // The body of GET /: an HTML page (it may open an EventSource on /events).
  std::string page;

  // Where events come from. Empty: the server's clock, the time in UTC as
  // "2025-01-31T12:00:00Z".
  event_source data;
};

// ---------------------------------------------------------------- the server

// An HTTP/1.1 server of server-sent events.
//
//   GET /events   (a query string is ignored) the event stream:
//                 200 with `Content-Type: text/event-stream`,
//                 `Cache-Control: no-cache` and `Transfer-Encoding: chunked`
//                 (no Content-Length), the head sent at once; then the body,
//                 in which the retry line, every event and every heartbeat
//                 is one chunk of its own, written as soon as it is due, and
//                 nothing else is written.
//                 Ids: when the request has a `Last-Event-ID` whose value is
//                 a decimal number n (digits only, n < 2^64 - 1), the first
//                 event is n + 1; otherwise (no header, empty, "abc", "-3",
//                 "12x") it is 1. Each next event's id is one more. Every
//                 stream counts for itself: two streams never share a
//                 sequence.
//   GET /         200 `Content-Type: text/html; charset=utf-8` with
//                 options.page as the body (and a Content-Length).
//   anything else 404 (text/plain).
// Connections are kept alive as the client asks, except those that carried
// a stream, which end with it.
//
// A stream ends when its client goes: the server notices the client's FIN or
// reset at once, without waiting for its next write (the tests allow 250 ms
// while the next event is seconds away), closes the connection and frees
// everything the stream held. It ends too when a single write cannot finish
// within write_timeout (a client that stopped reading), when a write fails,
// and after close_after events. None of these is an error the server reports
// or that disturbs another stream.
//
// Any number of threads may run the io_context.
class event_server {
public:
  event_server(net::io_context& ioc,
               net::ip::tcp::endpoint listen_on,   // port 0: any free port
               stream_options options);
  // Call it once nothing runs `ioc` any more.
  ~event_server();
  event_server(event_server const&) = delete;
  event_server& operator=(event_server const&) = delete;

  // Opens the listening socket and starts accepting; returns at once.
  // Whoever runs `ioc` serves the connections.
  void start();

  // Where the server listens; after start(), the real port.
  net::ip::tcp::endpoint local_endpoint() const;

  // The streams that exist now: one is counted from the moment the server
  // decides to answer a GET /events until everything that served it (the
  // session, its socket, its timers) has been destroyed. Callable from any
  // thread at any time.
  std::size_t open_streams() const;

  // Yours to define in event_stream.cpp: what the server keeps.
  struct state;

private:
  std::shared_ptr<state> state_;
};

} // namespace task14
