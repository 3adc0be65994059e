// Task 13 · reference.
//
// Three parts, as in the contract. frame_decoder keeps the bytes of one
// frame at most, waits until a frame is whole, and checks it against RFC
// 9113 before it yields it; every decision it makes depends on the bytes
// alone, never on how they were cut. trace_line() prints what the decoder
// found. flow_sender keeps two numbers per stream and one for the
// connection, and sends the smallest of what is left, what the windows
// allow and what a frame may carry.
#include "h2_frames.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <utility>

namespace task13 {

namespace {

// ---------------------------------------------------------------- names

std::string type_name(frame_type t)
{
  switch (t) {
  case frame_type::data: return "DATA";
  case frame_type::headers: return "HEADERS";
  case frame_type::priority: return "PRIORITY";
  case frame_type::rst_stream: return "RST_STREAM";
  case frame_type::settings: return "SETTINGS";
  case frame_type::push_promise: return "PUSH_PROMISE";
  case frame_type::ping: return "PING";
  case frame_type::goaway: return "GOAWAY";
  case frame_type::window_update: return "WINDOW_UPDATE";
  case frame_type::continuation: return "CONTINUATION";
  }
  return "UNKNOWN_TYPE_" + std::to_string(static_cast<unsigned>(t));
}

std::string hex(std::uint32_t v)
{
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  do {
    out.insert(out.begin(), digits[v & 0xf]);
    v >>= 4;
  } while (v != 0);
  return "0x" + out;
}

std::string error_name(std::uint32_t code)
{
  static constexpr std::array<char const*, 14> names = {
      "NO_ERROR",       "PROTOCOL_ERROR",   "INTERNAL_ERROR",    "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
      "STREAM_CLOSED",  "FRAME_SIZE_ERROR", "REFUSED_STREAM",    "CANCEL",             "COMPRESSION_ERROR",
      "CONNECT_ERROR",  "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"};
  return code < names.size() ? names[code] : hex(code);
}

std::string setting_name(std::uint16_t id)
{
  switch (id) {
  case setting_id::header_table_size: return "HEADER_TABLE_SIZE";
  case setting_id::enable_push: return "ENABLE_PUSH";
  case setting_id::max_concurrent_streams: return "MAX_CONCURRENT_STREAMS";
  case setting_id::initial_window_size: return "INITIAL_WINDOW_SIZE";
  case setting_id::max_frame_size: return "MAX_FRAME_SIZE";
  case setting_id::max_header_list_size: return "MAX_HEADER_LIST_SIZE";
  }
  return "UNKNOWN_SETTING_" + std::to_string(id);
}

// The flags a type defines, lowest bit first. The same bit means different
// things on different types: 0x1 is END_STREAM on DATA and ACK on SETTINGS.
std::vector<std::pair<std::uint8_t, char const*>> defined_flags(frame_type t)
{
  switch (t) {
  case frame_type::data: return {{flag::end_stream, "END_STREAM"}, {flag::padded, "PADDED"}};
  case frame_type::headers:
    return {{flag::end_stream, "END_STREAM"}, {flag::end_headers, "END_HEADERS"}, {flag::padded, "PADDED"},
            {flag::priority, "PRIORITY"}};
  case frame_type::settings:
  case frame_type::ping: return {{flag::ack, "ACK"}};
  case frame_type::push_promise: return {{flag::end_headers, "END_HEADERS"}, {flag::padded, "PADDED"}};
  case frame_type::continuation: return {{flag::end_headers, "END_HEADERS"}};
  default: return {};
  }
}

// ---------------------------------------------------------------- reading bytes

// Big-endian reads from a payload whose size the caller has checked.
class cursor {
public:
  explicit cursor(std::string_view bytes) : rest_(bytes) {}

