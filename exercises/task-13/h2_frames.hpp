// Task 13 · the contract between your HTTP/2 frame layer, the tests and the
// reference. Do not change this file: the tests are compiled against it.
//
// Three parts, none of which touches a socket: a decoder that turns the
// bytes of one direction of an HTTP/2 connection into frames, a printer
// that writes one line of trace per frame, and a sender that decides how
// much DATA the flow-control windows allow. The protocol is RFC 9113;
// every section number below is one of its sections.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace task13 {

// ---------------------------------------------------------------- the wire

// What a client sends before its first frame (§3.4): 24 bytes.
inline constexpr std::string_view client_preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

inline constexpr std::size_t frame_header_size = 9;

// SETTINGS_MAX_FRAME_SIZE: its initial value, and the largest allowed (§6.5.2).
inline constexpr std::uint32_t default_max_frame_size = 16384;
inline constexpr std::uint32_t largest_max_frame_size = (1u << 24) - 1;

// SETTINGS_INITIAL_WINDOW_SIZE's initial value, and the largest window (§6.9.1).
inline constexpr std::uint32_t default_initial_window_size = 65535;
inline constexpr std::int64_t max_window_size = 0x7fffffff;

// The frame types of §6. A frame of any other type is still a frame: it is
// decoded (its payload kept as it came) and must be ignored by whoever
// uses it (§5.5), so the type is stored as the byte that was sent.
enum class frame_type : std::uint8_t {
  data = 0x0,
  headers = 0x1,
  priority = 0x2,
  rst_stream = 0x3,
  settings = 0x4,
  push_promise = 0x5,
  ping = 0x6,
  goaway = 0x7,
  window_update = 0x8,
  continuation = 0x9,
};

// Flag bits. Their meaning depends on the frame type: 0x1 is END_STREAM on
// DATA and HEADERS, and ACK on SETTINGS and PING.
namespace flag {
inline constexpr std::uint8_t end_stream = 0x1;   // DATA, HEADERS
inline constexpr std::uint8_t ack = 0x1;          // SETTINGS, PING
inline constexpr std::uint8_t end_headers = 0x4;  // HEADERS, PUSH_PROMISE, CONTINUATION
inline constexpr std::uint8_t padded = 0x8;       // DATA, HEADERS, PUSH_PROMISE
inline constexpr std::uint8_t priority = 0x20;    // HEADERS
} // namespace flag

// SETTINGS identifiers (§6.5.2). Others may come; they are kept as sent.
namespace setting_id {
inline constexpr std::uint16_t header_table_size = 0x1;
inline constexpr std::uint16_t enable_push = 0x2;
inline constexpr std::uint16_t max_concurrent_streams = 0x3;
inline constexpr std::uint16_t initial_window_size = 0x4;
inline constexpr std::uint16_t max_frame_size = 0x5;
inline constexpr std::uint16_t max_header_list_size = 0x6;
} // namespace setting_id

// Error codes (§7), as sent in RST_STREAM and GOAWAY and as reported by
// the decoder.
enum class h2_error : std::uint32_t {
  no_error = 0x0,
  protocol_error = 0x1,
  internal_error = 0x2,
  flow_control_error = 0x3,
  settings_timeout = 0x4,
  stream_closed = 0x5,
  frame_size_error = 0x6,
  refused_stream = 0x7,
  cancel = 0x8,
  compression_error = 0x9,
  connect_error = 0xa,
  enhance_your_calm = 0xb,
  inadequate_security = 0xc,
  http_1_1_required = 0xd,
};

struct setting {
  std::uint16_t id = 0;
  std::uint32_t value = 0;
  friend bool operator==(setting const&, setting const&) = default;
};

// The priority fields of a PRIORITY frame, or of a HEADERS frame with the
// PRIORITY flag (§5.3.2, §6.3).
struct priority_fields {
  bool exclusive = false;         // the E bit
  std::uint32_t depends_on = 0;   // the stream dependency, 31 bits
  std::uint16_t weight = 16;      // 1 to 256: the byte on the wire, plus one
  friend bool operator==(priority_fields const&, priority_fields const&) = default;
};

// One decoded frame. The header's fields are as they were sent, except the
// reserved R bit, which is dropped from every 31-bit stream identifier and
// increment. The payload's fixed fields are decoded into the members below;
// `payload` holds what is left, with any Pad Length byte and padding and
// any priority fields taken out:
//   DATA                             the data
//   HEADERS, PUSH_PROMISE, CONTINUATION  the header block fragment
//   PING                             the 8 opaque bytes
//   GOAWAY                           the debug data
//   SETTINGS, WINDOW_UPDATE, RST_STREAM, PRIORITY   nothing (all decoded)
//   a type not in frame_type         the whole payload, as it came
struct frame {
  std::uint32_t length = 0;      // the Length field: the payload's size on the wire, padding included
  frame_type type = frame_type::data;
  std::uint8_t flags = 0;
  std::uint32_t stream_id = 0;

