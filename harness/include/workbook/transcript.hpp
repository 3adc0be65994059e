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

// A fresh connection number for the current test case.
int open_connection();

void record(int connection, direction dir, std::string_view text);
void note(int connection, std::string_view text);

// The entries recorded since the last clear(); thread-safe.
std::vector<entry> snapshot();
void clear();

// "> GET / HTTP/1.1" / "< HTTP/1.1 200 OK" / "* note", bodies cut at max_body.
std::string render(std::vector<entry> const& entries, std::size_t max_body = 2048);

} // namespace workbook::transcript
