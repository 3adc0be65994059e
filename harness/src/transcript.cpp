#include <workbook/transcript.hpp>

#include <map>
#include <mutex>
#include <set>

namespace workbook::transcript {
namespace {

// Bound what one test case can accumulate: a test streaming megabytes must
// not turn its failure report into megabytes.
constexpr std::size_t max_total = 256 * 1024;

struct store {
  std::mutex mutex;
  std::vector<entry> entries;
  std::map<int, std::string> roles;
  std::set<unsigned short> client_ports;
  std::size_t bytes = 0;
  int connections = 0;
  bool truncated = false;
};

store& the_store()
{
  static store s;
  return s;
}

} // namespace

int open_connection(std::string_view role)
{
  auto& s = the_store();
  std::lock_guard lock(s.mutex);
  s.roles[++s.connections] = std::string(role);
  return s.connections;
}

void register_client_port(unsigned short port)
{
  auto& s = the_store();
  std::lock_guard lock(s.mutex);
  s.client_ports.insert(port);
}

bool is_client_port(unsigned short port)
{
  auto& s = the_store();
  std::lock_guard lock(s.mutex);
  return s.client_ports.count(port) != 0;
}

void server_side::record(direction dir, std::string_view text)
{
  if (!decided_) {
    decided_ = true;
    if (!is_client_port(remote_port_)) id_ = open_connection("server");
  }
  if (id_ != 0) transcript::record(id_, dir, text);
}

void record(int connection, direction dir, std::string_view text)
{
  auto& s = the_store();
  std::lock_guard lock(s.mutex);
  if (s.bytes + text.size() > max_total) {
    if (!s.truncated) s.entries.push_back({connection, direction::note, "(transcript truncated)"});
    s.truncated = true;
    return;
  }
  s.bytes += text.size();
  // Consecutive chunks in the same direction read better as one block.
  if (!s.entries.empty() && s.entries.back().connection == connection &&
      s.entries.back().dir == dir && dir != direction::note) {
    s.entries.back().text.append(text);
    return;
  }
  s.entries.push_back({connection, dir, std::string(text)});
}

void note(int connection, std::string_view text) { record(connection, direction::note, text); }

std::vector<entry> snapshot()
{
  auto& s = the_store();
  std::lock_guard lock(s.mutex);
  return s.entries;
}

namespace {

std::string role_of(int connection)
{
  auto& s = the_store();
  std::lock_guard lock(s.mutex);
  auto it = s.roles.find(connection);
  return it == s.roles.end() ? "client" : it->second;
}

} // namespace

void clear()
{
  auto& s = the_store();
  std::lock_guard lock(s.mutex);
  s.entries.clear();
  s.bytes = 0;
  s.connections = 0;
  s.truncated = false;
  s.roles.clear();
  s.client_ports.clear();
}

std::string printable(std::string_view bytes, std::size_t max)
{
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes.substr(0, max)) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";   // so a message may quote what it shows
    else if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
    else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0x0f];
    }
  }
  if (bytes.size() > max) out += "... (" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

std::string render(std::vector<entry> const& entries, std::size_t max_body)
{
  std::string out;
  for (auto const& e : entries) {
    char const* mark = e.dir == direction::sent ? "> " : e.dir == direction::received ? "< " : "* ";
    std::string const prefix = "[" + role_of(e.connection) + " " + std::to_string(e.connection) + "] " + mark;
    // Header lines one by one; the body (after the blank line) cut at max_body.
    std::string_view text = e.text;
    std::size_t const head_end = e.dir == direction::note ? std::string_view::npos : text.find("\r\n\r\n");
    std::string_view head = head_end == std::string_view::npos ? text : text.substr(0, head_end);
    std::string_view body = head_end == std::string_view::npos ? std::string_view{} : text.substr(head_end + 4);
    std::size_t pos = 0;
    while (pos <= head.size()) {
      std::size_t nl = head.find('\n', pos);
      std::string_view line = head.substr(pos, nl == std::string_view::npos ? head.size() - pos : nl - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!(line.empty() && nl == std::string_view::npos && pos != 0))
        out.append(prefix).append(line).append("\n");
      if (nl == std::string_view::npos) break;
      pos = nl + 1;
    }
    if (head_end != std::string_view::npos) {
      out.append(prefix).append("\n");
      if (!body.empty()) {
        std::string_view shown = body.substr(0, std::min(body.size(), max_body));
        std::string escaped;
        for (char c : shown) {
          if (c == '\n') escaped += "\\n\n";
          else if (c == '\r') escaped += "\\r";
          else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) escaped += '.';
          else escaped += c;
        }
        std::size_t p = 0;
        while (p < escaped.size()) {
          std::size_t nl = escaped.find('\n', p);
          out.append(prefix).append(escaped.substr(p, nl == std::string::npos ? std::string::npos : nl - p)).append("\n");
          if (nl == std::string::npos) break;
          p = nl + 1;
        }
        if (shown.size() < body.size())
          out.append(prefix).append("... (" + std::to_string(body.size() - shown.size()) + " more bytes)\n");
      }
    }
  }
  return out;
}

} // namespace workbook::transcript