  std::size_t left() const { return rest_.size(); }
  std::uint8_t u8() { return static_cast<std::uint8_t>(take(1)[0]); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(be(take(2))); }
  std::uint32_t u24() { return be(take(3)); }
  std::uint32_t u32() { return be(take(4)); }
  // 31 bits: the reserved bit in front of a stream id or an increment is ignored (§4.1).
  std::uint32_t u31() { return u32() & 0x7fffffffu; }
  std::string_view take(std::size_t n)
  {
    auto const out = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return out;
  }
  // Drops the last n bytes (padding).
  void drop_back(std::size_t n) { rest_.remove_suffix(n); }

private:
  static std::uint32_t be(std::string_view b)
  {
    std::uint32_t v = 0;
    for (char c : b) v = (v << 8) | static_cast<std::uint8_t>(c);
    return v;
  }
  std::string_view rest_;
};

frame_error broken(h2_error code, std::string section, std::string what)
{
  return {code, section, what + " (RFC 9113 \u00a7" + section + ")"};
}

std::string on_stream(frame const& f)
{
  return type_name(f.type) + " frame on stream " + std::to_string(f.stream_id);
}

// ---------------------------------------------------------------- payloads

// Pad Length first, padding last: what is between is the frame's content.
// The padding must fit in what follows Pad Length and the fixed fields
// (`fixed` bytes of them, read after Pad Length).
std::optional<frame_error> strip_padding(frame& f, cursor& c, std::size_t fixed, std::string const& section)
{
  if (!f.has(flag::padded)) {
    if (c.left() < fixed)
      return broken(h2_error::frame_size_error, "4.2",
                    on_stream(f) + " of length " + std::to_string(f.length) + " is too short for its fields");
    return std::nullopt;
  }
  if (c.left() < 1 + fixed)
    return broken(h2_error::frame_size_error, "4.2",
                  "PADDED " + on_stream(f) + " of length " + std::to_string(f.length) +
                      " has no room for its Pad Length and fields");
  f.pad_length = c.u8();
  if (f.pad_length > c.left() - fixed)
    return broken(h2_error::protocol_error, section,
                  on_stream(f) + ": " + std::to_string(f.pad_length) + " bytes of padding, but only " +
                      std::to_string(c.left() - fixed) + " bytes follow Pad Length and the fixed fields");
  c.drop_back(f.pad_length);
  return std::nullopt;
}

priority_fields read_priority(cursor& c)
{
  auto const dependency = c.u32();
  priority_fields p;
  p.exclusive = (dependency & 0x80000000u) != 0;
  p.depends_on = dependency & 0x7fffffffu;
  p.weight = static_cast<std::uint16_t>(c.u8() + 1);  // the wire carries weight - 1 (§5.3.2)
  return p;
}

std::optional<frame_error> must_be_on_a_stream(frame const& f, std::string const& section)
{
  if (f.stream_id != 0) return std::nullopt;
  return broken(h2_error::protocol_error, section, type_name(f.type) + " frame on stream 0: it belongs to a stream");
}

std::optional<frame_error> must_be_on_stream_0(frame const& f, std::string const& section)
{
  if (f.stream_id == 0) return std::nullopt;
  return broken(h2_error::protocol_error, section, on_stream(f) + ": it belongs to the connection, stream 0");
}

std::optional<frame_error> length_must_be(frame const& f, std::uint32_t size, std::string const& section)
{
  if (f.length == size) return std::nullopt;
  return broken(h2_error::frame_size_error, section,
                on_stream(f) + " of length " + std::to_string(f.length) + ": it must be " + std::to_string(size));
}

std::optional<frame_error> check_setting(setting const& s)
{
  switch (s.id) {
  case setting_id::enable_push:
    if (s.value > 1)
      return broken(h2_error::protocol_error, "6.5.2", "SETTINGS_ENABLE_PUSH is " + std::to_string(s.value) + ": only 0 or 1");
    break;
  case setting_id::initial_window_size:
    if (s.value > max_window_size)
      return broken(h2_error::flow_control_error, "6.5.2",
                    "SETTINGS_INITIAL_WINDOW_SIZE is " + std::to_string(s.value) + ": above 2^31-1");
    break;
  case setting_id::max_frame_size:
    if (s.value < default_max_frame_size || s.value > largest_max_frame_size)
      return broken(h2_error::protocol_error, "6.5.2",
                    "SETTINGS_MAX_FRAME_SIZE is " + std::to_string(s.value) + ": outside 16384 to 2^24-1");
    break;
  }
  return std::nullopt;  // unknown identifiers are kept, and ignored by whoever uses them (§6.5.2)
}

// Decodes the payload of `f` into its fields, checking the rules of its type.
std::optional<frame_error> decode_payload(frame& f, std::string_view bytes)
{
  cursor c(bytes);
  std::optional<frame_error> e;
  switch (f.type) {
  case frame_type::data:
    if ((e = must_be_on_a_stream(f, "6.1")) || (e = strip_padding(f, c, 0, "6.1"))) return e;
    break;
  case frame_type::headers: {
    auto const fixed = f.has(flag::priority) ? 5u : 0u;
    if ((e = must_be_on_a_stream(f, "6.2")) || (e = strip_padding(f, c, fixed, "6.2"))) return e;
    if (f.has(flag::priority)) f.priority = read_priority(c);
    break;
  }
  case frame_type::priority:
    if ((e = must_be_on_a_stream(f, "6.3")) || (e = length_must_be(f, 5, "6.3"))) return e;
    f.priority = read_priority(c);
    break;
  case frame_type::rst_stream:
    if ((e = must_be_on_a_stream(f, "6.4")) || (e = length_must_be(f, 4, "6.4"))) return e;
    f.error_code = c.u32();
    break;
  case frame_type::settings:
    if ((e = must_be_on_stream_0(f, "6.5"))) return e;
    if (f.has(flag::ack) && f.length != 0)
      return broken(h2_error::frame_size_error, "6.5",
                    "SETTINGS ACK of length " + std::to_string(f.length) + ": an ACK carries nothing");
    if (f.length % 6 != 0)
      return broken(h2_error::frame_size_error, "6.5",
                    "SETTINGS of length " + std::to_string(f.length) + ": not a multiple of 6, the size of an entry");
    while (c.left() > 0) {
      setting s;
      s.id = c.u16();
      s.value = c.u32();
      if ((e = check_setting(s))) return e;
      f.settings.push_back(s);
    }
    break;
  case frame_type::push_promise:
    if ((e = must_be_on_a_stream(f, "6.6")) || (e = strip_padding(f, c, 4, "6.6"))) return e;
    f.promised_stream_id = c.u31();
    break;
  case frame_type::ping:
    if ((e = must_be_on_stream_0(f, "6.7")) || (e = length_must_be(f, 8, "6.7"))) return e;
    break;
  case frame_type::goaway:
    if ((e = must_be_on_stream_0(f, "6.8"))) return e;
    if (c.left() < 8)
      return broken(h2_error::frame_size_error, "4.2",
                    "GOAWAY of length " + std::to_string(f.length) + ": too short for its 8 bytes of fields");
    f.last_stream_id = c.u31();
    f.error_code = c.u32();
    break;
  case frame_type::window_update:
    if ((e = length_must_be(f, 4, "6.9"))) return e;
    f.window_increment = c.u31();
    if (f.window_increment == 0)
      return broken(h2_error::protocol_error, "6.9", on_stream(f) + " with an increment of 0");
    break;
  case frame_type::continuation:
    if ((e = must_be_on_a_stream(f, "6.10"))) return e;
    break;
  default:
    break;  // a type this decoder does not know: kept whole, for the caller to ignore (§5.5)
  }
  f.payload.assign(c.take(c.left()));
  return std::nullopt;
}

} // namespace

// ---------------------------------------------------------------- the decoder

struct frame_decoder::state {
  sender from = sender::client;
  std::uint32_t max_frame_size = default_max_frame_size;
  // The bytes fed and not consumed start at `start`: consumed bytes are
  // dropped on the next feed(), so the buffer never holds more than the
  // frame being decoded and what was fed with it.
  std::string buffer;
  std::size_t start = 0;
  bool preface_done = false;
  bool first_frame_done = false;
  std::optional<std::uint32_t> header_block_of;  // a HEADERS/PUSH_PROMISE awaits its CONTINUATION
  std::optional<frame_error> failed;

