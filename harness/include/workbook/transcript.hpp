// Every byte a test's clients and servers exchange, kept per test case so a
// failing assertion can show what was sent and what came back (like curl -v).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace workbook::transcript {

enum class direction { sent, received, note };

struct entry {
  int connection;       // 1, 2, ... within the test case
  direction dir;
  std::string text;
};

// A fresh connection number for the current test case. `role` names whose
// side of the connection the entries show: "client" or "server".
int open_connection(std::string_view role = "client");

// The harness's own clients register their local port, so the harness's
// servers leave those exchanges to the client's side of the transcript and
// record only connections from code under test.
void register_client_port(unsigned short port);
bool is_client_port(unsigned short port);

// Records one server-side connection lazily: only once something is said,
// and only when the peer is not a harness client.
class server_side {
public:
  explicit server_side(unsigned short remote_port) : remote_port_(remote_port) {}
  void record(direction dir, std::string_view text);

private:
  unsigned short remote_port_;
  int id_ = 0;
  bool decided_ = false;
};

void record(int connection, direction dir, std::string_view text);
void note(int connection, std::string_view text);

// The entries recorded since the last clear(); thread-safe.
std::vector<entry> snapshot();
void clear();

// Bytes for a failure message: printable ASCII as it is; \n, \r, \t, \\ and
// " escaped; any other byte as \xNN; cut after `max` bytes, with the size said.
std::string printable(std::string_view bytes, std::size_t max = 300);

// "[client 1] > GET / HTTP/1.1" / "[client 1] < HTTP/1.1 200 OK" / "* note",
// bodies cut at max_body. ">" is what that side sent, "<" what it received.
std::string render(std::vector<entry> const& entries, std::size_t max_body = 2048);

} // namespace workbook::transcript