  std::string payload;

  std::uint8_t pad_length = 0;                   // PADDED: the Pad Length field; 0 otherwise
  std::optional<priority_fields> priority;       // PRIORITY frames; HEADERS with the PRIORITY flag
  std::vector<setting> settings;                 // SETTINGS: the entries, in the order sent
  std::uint32_t window_increment = 0;            // WINDOW_UPDATE
  std::uint32_t error_code = 0;                  // RST_STREAM, GOAWAY (see h2_error; others may come)
  std::uint32_t last_stream_id = 0;              // GOAWAY
  std::uint32_t promised_stream_id = 0;          // PUSH_PROMISE

  bool has(std::uint8_t f) const { return (flags & f) == f; }
  friend bool operator==(frame const&, frame const&) = default;
};

// ---------------------------------------------------------------- the decoder

// A rule of RFC 9113 that the bytes broke. Once the decoder has met one, the
// connection is over (a connection error, §5.4.1): the decoder reports the
// same error from then on.
struct frame_error {
  h2_error code = h2_error::protocol_error;  // the error code the RFC prescribes
  std::string section;                       // the section that states the rule: "6.5", "4.2", ...
  std::string message;                       // one sentence for a person: the rule, the frame, the numbers

  friend bool operator==(frame_error const&, frame_error const&) = default;
};

// The bytes fed so far hold no further whole frame: feed more.
struct need_more {
  friend bool operator==(need_more, need_more) = default;
};

using decode_result = std::variant<need_more, frame, frame_error>;

// Whose bytes a decoder reads.
enum class sender {
  client,  // the connection preface first, then frames
  server,  // frames from the first byte
};

// Turns one direction of a connection into frames. The bytes are fed in
// pieces of any size, down to single bytes, in order; feeding the same
// bytes cut differently yields the same results. next() never throws; no
// bytes whatever make it crash, read out of bounds or allocate without
// bound.
//
// What must come first (§3.4): from a client, the 24 bytes of
// client_preface, which next() consumes without yielding anything; then,
// from either side, a SETTINGS frame without ACK.
//
// The rules a frame is checked against, and what breaking each gives
// (code, section):
//   the preface differs from client_preface               PROTOCOL_ERROR      3.4
//   the first frame is not a SETTINGS without ACK          PROTOCOL_ERROR      3.4
//   Length above the max_frame_size this decoder enforces  FRAME_SIZE_ERROR    4.2
//   too short for its own fields: a PADDED frame without
//     room for Pad Length; HEADERS with PRIORITY under 5
//     bytes (after Pad Length); PUSH_PROMISE under 4 bytes
//     (after Pad Length); GOAWAY under 8 bytes             FRAME_SIZE_ERROR    4.2
//   DATA on stream 0                                       PROTOCOL_ERROR      6.1
//   DATA padding longer than what follows Pad Length       PROTOCOL_ERROR      6.1
//   HEADERS on stream 0                                    PROTOCOL_ERROR      6.2
//   HEADERS padding longer than what follows Pad Length
//     and the priority fields                              PROTOCOL_ERROR      6.2
//   PRIORITY on stream 0                                   PROTOCOL_ERROR      6.3
//   PRIORITY whose length is not 5                         FRAME_SIZE_ERROR    6.3
//   RST_STREAM on stream 0                                 PROTOCOL_ERROR      6.4
//   RST_STREAM whose length is not 4                       FRAME_SIZE_ERROR    6.4
//   SETTINGS on a stream other than 0                      PROTOCOL_ERROR      6.5
//   SETTINGS with ACK and a length other than 0            FRAME_SIZE_ERROR    6.5
//   SETTINGS whose length is not a multiple of 6           FRAME_SIZE_ERROR    6.5
//   ENABLE_PUSH other than 0 or 1                          PROTOCOL_ERROR      6.5.2
//   INITIAL_WINDOW_SIZE above 2^31-1                       FLOW_CONTROL_ERROR  6.5.2
//   MAX_FRAME_SIZE below 16384 or above 2^24-1             PROTOCOL_ERROR      6.5.2
//   PUSH_PROMISE on stream 0                               PROTOCOL_ERROR      6.6
//   PUSH_PROMISE padding longer than what follows Pad
//     Length and the promised stream id                    PROTOCOL_ERROR      6.6
//   PING on a stream other than 0                          PROTOCOL_ERROR      6.7
//   PING whose length is not 8                             FRAME_SIZE_ERROR    6.7
//   GOAWAY on a stream other than 0                        PROTOCOL_ERROR      6.8
//   WINDOW_UPDATE whose length is not 4                    FRAME_SIZE_ERROR    6.9
//   WINDOW_UPDATE with an increment of 0                   PROTOCOL_ERROR      6.9
//   CONTINUATION on stream 0                               PROTOCOL_ERROR      6.10
//   after a HEADERS or PUSH_PROMISE without END_HEADERS,
//     anything but a CONTINUATION on the same stream; or a
//     CONTINUATION that follows no such frame              PROTOCOL_ERROR      6.10
// (A frame that breaks several rules gets the error of one of them.)
//
// When an error is reported: a wrong preface as soon as its first wrong
// byte has been fed (an HTTP/1.1 request may be shorter than 24 bytes); a
// Length above max_frame_size as soon as the 9 bytes of the header have
// been fed, without waiting for a payload that may never come; any other
// no later than when the whole frame has been fed.
class frame_decoder {
public:
  // max_frame_size: the SETTINGS_MAX_FRAME_SIZE this endpoint advertised,
  // which the peer's frames must respect: 16384 to 2^24-1.
  explicit frame_decoder(sender from, std::uint32_t max_frame_size = default_max_frame_size);
  ~frame_decoder();
  frame_decoder(frame_decoder&&) noexcept;
  frame_decoder& operator=(frame_decoder&&) noexcept;