  std::string_view unread() const { return std::string_view(buffer).substr(start); }

  frame_error fail(frame_error e)
  {
    failed = e;
    return e;
  }
};

frame_decoder::frame_decoder(sender from, std::uint32_t max_frame_size) : state_(std::make_unique<state>())
{
  state_->from = from;
  state_->max_frame_size = std::clamp(max_frame_size, default_max_frame_size, largest_max_frame_size);
  state_->preface_done = from == sender::server;  // only a client sends a preface
}

frame_decoder::~frame_decoder() = default;
frame_decoder::frame_decoder(frame_decoder&&) noexcept = default;
frame_decoder& frame_decoder::operator=(frame_decoder&&) noexcept = default;

void frame_decoder::feed(std::string_view bytes)
{
  auto& s = *state_;
  if (s.failed) return;  // the connection is over: nothing more is read
  s.buffer.erase(0, s.start);
  s.start = 0;
  s.buffer.append(bytes);
}

std::size_t frame_decoder::buffered() const { return state_->unread().size(); }

namespace {

// The order of frames: what must come first (§3.4), and the CONTINUATION
// frames that must follow a header block left open (§6.10).
std::optional<frame_error> check_order(frame const& f, bool& first_frame_done, std::optional<std::uint32_t>& header_block_of)
{
  if (!first_frame_done) {
    if (f.type != frame_type::settings || f.has(flag::ack))
      return broken(h2_error::protocol_error, "3.4",
                    "the first frame is " + type_name(f.type) + (f.has(flag::ack) ? " with ACK" : "") +
                        ": a connection starts with SETTINGS");
    first_frame_done = true;
  }
  if (header_block_of) {
    if (f.type != frame_type::continuation || f.stream_id != *header_block_of)
      return broken(h2_error::protocol_error, "6.10",
                    on_stream(f) + " where a CONTINUATION on stream " + std::to_string(*header_block_of) +
                        " must come");
  } else if (f.type == frame_type::continuation) {
    return broken(h2_error::protocol_error, "6.10", on_stream(f) + " follows no HEADERS or PUSH_PROMISE left open");
  }
  bool const opens_block = f.type == frame_type::headers || f.type == frame_type::push_promise ||
                           f.type == frame_type::continuation;
  if (opens_block && !f.has(flag::end_headers)) header_block_of = f.stream_id;
  else if (opens_block) header_block_of.reset();
  return std::nullopt;
}

} // namespace

decode_result frame_decoder::next()
{
  auto& s = *state_;
  if (s.failed) return *s.failed;

  // The preface is compared as far as it has come: an HTTP/1.1 request
  // shorter than 24 bytes must be refused, not waited on.
  if (!s.preface_done) {
    auto const have = s.unread().substr(0, client_preface.size());
    if (have != client_preface.substr(0, have.size()))
      return s.fail(broken(h2_error::protocol_error, "3.4", "the bytes are not the HTTP/2 client preface"));
    if (have.size() < client_preface.size()) return need_more{};
    s.start += client_preface.size();
    s.preface_done = true;
  }

  auto const bytes = s.unread();
  if (bytes.size() < frame_header_size) return need_more{};
  cursor header(bytes.substr(0, frame_header_size));
  frame f;
  f.length = header.u24();
  f.type = static_cast<frame_type>(header.u8());
  f.flags = header.u8();
  f.stream_id = header.u31();
  // Judged on the header alone: a peer that announces 16 MB is refused now,
  // not after the decoder has waited for (and kept) its 16 MB.
  if (f.length > s.max_frame_size)
    return s.fail(broken(h2_error::frame_size_error, "4.2",
                         on_stream(f) + " of length " + std::to_string(f.length) + ": above the " +
                             std::to_string(s.max_frame_size) + " bytes of SETTINGS_MAX_FRAME_SIZE"));
  if (bytes.size() < frame_header_size + f.length) return need_more{};

  if (auto e = decode_payload(f, bytes.substr(frame_header_size, f.length))) return s.fail(*e);
  if (auto e = check_order(f, s.first_frame_done, s.header_block_of)) return s.fail(*e);
  s.start += frame_header_size + f.length;
  return f;
}

// ---------------------------------------------------------------- the printer

namespace {

std::string flag_names(frame const& f)
{
  std::string out;
  std::uint8_t rest = f.flags;
  for (auto const& [bit, name] : defined_flags(f.type)) {
    if (!(f.flags & bit)) continue;
    out += out.empty() ? "" : "|";
    out += name;
    rest = static_cast<std::uint8_t>(rest & ~bit);
  }
  if (rest != 0) out += (out.empty() ? "" : "|") + hex(rest);
  return out;
}

std::string quoted(std::string_view bytes)
{
  static constexpr char digits[] = "0123456789abcdef";
  std::string out = "\"";
  for (char ch : bytes) {
    auto const c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c <= 0x7e) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += digits[c >> 4];
      out += digits[c & 0xf];
    }
  }
  return out + "\"";
}

