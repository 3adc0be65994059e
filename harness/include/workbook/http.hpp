// Plain HTTP messages for tests: no Beast templates, so test TUs stay cheap
// to compile and easy to read.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace workbook {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct request {
  std::string method = "GET";
  std::string target = "/";
  header_list headers;   // Host and Content-Length are added when missing
  std::string body;
};

struct response {
  int status = 0;        // 0: no response arrived; see error
  std::string reason;
  header_list headers;
  std::string body;
  std::string error;     // why there is no response ("timed out after 2000 ms", ...)

  // First value of a header, compared case-insensitively.
  std::optional<std::string> header(std::string_view name) const;
  bool has_header(std::string_view name) const { return header(name).has_value(); }
};

bool iequals(std::string_view a, std::string_view b);

} // namespace workbook
