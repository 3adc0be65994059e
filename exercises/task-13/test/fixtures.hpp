// Task 13 · test helpers: the captured bytes (test/fixtures/), a decoder run
// over bytes cut in given places, frames built byte by byte, nghttp's own
// account of the frames it sent and received, and descriptions of frames for
// failure messages that do not depend on your printer.
#pragma once

#include "h2_frames.hpp"

#include <workbook/implementation.hpp>
#include <workbook/transcript.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <exception>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace task13_test {

using workbook::transcript::printable;

using task13::frame;
using task13::frame_error;
using task13::frame_type;
using task13::sender;

// ---------------------------------------------------------------- the fixtures

// test/fixtures/<name>: the bytes captured by test/fixtures/capture.py.
inline std::string const& fixture(std::string const& name)
{
  static std::map<std::string, std::string> cache;  // the tests run on one thread
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  auto const path = workbook::implementation().exercise_dir / "test" / "fixtures" / name;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read the fixture " + path.string());
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return cache.emplace(name, std::move(bytes)).first->second;
}

// The size of the file served in the captures (capture.py, FILE_SIZE).
inline constexpr std::size_t captured_file_size = 100000;

// ---------------------------------------------------------------- decoding

// Everything a decoder gave for some bytes: the frames, then how it stopped.
struct decoded {
  std::vector<frame> frames;
  std::optional<frame_error> error;  // it stopped at an error
  std::size_t buffered = 0;          // buffered() at the end
  std::string threw;                 // what escaped from it, if anything did

  bool clean() const { return !error && threw.empty(); }
};

// Feeds `bytes` cut at the given offsets (in increasing order), taking every
// frame out after each piece, as a connection would.
inline decoded decode_cut(sender from, std::string_view bytes, std::vector<std::size_t> const& cuts,
                          std::uint32_t max_frame_size = task13::default_max_frame_size)
{
  decoded out;
  try {
    task13::frame_decoder d(from, max_frame_size);
    std::size_t at = 0;
    // A frame takes at least 9 bytes: a decoder that yields more frames than
    // that has lost its place, and would otherwise never say need_more.
    auto const most = bytes.size() / task13::frame_header_size + 1;
    auto drain = [&] {
      for (;;) {
        auto r = d.next();
        if (auto* f = std::get_if<frame>(&r)) {
          out.frames.push_back(std::move(*f));
          if (out.frames.size() > most) {
            out.threw = "(nothing thrown, but) more frames than " + std::to_string(bytes.size()) + " bytes can hold";
            return;
          }
          continue;
        }
        if (auto* e = std::get_if<frame_error>(&r)) out.error = *e;
        return;
      }
    };
    for (std::size_t i = 0; i <= cuts.size() && !out.error && out.threw.empty(); ++i) {
      auto const end = i < cuts.size() ? std::min(cuts[i], bytes.size()) : bytes.size();
      if (end < at) continue;
      d.feed(bytes.substr(at, end - at));
      at = end;
      drain();
    }
    out.buffered = d.buffered();
  } catch (std::exception const& e) {
    out.threw = std::string("an exception: ") + e.what();
  } catch (...) {
    out.threw = "something that is not a std::exception";
  }
  return out;
}

// In one piece.
inline decoded decode_all(sender from, std::string_view bytes,
                          std::uint32_t max_frame_size = task13::default_max_frame_size)
{
  return decode_cut(from, bytes, {}, max_frame_size);
}

// One byte at a time.
inline decoded decode_bytewise(sender from, std::string_view bytes,
                               std::uint32_t max_frame_size = task13::default_max_frame_size)
{
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < bytes.size(); ++i) cuts.push_back(i);
  return decode_cut(from, bytes, cuts, max_frame_size);
}

// ---------------------------------------------------------------- building frames

inline std::string be(std::uint64_t v, int bytes)
{
  std::string out;
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}

