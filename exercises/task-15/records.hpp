// Task 15 · the contract between your streaming server, the tests and the
// reference. Do not change this file: the tests are compiled against it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

namespace task15 {

namespace net = boost::asio;

// ---------------------------------------------------------------- the records

// One record of a stream. On the wire it is the JSON object
//
//   {"id": <id>, "name": "<name>", "value": <value>}
//
// with exactly these three members (in any order, with any whitespace
// between the tokens): `id` and `value` as integers in decimal, exactly as
// the types hold them (-9223372036854775808 included: never through a
// double), `name` as a JSON string that decodes to exactly these bytes. A
// name is valid UTF-8 and may hold anything, so the escapes RFC 8259 §7
// demands are yours to write: `"` and `\`, and every byte below 0x20
// (`\n`, `\t` or `\u000a`, `\u0009`; `\u0000` for a NUL). Nothing else needs
// escaping; escaping more (`\u00e9`, `\/`) is allowed, as long as the
// string decodes to the same bytes.
struct record {
  std::uint64_t id = 0;
  std::string name;
  std::int64_t value = 0;

  friend bool operator==(record const&, record const&) = default;
};

// Record i of the workbook's streams: the same i gives the same record in
// every call, every process and every build, so a client can check each
// record it receives. Mostly {"id": i, "name": "record-i", "value": ...},
// with, now and then, names that must be escaped (quotes, backslashes,
// control characters), names beyond ASCII, and the extreme values of int64.
inline record make_record(std::uint64_t i)
{
  record r;
  r.id = i;

  // The value: spread over -1000000 to 1000000, and int64's extremes in
  // records 500 and 501 of every thousand.
  if (i % 1000 == 500) r.value = std::numeric_limits<std::int64_t>::min();
  else if (i % 1000 == 501) r.value = std::numeric_limits<std::int64_t>::max();
  else r.value = static_cast<std::int64_t>((i * 2654435761u) % 2000001) - 1000000;

  // The name: "record-" and i, or for some i another text before i.
  std::string_view prefix = "record-";
  switch (i % 16) {
  case 5: prefix = "say \"hi\" to #"; break;                        // quotes
  case 9: prefix = "C:\\records\\"; break;                          // backslashes
  case 13: prefix = "tab\there\nnewline\r\b\f\x01\x1f\x7f #"; break;  // control characters, and DEL (not one)
  case 3:
    prefix = i % 32 == 3 ? "caf\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80 #"  // "café ☃ 😀 #": 2, 3 and 4 bytes
                         : "</script><b>&amp;</b> #";                  // HTML's specials: nothing to JSON
    break;
  }
  char name[64];
  std::memcpy(name, prefix.data(), prefix.size());
  char* const p = std::to_chars(name + prefix.size(), name + sizeof name, i).ptr;
  r.name.assign(name, static_cast<std::size_t>(p - name));
  return r;
}

// Where a server's records come from: record i of every stream it writes.
// The default is make_record; the tests pass their own, which hands out
// make_record(i) too, but counts the calls and can make one of them wait.
//
// The server calls it once for each record it writes, in order, i = 0 to
// n-1, when that record's turn comes to be written, and at no other time.
// It may call it on any thread that runs the io_context, for several
// connections at once; a call may block for a while (the tests' does, on
// purpose, in one test). It never throws.
using record_source = std::function<record(std::uint64_t i)>;

// ---------------------------------------------------------------- the limits

// The most records one request may ask for.
inline constexpr std::uint64_t max_records = 10'000'000;

// Records are produced and written in batches of at most this many.
inline constexpr std::size_t batch_records = 1000;

struct server_options {
  // A stream's writes, each in turn: a write that makes no progress for
  // this long (the client has stopped reading, and the socket's buffers are
  // full) ends the connection, the stream unfinished. A client that keeps
  // reading is never cut off, however long the whole stream takes.
  std::chrono::milliseconds stall_timeout = std::chrono::seconds(30);
};

// ---------------------------------------------------------------- the server

// An HTTP/1.1 server that streams records:
//
//   GET /records?n=N
//   GET /records?n=N&format=F      (the parameters in any order)
//     N  required: decimal digits only (no sign, space, point, exponent or
//        0x), from 0 to max_records
//     F  optional: json (the default) or ndjson, in lower case
//     Any other parameter is ignored.
//
//   -> 200, `Transfer-Encoding: chunked` and no Content-Length, and
//      for json:    `Content-Type: application/json`; the body is one JSON
//                   array of the N records, element i being source(i):
//                   [{"id":0,...},{"id":1,...}]  (N = 0: an empty array)
//      for ndjson:  `Content-Type: application/x-ndjson`; the body is N
//                   lines, line i being source(i) as one JSON object,
//                   every line ending in "\n" (the last one too), and
//                   nothing else (N = 0: an empty body)
//      (either Content-Type may carry a charset parameter). After the last
//      chunk the connection serves the next request, unless the request
//      said `Connection: close`.
//
//   A bad parameter is a 400, n checked first, then format, with
//   `Content-Type: application/json` and the body
//     {"error": "<what is wrong, for a person to read>", "parameter": "n"}
//   ("format" for a bad format): n missing or empty, not digits only, or
//   over max_records (a number too large for 64 bits included); a format
//   other than json and ndjson. Any other path is a 404 with a JSON body
//   {"error": "..."}; another method on /records a 405 with `Allow: GET`.
//   These answers have a Content-Length, and the connection stays open.
//
// How it streams:
//   - Lazily, in batches: source(i) is called when record i's batch is
//     produced, batches of at most batch_records, each written as soon as
//     it is produced; batch k+2 is produced only once batch k has been
//     written to the socket. So the client has the first records long
//     before the server produces the last, and the memory a stream holds
//     is a batch or two, whatever N (the tests allow the whole process
//     2 MiB of heap growth during a stream of 1,000,000 records).
//   - As fast as the client reads, no faster: while the client does not
//     read, the socket's buffers fill, the write waits, and nothing more is
//     produced.
//   - Until the client leaves: when it closes or resets the connection the
//     next write fails, the production stops there, and the session ends
//     (live_sessions() goes down). A write that makes no progress for
//     options.stall_timeout ends the connection the same way.
class records_server {
public:
  records_server(net::io_context& ioc,
                 net::ip::tcp::endpoint listen_on,   // port 0: any free port
                 record_source source = make_record,
                 server_options options = {});
  // Call it once nothing runs `ioc` any more.
  ~records_server();
  records_server(records_server const&) = delete;
  records_server& operator=(records_server const&) = delete;

  // Opens the listening socket and starts accepting; returns at once.
  // Whoever runs `ioc`, on one thread or several, serves the connections.
  void start();

  // Where the server listens; after start(), the real port.
  net::ip::tcp::endpoint local_endpoint() const;

  // How many sessions are alive: one more when a connection is accepted,
  // one fewer when its session object is destroyed. Safe to call from any
  // thread at any time.
  std::size_t live_sessions() const;

  // Yours to define in records.cpp: what the server keeps.
  struct state;

private:
  std::shared_ptr<state> state_;
};

} // namespace task15
