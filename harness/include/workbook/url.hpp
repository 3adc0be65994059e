// "http://IP[:PORT][/target]", the URLs the workbook's clients and tests
// speak: parsed once, here, with Boost.URL underneath.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <string>
#include <string_view>

namespace workbook {

struct http_url {
  boost::asio::ip::tcp::endpoint endpoint;  // the IP literal and the port (80 when none is written)
  std::string host;                         // for the Host field: "127.0.0.1:8080", "[::1]:8080"
  std::string target;                       // "/path?query"; "/" when the URL has none
};

// http only (any case), an IP literal (nothing is resolved: a test never
// leaves this machine), a port from 1 to 65535. Fails with
// errc::protocol_not_supported for another scheme and errc::invalid_argument
// for anything else it cannot use; `out` is untouched then.
boost::system::error_code parse_http_url(std::string_view url, http_url& out);

} // namespace workbook
