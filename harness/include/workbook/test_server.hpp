// A server on 127.0.0.1, port 0, on its own threads: the upstream or peer a
// test talks to. It counts what happens so tests can assert on the server's
// side of the story (connections accepted, open, requests served).
#pragma once

#include <workbook/http.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace workbook {

// One accepted connection, driven by a blocking script on its own thread.
class peer {
public:
  virtual ~peer() = default;
  // Reads one request (head and Content-Length body); "" when the client
  // closed, the server stopped, or nothing arrived within `timeout`.
  virtual std::string read_request(std::chrono::milliseconds timeout = std::chrono::seconds(5)) = 0;
  virtual bool write(std::string_view bytes) = 0;
  // Waits `d`; returns false early if the server is stopping.
  virtual bool pause(std::chrono::milliseconds d) = 0;
  // Keeps the connection open until the client closes it or the server stops.
  virtual void hold() = 0;
  virtual void close() = 0;
};

class test_server {
public:
  using handler = std::function<response(request const&)>;
  using script = std::function<void(peer&)>;

  // Serves HTTP/1.1 with keep-alive, calling h for each request. An
  // exception escaping h, of any type, becomes a 500 whose body starts with
  // "test server: " and says what was thrown; the connection stays open.
  static test_server serving(handler h);
  // Runs s on a thread of its own for each accepted connection.
  static test_server scripted(script s);

  ~test_server();
  test_server(test_server&&) noexcept;
  test_server& operator=(test_server&&) noexcept;

  unsigned short port() const;         // still answers after stop()
  std::string url() const;             // "http://127.0.0.1:PORT"

  int accepted() const;                // connections accepted so far
  int open() const;                    // connections not yet closed
  int requests() const;                // requests read so far

  // Stops accepting and closes every connection; idempotent.
  void stop();

private:
  struct impl;
  explicit test_server(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

// A complete HTTP/1.1 response as bytes, for scripts.
std::string http_response(int status, std::string_view body,
                          header_list const& headers = {});

} // namespace workbook
