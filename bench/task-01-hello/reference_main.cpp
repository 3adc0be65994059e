// Task 01's reference server in a main, for the benchmark: one io_context,
// run by this thread alone (the benchmark pins it to one core), serving
// GET / with "hello\n" as text/plain.
#include "hello_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <cstdio>
#include <thread>

int main()
{
  boost::asio::io_context ioc(1);
  task01::hello_server server(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0},
                              [] { std::this_thread::sleep_for(std::chrono::milliseconds(100)); });
  server.start();
  std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(server.local_endpoint().port()));
  std::fflush(stdout);
  ioc.run();
}
