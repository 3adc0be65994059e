// What every task's `serve` tool does after it has made its server: run the
// io_context on a number of threads, this one included, until SIGINT or
// SIGTERM, then join them all. (The tools parse their flags with CLI11.)
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <thread>
#include <vector>

namespace workbook {

inline void run_until_signal(boost::asio::io_context& ioc, unsigned threads)
{
  boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (!ec) ioc.stop();
  });
  std::vector<std::thread> others;
  for (unsigned i = 1; i < threads; ++i) others.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : others) t.join();
}

} // namespace workbook
