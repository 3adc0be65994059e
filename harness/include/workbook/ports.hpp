// Ports on 127.0.0.1 that misbehave on purpose, for tests of clients: one
// that refuses every connection at once, one that never answers.
#pragma once

#include <workbook/process.hpp>   // unique_fd

#include <string>
#include <vector>

namespace workbook {

// Bound but not listening: a connection is refused at once. The port stays
// reserved (no other test can take it) while this object lives.
class refusing_port {
public:
  refusing_port();
  unsigned short port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }   // as test_server::url()

private:
  unique_fd socket_;
  unsigned short port_ = 0;
};

// A connection attempt is never answered, so a connect neither succeeds nor
// fails until the client gives up. It listens with a backlog of 0 and never
// accepts; the constructor fills its accept queue, and Linux then drops
// further SYNs instead of answering them (a client would retransmit for
// about two minutes). Everything closes with this object.
class unanswered_port {
public:
  unanswered_port();
  unsigned short port() const { return port_; }
  // False if this kernel answered every attempt: a test cannot rely on it here.
  bool unanswered() const { return full_; }
  // Stops listening: the next SYN the client retransmits is refused.
  void close() { listener_.reset(); }

private:
  unique_fd listener_;
  std::vector<unique_fd> fillers_;
  unsigned short port_ = 0;
  bool full_ = false;
};

} // namespace workbook