std::string priority_details(priority_fields const& p)
{
  return " depends_on=" + std::to_string(p.depends_on) + " weight=" + std::to_string(p.weight) +
         " exclusive=" + (p.exclusive ? "1" : "0");
}

std::string padding_details(frame const& f)
{
  return f.has(flag::padded) ? " pad=" + std::to_string(f.pad_length) : "";
}

std::string details(frame const& f)
{
  switch (f.type) {
  case frame_type::data: return " data=" + std::to_string(f.payload.size()) + padding_details(f);
  case frame_type::headers:
    return " block=" + std::to_string(f.payload.size()) + padding_details(f) +
           (f.priority ? priority_details(*f.priority) : "");
  case frame_type::priority: return f.priority ? priority_details(*f.priority) : "";
  case frame_type::rst_stream: return " error=" + error_name(f.error_code);
  case frame_type::settings: {
    if (f.has(flag::ack)) return "";
    std::string out = " settings=[";
    for (std::size_t i = 0; i < f.settings.size(); ++i)
      out += (i ? " " : "") + setting_name(f.settings[i].id) + "=" + std::to_string(f.settings[i].value);
    return out + "]";
  }
  case frame_type::push_promise:
    return " promised=" + std::to_string(f.promised_stream_id) + " block=" + std::to_string(f.payload.size()) +
           padding_details(f);
  case frame_type::ping: {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out = " opaque=";
    for (char ch : f.payload) {
      auto const c = static_cast<unsigned char>(ch);
      out += digits[c >> 4];
      out += digits[c & 0xf];
    }
    return out;
  }
  case frame_type::goaway:
    return " last_stream=" + std::to_string(f.last_stream_id) + " error=" + error_name(f.error_code) +
           " debug=" + quoted(f.payload);
  case frame_type::window_update: return " incr=" + std::to_string(f.window_increment);
  case frame_type::continuation: return " block=" + std::to_string(f.payload.size());
  }
  return "";
}

} // namespace

