// Runs an io_context on N threads for the length of a scope: the test owns
// the threads, so every one is joined, whatever the test does.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <optional>
#include <thread>
#include <vector>

namespace workbook {

class io_threads {
public:
  explicit io_threads(boost::asio::io_context& ioc, int threads = 1)
      : ioc_(ioc), work_(boost::asio::make_work_guard(ioc))
  {
    for (int i = 0; i < threads; ++i)
      threads_.emplace_back([this] { ioc_.run(); });
  }
  io_threads(io_threads const&) = delete;
  io_threads& operator=(io_threads const&) = delete;
  ~io_threads() { stop(); }

  // Stops the io_context and joins; pending handlers are not run.
  void stop()
  {
    work_.reset();
    ioc_.stop();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

private:
  boost::asio::io_context& ioc_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
};

} // namespace workbook
