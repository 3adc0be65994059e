// Task 12's reference proxy in a main, for the benchmark: one io_context on
// this thread, /api/* relayed to the backend on 127.0.0.1:<argv[1]>.
#include "proxy.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv)
{
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s BACKEND-PORT\n", argv[0]);
    return 2;
  }
  boost::asio::io_context ioc(1);
  auto const loopback = boost::asio::ip::make_address("127.0.0.1");
  task12::proxy_options options;
  options.backend = {loopback, static_cast<unsigned short>(std::atoi(argv[1]))};
  task12::reverse_proxy proxy(ioc, {loopback, 0}, options);
  proxy.start();
  std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(proxy.local_endpoint().port()));
  std::fflush(stdout);
  ioc.run();
}
