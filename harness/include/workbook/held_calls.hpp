// The calls a test's fake upstream keeps unanswered. A fake upstream is a
// round_tripper whose answers the test scripts by target ("/status/503",
// "/hold/probe"...); the calls it holds stay open until the test releases
// them with a status, fails them with an error, or their caller cancels
// them through the handler's cancellation slot. This is that part, shared
// by the fake upstreams of task 18 and stretch 1.
//
// Everything below runs on one strand (executor()), where the fake upstream
// also serves. Answers go to the handler's own executor, posted, never
// inline, as a real transport's do, and into the transcript under the
// upstream's connection.
#pragma once

#include <workbook/round_trip_call.hpp>
#include <workbook/round_tripper.hpp>
#include <workbook/transcript.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace workbook {

class held_calls {
public:
  // `name` is the upstream's connection in the transcript.
  held_calls(boost::asio::io_context& ioc, std::string const& name)
      : ioc_(ioc), strand_(boost::asio::make_strand(ioc)), id_(transcript::open_connection(name))
  {
  }

  // The upstream's strand: serve there, and cancel a held call there.
  boost::asio::any_io_executor executor() const { return strand_; }
  // Calls held now.
  int held() const { return held_count_.load(); }
  // Stop writing into the transcript (for the tests that make a thousand calls).
  void quiet(bool q) { quiet_.store(q); }
  void note(transcript::direction dir, std::string const& text)
  {
    if (!quiet_.load()) transcript::record(id_, dir, text);
  }

  // On the strand: keeps the call until the test releases or fails it, or
  // its caller cancels it. `on_answer` runs, on the strand, just before the
  // test's release or failure answers it (not when its caller cancels it).
  void hold(std::string target, round_trip_handler handler, std::function<void()> on_answer = {})
  {
    auto const id = next_id_++;
    auto slot = boost::asio::get_associated_cancellation_slot(handler);
    if (slot.is_connected()) slot.assign([this, id](boost::asio::cancellation_type) { cancel(id); });
    held_.emplace(id, held_call{std::move(target), std::move(handler), std::move(on_answer)});
    held_count_.fetch_add(1);
  }

  // From any thread: answers the held calls whose target begins with
  // `prefix` with `status`, or fails them with `ec`, in the order they
  // arrived.
  void release(std::string prefix, int status)
  {
    boost::asio::post(strand_, [this, prefix = std::move(prefix), status] {
      for (auto& h : take(prefix)) complete(std::move(h), {}, response(status));
    });
  }
  void fail(std::string prefix, boost::system::error_code ec)
  {
    boost::asio::post(strand_, [this, prefix = std::move(prefix), ec] {
      for (auto& h : take(prefix)) complete(std::move(h), ec, {});
    });
  }

  // On the strand: answers one call.
  void complete(round_trip_handler handler, boost::system::error_code ec, client_response res)
  {
    auto slot = boost::asio::get_associated_cancellation_slot(handler);
    if (slot.is_connected()) slot.clear();
    if (ec) note(transcript::direction::sent, "error: " + describe(ec));
    else note(transcript::direction::sent, std::to_string(res.result_int()) + " \"" + res.body() + "\"");
    boost::asio::post(ioc_, boost::asio::append(std::move(handler), ec, std::move(res)));
  }

  // The fake upstream's response with `status`: "X-Upstream: fake", and a
  // body that names the status where one is allowed.
  static client_response response(int status)
  {
    client_response r;
    r.version(11);
    r.result(static_cast<unsigned>(status));
    r.set("X-Upstream", "fake");
    if (status >= 200 && status != 204 && status != 304) r.body() = "status " + std::to_string(status) + " from the upstream";
    r.prepare_payload();
    return r;
  }

private:
  struct held_call {
    std::string target;
    round_trip_handler handler;
    std::function<void()> on_answer;
  };

  // From the slot's handler: complete later, not inside it (complete()
  // clears the slot, which would destroy the handler that is running).
  void cancel(std::uint64_t id)
  {
    auto it = held_.find(id);
    if (it == held_.end()) return;
    auto handler = std::move(it->second.handler);
    held_.erase(it);
    held_count_.fetch_sub(1);
    boost::asio::post(strand_, [this, handler = std::move(handler)]() mutable {
      complete(std::move(handler), boost::asio::error::operation_aborted, {});
    });
  }

  std::vector<round_trip_handler> take(std::string const& prefix)
  {
    std::vector<round_trip_handler> out;
    for (auto it = held_.begin(); it != held_.end();) {
      if (it->second.target.rfind(prefix, 0) == 0) {
        if (it->second.on_answer) it->second.on_answer();
        out.push_back(std::move(it->second.handler));
        it = held_.erase(it);
        held_count_.fetch_sub(1);
      } else {
        ++it;
      }
    }
    return out;
  }

  boost::asio::io_context& ioc_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  int const id_;
  std::atomic<int> held_count_{0};
  std::atomic<bool> quiet_{false};
  std::map<std::uint64_t, held_call> held_;  // on the strand, in the order the calls arrived
  std::uint64_t next_id_ = 1;
};

} // namespace workbook