std::string trace_line(frame const& f, direction d)
{
  std::string line = d == direction::send ? "send " : "recv ";
  line += type_name(f.type) + " stream=" + std::to_string(f.stream_id);
  if (f.flags != 0) line += " flags=" + flag_names(f);
  line += " len=" + std::to_string(f.length);
  return line + details(f);
}

// ---------------------------------------------------------------- flow control

namespace {

struct stream_flow {
  std::int64_t window = 0;
  std::size_t pending = 0;   // written, not yet sent
  bool end_written = false;  // the last byte has been written
};

} // namespace

struct flow_sender::state {
  std::int64_t connection = default_initial_window_size;
  std::int64_t initial = default_initial_window_size;  // the peer's SETTINGS_INITIAL_WINDOW_SIZE
  std::uint32_t max_frame = default_max_frame_size;    // the peer's SETTINGS_MAX_FRAME_SIZE
  std::map<std::uint32_t, stream_flow> streams;        // the open ones, by id
};

flow_sender::flow_sender() : state_(std::make_unique<state>()) {}
flow_sender::~flow_sender() = default;
flow_sender::flow_sender(flow_sender&&) noexcept = default;
flow_sender& flow_sender::operator=(flow_sender&&) noexcept = default;

void flow_sender::write(std::uint32_t stream_id, std::size_t bytes, bool end_stream)
{
  auto& s = *state_;
  // A stream's window starts at the INITIAL_WINDOW_SIZE in force when it opens.
  auto [it, opened] = s.streams.try_emplace(stream_id, stream_flow{s.initial, 0, false});
  it->second.pending += bytes;
  it->second.end_written = it->second.end_written || end_stream;
}