  // The next bytes of the connection, in order. The decoder keeps what it
  // needs of them; `bytes` need not outlive the call.
  void feed(std::string_view bytes);

  // The next frame, if the bytes fed so far hold it whole; need_more if
  // they do not (yet); the error, if they break a rule of the list above.
  // Call it until it says need_more, then feed more.
  decode_result next();

  // How many bytes have been fed and not yet consumed: the start of a frame
  // (or of the preface) that has not arrived whole. The decoder holds no
  // more than one frame's bytes and what was fed beyond them.
  std::size_t buffered() const;

  // Yours to define in h2_frames.cpp: what the decoder keeps between calls.
  struct state;

private:
  std::unique_ptr<state> state_;
};

// ---------------------------------------------------------------- the printer

// Which way a frame went, seen from the endpoint that writes the trace.
enum class direction { send, recv };

// One line of trace for one frame (no line break), in the spirit of Go's
// GODEBUG=http2debug=2 and of `nghttp -v`:
//
//   <send|recv> <TYPE> stream=<id>[ flags=<FLAGS>] len=<Length><details>
//
// TYPE: DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING,
//   GOAWAY, WINDOW_UPDATE, CONTINUATION; UNKNOWN_TYPE_<n> (decimal) for another.
// flags=: left out when flags is 0. The names of the bits set that the
//   frame's type defines, lowest bit first, joined by '|': DATA END_STREAM
//   0x1, PADDED 0x8; HEADERS END_STREAM 0x1, END_HEADERS 0x4, PADDED 0x8,
//   PRIORITY 0x20; SETTINGS and PING ACK 0x1; PUSH_PROMISE END_HEADERS 0x4,
//   PADDED 0x8; CONTINUATION END_HEADERS 0x4. Bits the type does not define
//   come last, together, as one lower-case hex number: 0x1|0x2 on a
//   WINDOW_UPDATE is flags=0x3, 0x43 on a DATA is flags=END_STREAM|0x42.
// details, each with one space before it:
//   DATA           data=<bytes of data>, then pad=<Pad Length> when PADDED
//   HEADERS        block=<fragment bytes>, then pad=<Pad Length> when PADDED,
//                  then the priority fields when it has them
//   PRIORITY       depends_on=<id> weight=<1-256> exclusive=<0|1>
//   RST_STREAM     error=<ERROR>
//   SETTINGS       settings=[<NAME>=<value> ...] (entries separated by one
//                  space; [] when there are none), left out with ACK
//   PUSH_PROMISE   promised=<id> block=<fragment bytes>, then pad=<..> when PADDED
//   PING           opaque=<the 8 bytes in 16 lower-case hex digits>
//   GOAWAY         last_stream=<id> error=<ERROR> debug="<debug data>"
//   WINDOW_UPDATE  incr=<increment>
//   CONTINUATION   block=<fragment bytes>
//   another type   nothing
// ERROR: NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR,
//   SETTINGS_TIMEOUT, STREAM_CLOSED, FRAME_SIZE_ERROR, REFUSED_STREAM,
//   CANCEL, COMPRESSION_ERROR, CONNECT_ERROR, ENHANCE_YOUR_CALM,
//   INADEQUATE_SECURITY, HTTP_1_1_REQUIRED; 0x<lower-case hex> for another.
// NAME: HEADER_TABLE_SIZE, ENABLE_PUSH, MAX_CONCURRENT_STREAMS,
//   INITIAL_WINDOW_SIZE, MAX_FRAME_SIZE, MAX_HEADER_LIST_SIZE;
//   UNKNOWN_SETTING_<id> (decimal) for another.
// debug data: bytes 0x20 to 0x7e as they are, except '"' and '\' which are
//   written \" and \\; every other byte as \x<two lower-case hex digits>.
//
// For example:
//   send SETTINGS stream=0 len=12 settings=[MAX_CONCURRENT_STREAMS=100 INITIAL_WINDOW_SIZE=65535]
//   send HEADERS stream=1 flags=END_STREAM|END_HEADERS len=39 block=39
//   recv SETTINGS stream=0 flags=ACK len=0
//   recv DATA stream=1 flags=END_STREAM|PADDED len=1761 data=1697 pad=63
//   send WINDOW_UPDATE stream=0 len=4 incr=32768
std::string trace_line(frame const& f, direction d);