// A frame as bytes: the header (Length taken from the payload unless given)
// and the payload, as they are, whatever they say.
inline std::string frame_bytes(std::uint8_t type, std::uint8_t flags, std::uint32_t stream_id, std::string_view payload,
                               std::optional<std::uint32_t> length = std::nullopt)
{
  return be(length.value_or(static_cast<std::uint32_t>(payload.size())), 3) + static_cast<char>(type) +
         static_cast<char>(flags) + be(stream_id, 4) + std::string(payload);
}

inline std::string frame_bytes(frame_type type, std::uint8_t flags, std::uint32_t stream_id, std::string_view payload,
                               std::optional<std::uint32_t> length = std::nullopt)
{
  return frame_bytes(static_cast<std::uint8_t>(type), flags, stream_id, payload, length);
}

inline std::string settings_payload(std::vector<task13::setting> const& entries)
{
  std::string out;
  for (auto const& s : entries) out += be(s.id, 2) + be(s.value, 4);
  return out;
}

// An empty SETTINGS frame: what a server's bytes must start with.
inline std::string const& empty_settings()
{
  static std::string const bytes = frame_bytes(frame_type::settings, 0, 0, "");
  return bytes;
}

// The bytes of a server whose first frame is an empty SETTINGS, then `rest`.
inline std::string from_server(std::string_view rest) { return empty_settings() + std::string(rest); }

// The bytes of a client: the preface, an empty SETTINGS, then `rest`.
inline std::string from_client(std::string_view rest)
{
  return std::string(task13::client_preface) + empty_settings() + std::string(rest);
}

// ---------------------------------------------------------------- nghttp's account

// One frame as `nghttp -v` printed it: "send HEADERS frame <length=39, flags=0x05, stream_id=1>",
// and the lines under it that give its fields: "(padlen=0, dep_stream_id=11, weight=16, exclusive=0)",
// "[SETTINGS_INITIAL_WINDOW_SIZE(0x04):65535]".
struct seen_frame {
  std::string way;   // "send" or "recv"
  std::string type;  // DATA, HEADERS, ...
  std::uint32_t length = 0;
  std::uint32_t flags = 0;
  std::uint32_t stream_id = 0;
  std::string fields;   // the first "(...)" line under it, if any; "" for an unpadded DATA
  std::vector<std::string> entries;  // SETTINGS: one "[...]" line per entry
  friend bool operator==(seen_frame const&, seen_frame const&) = default;
};

inline std::vector<seen_frame> nghttp_frames(std::string const& text, std::string const& way)
{
  static std::regex const frame_line(R"(^\[[^\]]*\] (send|recv) ([A-Z_]+) frame <length=(\d+), flags=0x([0-9a-f]+), stream_id=(\d+)>)");
  std::vector<seen_frame> out;
  std::istringstream in(text);
  bool mine = false;  // the lines under the last frame line belong to a frame of `way`
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    if (std::regex_search(l, m, frame_line)) {
      mine = m[1] == way;
      if (mine)
        out.push_back({m[1], m[2], static_cast<std::uint32_t>(std::stoul(m[3])),
                       static_cast<std::uint32_t>(std::stoul(m[4], nullptr, 16)),
                       static_cast<std::uint32_t>(std::stoul(m[5])), "", {}});
      continue;
    }
    if (!l.empty() && l[0] == '[') mine = false;  // another event: "[  ] recv (stream_id=1) :status: 200"
    if (!mine) continue;
    auto const first = l.find_first_not_of(' ');
    if (first == std::string::npos) continue;
    auto const field = l.substr(first);
    if (field[0] == '(' && out.back().fields.empty()) out.back().fields = field;
    else if (field.rfind("[SETTINGS_", 0) == 0 || field.rfind("[UNKNOWN", 0) == 0) out.back().entries.push_back(field);
  }
  return out;
}

inline std::string type_word(frame_type t)
{
  static char const* const names[] = {"DATA",     "HEADERS", "PRIORITY", "RST_STREAM",    "SETTINGS",
                                      "PUSH_PROMISE", "PING", "GOAWAY",  "WINDOW_UPDATE", "CONTINUATION"};
  auto const n = static_cast<unsigned>(t);
  return n < std::size(names) ? names[n] : "TYPE_" + std::to_string(n);
}

