// One call on a round_tripper, made the way a test wants to watch it: the
// handler keeps what it was called with in a box the test waits on for a
// bounded time, says so when it is destroyed without being called (so a
// dropped handler ends the wait at once instead of timing out), and carries
// a cancellation slot the test can fire. Every call and its answer go into
// the transcript under the test's caller connection.
//
//   auto call = workbook::start_call(breaker, request, upstream_executor, caller);
//   call.cancel();                 // a terminal cancellation, on upstream_executor
//   auto a = call.wait();          // the answer, or why there is none
//   INFO(a.describe()); REQUIRE(a.completed);
#pragma once

#include <workbook/round_tripper.hpp>
#include <workbook/transcript.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

namespace workbook {

// Handlers destroyed without being called, in this process: a test that
// waits for a call to arrive somewhere can stop waiting when its handler is
// gone, and say so.
inline std::atomic<int>& dropped_handlers()
{
  static std::atomic<int> count{0};
  return count;
}

// `"Connection refused" [system:111]`: an error as the transcripts and the
// failure messages of the round-tripper tests show it.
inline std::string describe(boost::system::error_code ec)
{
  return "\"" + ec.message() + "\" [" + ec.category().name() + ":" + std::to_string(ec.value()) + "]";
}

// What one call came back with, or why nothing came back.
struct call_answer {
  bool completed = false;  // the handler ran within the wait
  bool dropped = false;    // the handler was destroyed without being called
  boost::system::error_code ec;
  int status = 0;            // response.result_int()
  std::string body;          // response.body()
  client_response response;  // the whole of it, for any other field
  std::thread::id thread;    // where the handler ran

  // `error: "Connection refused" [system:111]`, `503 "body"`, or why there is no answer.
  std::string describe() const
  {
    if (dropped) return "no answer: the handler was destroyed without being called";
    if (!completed) return "no answer within the wait";
    if (ec) return "error: " + workbook::describe(ec);
    return std::to_string(status) + " \"" + transcript::printable(body) + "\"";
  }
};

// Where a call's answer lands. The handler (an answer_reporter) fills it,
// or marks it dropped when it is destroyed uncalled; the first of the two wins.
class answer_box {
public:
  void set(call_answer a)
  {
    std::lock_guard lock(mutex_);
    if (result_ || dropped_) return;
    result_ = std::move(a);
    cv_.notify_all();
  }
  void drop()
  {
    std::lock_guard lock(mutex_);
    if (result_ || dropped_) return;
    dropped_ = true;
    dropped_handlers().fetch_add(1);
    cv_.notify_all();
  }
  // The answer once there is one, or after `within` an answer that says why not.
  call_answer wait(std::chrono::milliseconds within)
  {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, within, [&] { return result_ || dropped_; });
    if (result_) return *result_;
    call_answer a;
    a.dropped = dropped_;
    return a;
  }
  bool done() const
  {
    std::lock_guard lock(mutex_);
    return result_ || dropped_;
  }

  boost::asio::cancellation_signal signal;  // the handler's slot; lives as long as the box
  int caller = 0;                           // transcript connection, 0: none
  // Runs in the handler, before the answer is kept: what it writes is
  // there for whoever wait() gave a completed answer. It may run after the
  // test gave up waiting, so it must own (or share) what it writes to.
  std::function<void()> inside;

private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::optional<call_answer> result_;
  bool dropped_ = false;
};

// The completion handler: fills its box when called, drops it when destroyed uncalled.
class answer_reporter {
public:
  explicit answer_reporter(std::shared_ptr<answer_box> box) : box_(std::move(box)) {}
  answer_reporter(answer_reporter&&) noexcept = default;
  answer_reporter& operator=(answer_reporter&&) noexcept = default;
  answer_reporter(answer_reporter const&) = delete;
  answer_reporter& operator=(answer_reporter const&) = delete;
  ~answer_reporter()
  {
    if (box_) box_->drop();
  }

  void operator()(boost::system::error_code ec, client_response response)
  {
    auto box = std::move(box_);
    call_answer a;
    a.completed = true;
    a.ec = ec;
    a.status = static_cast<int>(response.result_int());
    a.body = response.body();
    a.response = std::move(response);
    a.thread = std::this_thread::get_id();
    if (box->inside) box->inside();
    if (box->caller != 0) transcript::record(box->caller, transcript::direction::received, a.describe());
    box->set(std::move(a));
  }

private:
  std::shared_ptr<answer_box> box_;
};

// A call in flight: wait for its answer, or cancel it.
class pending_call {
public:
  pending_call(std::shared_ptr<answer_box> box, boost::asio::any_io_executor cancel_on)
      : box_(std::move(box)), cancel_on_(std::move(cancel_on))
  {
  }

  call_answer wait() { return box_->wait(patience); }
  call_answer wait(std::chrono::milliseconds within) { return box_->wait(within); }
  bool done() const { return box_->done(); }
  // Emits a terminal cancellation on the handler's slot, on `cancel_on`
  // (where the callee keeps the slot: a slot is not thread-safe).
  void cancel()
  {
    if (box_->caller != 0) transcript::note(box_->caller, "the caller cancels the call");
    boost::asio::post(cancel_on_, [box = box_] { box->signal.emit(boost::asio::cancellation_type::terminal); });
  }

  std::chrono::milliseconds patience = std::chrono::seconds(1);  // what wait() waits

private:
  std::shared_ptr<answer_box> box_;
  boost::asio::any_io_executor cancel_on_;
};

// Starts `request` on `rt` with an answer_reporter bound to its box's
// cancellation slot (and to `handler_executor`, when given). `caller` is the
// transcript connection that records the request and its answer (0: none);
// `inside` runs in the handler, before the answer is kept.
inline pending_call start_call(round_tripper& rt, client_request request, boost::asio::any_io_executor cancel_on,
                               int caller = 0, std::function<void()> inside = {},
                               std::optional<boost::asio::any_io_executor> handler_executor = std::nullopt)
{
  auto box = std::make_shared<answer_box>();
  box->caller = caller;
  box->inside = std::move(inside);
  if (caller != 0)
    transcript::record(caller, transcript::direction::sent,
                       std::string(request.message.method_string()) + " " +
                           transcript::printable(std::string(request.message.target()), 2000));
  auto handler = boost::asio::bind_cancellation_slot(box->signal.slot(), answer_reporter(box));
  if (handler_executor)
    rt.async_round_trip(std::move(request), boost::asio::bind_executor(*handler_executor, std::move(handler)));
  else
    rt.async_round_trip(std::move(request), std::move(handler));
  return pending_call(std::move(box), std::move(cancel_on));
}

} // namespace workbook