// ---------------------------------------------------------------- flow control

// One DATA frame the sender sends.
struct data_sent {
  std::uint32_t stream_id = 0;
  std::uint32_t length = 0;   // bytes of data (the sender never pads)
  bool end_stream = false;
  friend bool operator==(data_sent const&, data_sent const&) = default;
};

// The sending side of HTTP/2 flow control (§5.2, §6.9), without the bytes:
// bodies are counted, not stored. Single-threaded.
//
// Windows: the connection's starts at 65535, and changes only by
// WINDOW_UPDATE on stream 0. A stream's starts at the peer's
// SETTINGS_INITIAL_WINDOW_SIZE in force when the stream opens (65535 until
// the peer says otherwise), changes by WINDOW_UPDATE on that stream, and
// by the difference when the peer changes SETTINGS_INITIAL_WINDOW_SIZE
// while it is open (§6.9.2), which can make it negative. Every byte of DATA
// sent is taken from both the stream's window and the connection's.
//
// A stream is open from its first write() until the DATA frame with
// END_STREAM has been sent; the sender then forgets it.
class flow_sender {
public:
  flow_sender();
  ~flow_sender();
  flow_sender(flow_sender&&) noexcept;
  flow_sender& operator=(flow_sender&&) noexcept;

  // `bytes` more bytes of body to send on `stream_id` (odd or even, not
  // 0), opening the stream if it is not open; end_stream: they are the last
  // ones. Nothing is sent until send().
  void write(std::uint32_t stream_id, std::size_t bytes, bool end_stream);

  // A frame from the peer. WINDOW_UPDATE (stream 0: the connection) and
  // SETTINGS without ACK (INITIAL_WINDOW_SIZE, MAX_FRAME_SIZE) change what
  // may be sent; a WINDOW_UPDATE for a stream that is not open, and every
  // other frame, change nothing. The frame is one the decoder accepted.
  // Returns the error when the frame makes a window larger than 2^31-1:
  // FLOW_CONTROL_ERROR, section "6.9.1" for a WINDOW_UPDATE, "6.9.2" for a
  // SETTINGS; the windows are then left as they were.
  std::optional<frame_error> receive(frame const& f);

  // Sends all that the windows allow now, and returns the DATA frames in
  // the order sent: no frame longer than the peer's SETTINGS_MAX_FRAME_SIZE
  // (16384 until it says otherwise), and no byte beyond the stream's window
  // or the connection's. A stream whose body is all written with
  // end_stream ends with a frame that has END_STREAM, of length 0 when its
  // last byte went in an earlier frame; a frame of length 0 takes nothing
  // from the windows, so it goes even when they are spent (§6.9.1). The
  // order among streams is yours. Called again before the windows grow or
  // more is written, it sends nothing.
  std::vector<data_sent> send();

  std::int64_t connection_window() const;
  // The window of an open stream; nullopt for a stream that is not open.
  std::optional<std::int64_t> stream_window(std::uint32_t stream_id) const;
  // Bytes written on an open stream and not sent yet; 0 for another.
  std::size_t pending(std::uint32_t stream_id) const;

  // Yours to define in h2_frames.cpp: the windows, the streams, the settings.
  struct state;

private:
  std::unique_ptr<state> state_;
};

} // namespace task13
