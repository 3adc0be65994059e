// Blocking clients for tests. Every exchange is recorded in the transcript,
// and every wait is bounded: a server that never answers yields a response
// with status 0 and an error, not a hung test.
#pragma once

#include <workbook/http.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace workbook {

inline constexpr std::chrono::milliseconds default_timeout{2000};

// An HTTP/1.1 client holding one keep-alive connection to 127.0.0.1:port.
// It reconnects when the server has closed the connection.
class test_client {
public:
  explicit test_client(unsigned short port, std::chrono::milliseconds timeout = default_timeout);
  ~test_client();
  test_client(test_client&&) noexcept;
  test_client& operator=(test_client&&) noexcept;

  response get(std::string target);
  response send(request req);

  // How many TCP connections this client has opened so far.
  int connections_opened() const;
  void close();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// One TCP connection that sends exactly the bytes it is given: for
// malformed requests, pipelining, half-sent requests and idle connections.
class raw_connection {
public:
  explicit raw_connection(unsigned short port, std::chrono::milliseconds timeout = default_timeout);
  ~raw_connection();
  raw_connection(raw_connection&&) noexcept;
  raw_connection& operator=(raw_connection&&) noexcept;

  bool connected() const;
  std::string const& error() const;   // why connecting failed

  bool send(std::string_view bytes);
  // Reads one response (header and body); status 0 and error on failure.
  response read_response();
  // True when the peer closes the connection within `within`, or closed it
  // already (a read that ended at its close); false when it is still open
  // then, or when this side closed it (close(), or a read that timed out:
  // tcp_stream closes the socket when its deadline expires).
  bool closed_by_peer(std::chrono::milliseconds within);
  void close();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace workbook
