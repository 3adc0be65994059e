#include <workbook/url.hpp>

#include <boost/url/parse.hpp>

#include <charconv>

namespace workbook {

boost::system::error_code parse_http_url(std::string_view url, http_url& out)
{
  using boost::system::errc::make_error_code;
  namespace errc = boost::system::errc;
  auto const u = boost::urls::parse_uri(url);
  if (!u) return make_error_code(errc::invalid_argument);
  if (u->scheme_id() != boost::urls::scheme::http) return make_error_code(errc::protocol_not_supported);
  // Boost.URL keeps the port's digits as written; 99999 is not a port.
  unsigned port = 80;
  if (u->has_port()) {
    auto const digits = u->port();
    auto const [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || port == 0 || port > 65535)
      return make_error_code(errc::invalid_argument);
  }

  boost::system::error_code ec;
  auto const ip = boost::asio::ip::make_address(std::string(u->host_address()), ec);
  if (ec) return make_error_code(errc::invalid_argument);

  out.endpoint = {ip, static_cast<unsigned short>(port)};
  out.host = (ip.is_v6() ? "[" + ip.to_string() + "]" : ip.to_string()) + ":" + std::to_string(port);
  out.target = u->encoded_target().empty() ? "/" : std::string(u->encoded_target());
  return {};
}

} // namespace workbook
