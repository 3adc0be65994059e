#include <workbook/upstreams.hpp>

namespace workbook::upstreams {

test_server::script silent()
{
  return [](peer& p) {
    p.read_request();
    p.hold();
  };
}

test_server::script slow(std::chrono::milliseconds delay, std::string body)
{
  return [delay, body = std::move(body)](peer& p) {
    while (!p.read_request().empty()) {
      if (!p.pause(delay)) return;
      if (!p.write(http_response(200, body))) return;
    }
  };
}

test_server::script dribbling(std::string body, std::chrono::milliseconds interval)
{
  return [body = std::move(body), interval](peer& p) {
    if (p.read_request().empty()) return;
    for (char c : http_response(200, body)) {
      if (!p.write(std::string_view(&c, 1))) return;
      if (!p.pause(interval)) return;
    }
    p.hold();
  };
}

} // namespace workbook::upstreams