inline std::string setting_word(std::uint16_t id)
{
  static char const* const names[] = {"",        "HEADER_TABLE_SIZE", "ENABLE_PUSH", "MAX_CONCURRENT_STREAMS",
                                      "INITIAL_WINDOW_SIZE", "MAX_FRAME_SIZE", "MAX_HEADER_LIST_SIZE"};
  return id >= 1 && id < std::size(names) ? names[id] : "UNKNOWN";
}

inline std::string error_word(std::uint32_t code)
{
  static char const* const names[] = {"NO_ERROR",       "PROTOCOL_ERROR",    "INTERNAL_ERROR",      "FLOW_CONTROL_ERROR",
                                      "SETTINGS_TIMEOUT", "STREAM_CLOSED",   "FRAME_SIZE_ERROR",    "REFUSED_STREAM",
                                      "CANCEL",         "COMPRESSION_ERROR", "CONNECT_ERROR",       "ENHANCE_YOUR_CALM",
                                      "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"};
  return code < std::size(names) ? names[code] : "UNKNOWN";
}

inline std::string hex2(std::uint32_t v)
{
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out += digits[(v >> 4) & 0xf];
  out += digits[v & 0xf];
  return out;
}

// A decoded frame as nghttp lists it, with the fields nghttp prints for it
// (nghttp counts the Pad Length byte in its padlen).
inline seen_frame as_seen(frame const& f, std::string const& way)
{
  seen_frame s{way, type_word(f.type), f.length, f.flags, f.stream_id, "", {}};
  auto const padlen = std::to_string(f.has(task13::flag::padded) ? f.pad_length + 1 : 0);
  auto priority = [&](std::string const& before) {
    auto const& p = f.priority.value_or(task13::priority_fields{});
    return "(" + before + "dep_stream_id=" + std::to_string(p.depends_on) + ", weight=" + std::to_string(p.weight) +
           ", exclusive=" + (p.exclusive ? "1" : "0") + ")";
  };
  switch (f.type) {
  case frame_type::data:
    if (f.has(task13::flag::padded)) s.fields = "(padlen=" + padlen + ")";
    break;
  case frame_type::headers:
    s.fields = f.has(task13::flag::priority) ? priority("padlen=" + padlen + ", ") : "(padlen=" + padlen + ")";
    break;
  case frame_type::priority: s.fields = priority(""); break;
  case frame_type::settings:
    s.fields = "(niv=" + std::to_string(f.settings.size()) + ")";
    for (auto const& e : f.settings)
      s.entries.push_back("[SETTINGS_" + setting_word(e.id) + "(0x" + hex2(e.id) + "):" + std::to_string(e.value) + "]");
    break;
  case frame_type::window_update: s.fields = "(window_size_increment=" + std::to_string(f.window_increment) + ")"; break;
  case frame_type::goaway:
    s.fields = "(last_stream_id=" + std::to_string(f.last_stream_id) + ", error_code=" + error_word(f.error_code) +
               "(0x" + hex2(f.error_code) + "), opaque_data(" + std::to_string(f.payload.size()) + ")=[" + f.payload + "])";
    break;
  case frame_type::rst_stream:
    s.fields = "(error_code=" + error_word(f.error_code) + "(0x" + hex2(f.error_code) + "))";
    break;
  default: break;
  }
  return s;
}

inline std::vector<seen_frame> as_seen(std::vector<frame> const& frames, std::string const& way)
{
  std::vector<seen_frame> out;
  for (auto const& f : frames) out.push_back(as_seen(f, way));
  return out;
}

// The file the captures served (capture.py, file_bytes()).
inline std::string const& captured_file()
{
  static std::string const bytes = [] {
    std::string const line = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!\n";
    std::string out;
    while (out.size() < captured_file_size) out += line;
    out.resize(captured_file_size);
    return out;
  }();
  return bytes;
}

// ---------------------------------------------------------------- descriptions