std::optional<frame_error> flow_sender::receive(frame const& f)
{
  auto& s = *state_;
  if (f.type == frame_type::window_update) {
    std::int64_t* window = &s.connection;
    if (f.stream_id != 0) {
      auto it = s.streams.find(f.stream_id);
      if (it == s.streams.end()) return std::nullopt;  // closed or never opened: nothing to grow
      window = &it->second.window;
    }
    if (*window + f.window_increment > max_window_size)
      return broken(h2_error::flow_control_error, "6.9.1",
                    "WINDOW_UPDATE of " + std::to_string(f.window_increment) + " on stream " +
                        std::to_string(f.stream_id) + " takes the window above 2^31-1");
    *window += f.window_increment;
    return std::nullopt;
  }
  if (f.type != frame_type::settings || f.has(flag::ack)) return std::nullopt;

  // All of the frame, or none of it: work on a copy of the streams.
  auto initial = s.initial;
  auto max_frame = s.max_frame;
  auto streams = s.streams;
  for (auto const& entry : f.settings) {
    if (entry.id == setting_id::max_frame_size) max_frame = entry.value;
    if (entry.id != setting_id::initial_window_size) continue;
    // The change applies to every open stream, by the difference (§6.9.2);
    // never to the connection's window, which only WINDOW_UPDATE moves.
    auto const delta = static_cast<std::int64_t>(entry.value) - initial;
    initial = entry.value;
    if (initial > max_window_size)
      return broken(h2_error::flow_control_error, "6.9.2", "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1");
    for (auto& [id, st] : streams) {
      if (st.window + delta > max_window_size)
        return broken(h2_error::flow_control_error, "6.9.2",
                      "SETTINGS_INITIAL_WINDOW_SIZE " + std::to_string(entry.value) + " takes stream " +
                          std::to_string(id) + "'s window above 2^31-1");
      st.window += delta;
    }
  }
  s.initial = initial;
  s.max_frame = max_frame;
  s.streams = std::move(streams);
  return std::nullopt;
}

std::vector<data_sent> flow_sender::send()
{
  auto& s = *state_;
  std::vector<data_sent> out;
  // Round after round, one frame per stream and round, so that one stream
  // cannot take the whole connection window while the others wait.
  for (bool progress = true; progress;) {
    progress = false;
    for (auto it = s.streams.begin(); it != s.streams.end();) {
      auto& st = it->second;
      auto const allowed = std::min({st.window, s.connection, static_cast<std::int64_t>(s.max_frame)});
      auto const n = static_cast<std::size_t>(std::clamp<std::int64_t>(allowed, 0, static_cast<std::int64_t>(st.pending)));
      bool const last = st.end_written && n == st.pending;
      // An empty DATA with END_STREAM takes nothing from the windows: it
      // goes even when they are spent. An empty frame without it is nothing.
      if (n == 0 && !last) {
        ++it;
        continue;
      }
      out.push_back({it->first, static_cast<std::uint32_t>(n), last});
      st.pending -= n;
      st.window -= static_cast<std::int64_t>(n);
      s.connection -= static_cast<std::int64_t>(n);
      progress = true;
      it = last ? s.streams.erase(it) : std::next(it);
    }
  }
  return out;
}

std::int64_t flow_sender::connection_window() const { return state_->connection; }

std::optional<std::int64_t> flow_sender::stream_window(std::uint32_t stream_id) const
{
  auto it = state_->streams.find(stream_id);
  if (it == state_->streams.end()) return std::nullopt;
  return it->second.window;
}

std::size_t flow_sender::pending(std::uint32_t stream_id) const
{
  auto it = state_->streams.find(stream_id);
  return it == state_->streams.end() ? 0 : it->second.pending;
}

} // namespace task13