// A frame in a few words, for failure messages (independent of trace_line()).
inline std::string describe(frame const& f)
{
  std::ostringstream out;
  out << type_word(f.type) << " stream=" << f.stream_id << " flags=0x" << std::hex << unsigned(f.flags) << std::dec
      << " len=" << f.length << " payload=" << f.payload.size() << " bytes";
  if (f.pad_length) out << " pad_length=" << unsigned(f.pad_length);
  if (f.priority)
    out << " priority={" << f.priority->depends_on << ", weight " << f.priority->weight << ", "
        << (f.priority->exclusive ? "exclusive" : "not exclusive") << "}";
  if (!f.settings.empty()) {
    out << " settings={";
    for (auto const& s : f.settings) out << " " << s.id << "=" << s.value;
    out << " }";
  }
  if (f.window_increment) out << " increment=" << f.window_increment;
  if (f.error_code) out << " error_code=" << f.error_code;
  if (f.last_stream_id) out << " last_stream_id=" << f.last_stream_id;
  if (f.promised_stream_id) out << " promised=" << f.promised_stream_id;
  return out.str();
}

inline std::string describe(frame_error const& e)
{
  return "error code " + std::to_string(static_cast<std::uint32_t>(e.code)) + ", section \"" + e.section +
         "\": " + e.message;
}

inline std::string describe(decoded const& d)
{
  std::ostringstream out;
  out << d.frames.size() << " frames";
  std::size_t shown = 0;
  for (auto const& f : d.frames) {
    if (++shown > 12) {
      out << "\n  ...";
      break;
    }
    out << "\n  " << describe(f);
  }
  if (d.error) out << "\n  then " << describe(*d.error);
  else out << "\n  then need_more, " << d.buffered << " bytes buffered";
  if (!d.threw.empty()) out << "\n  and it threw " << d.threw;
  return out.str();
}

} // namespace task13_test

namespace Catch {
template <>
struct StringMaker<task13::frame> {
  static std::string convert(task13::frame const& f) { return task13_test::describe(f); }
};
template <>
struct StringMaker<task13::frame_error> {
  static std::string convert(task13::frame_error const& e) { return task13_test::describe(e); }
};
template <>
struct StringMaker<std::optional<task13::frame_error>> {
  static std::string convert(std::optional<task13::frame_error> const& e)
  {
    return e ? task13_test::describe(*e) : "no error";
  }
};
template <>
struct StringMaker<std::optional<std::int64_t>> {
  static std::string convert(std::optional<std::int64_t> const& v)
  {
    return v ? std::to_string(*v) : "nullopt (no such open stream)";
  }
};
template <>
struct StringMaker<task13::frame_type> {
  static std::string convert(task13::frame_type t) { return task13_test::type_word(t); }
};
template <>
struct StringMaker<task13::h2_error> {
  static std::string convert(task13::h2_error e)
  {
    static char const* const names[] = {"NO_ERROR",       "PROTOCOL_ERROR",    "INTERNAL_ERROR",      "FLOW_CONTROL_ERROR",
                                        "SETTINGS_TIMEOUT", "STREAM_CLOSED",   "FRAME_SIZE_ERROR",    "REFUSED_STREAM",
                                        "CANCEL",         "COMPRESSION_ERROR", "CONNECT_ERROR",       "ENHANCE_YOUR_CALM",
                                        "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"};
    auto const n = static_cast<std::uint32_t>(e);
    return n < std::size(names) ? names[n] : "error code " + std::to_string(n);
  }
};
template <>
struct StringMaker<task13_test::seen_frame> {
  static std::string convert(task13_test::seen_frame const& f)
  {
    std::ostringstream out;
    out << f.way << " " << f.type << " <length=" << f.length << ", flags=0x" << std::hex << f.flags << std::dec
        << ", stream_id=" << f.stream_id << ">";
    if (!f.fields.empty()) out << " " << f.fields;
    for (auto const& e : f.entries) out << " " << e;
    return out.str();
  }
};
} // namespace Catch
