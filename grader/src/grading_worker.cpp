#include "grading_worker.hpp"
#include "grade.hpp"
#include "pristine.hpp"
#include "scoring.hpp"
#include "watch_loop.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <system_error>

#include <sys/eventfd.h>
#include <unistd.h>

namespace grader::web {

namespace {

void signal_fd(int fd)
{
  std::uint64_t const one = 1;
  [[maybe_unused]] auto const n = ::write(fd, &one, sizeof one);
}

void drain(int fd)
{
  std::uint64_t value = 0;
  [[maybe_unused]] auto const n = ::read(fd, &value, sizeof value);
}

} // namespace

grading_worker::grading_worker(context const& ctx, boost::asio::any_io_executor io, grading_news news)
    : ctx_(ctx), io_(std::move(io)), news_(std::move(news)), wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      stop_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK))
{
  if (wake_.get() < 0 || stop_.get() < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  thread_ = std::thread([this] { run(); });
}

grading_worker::~grading_worker() { stop(); }

void grading_worker::grade(std::string const& task)
{
  {
    std::lock_guard const lock(mutex_);
    if (std::find(queue_.begin(), queue_.end(), task) != queue_.end()) return;   // already asked for
    queue_.push_back(task);
  }
  signal_fd(wake_.get());
}

void grading_worker::stop()
{
  if (!thread_.joinable()) return;
  signal_fd(stop_.get());
  thread_.join();
}

std::optional<std::string> grading_worker::next_request()
{
  std::lock_guard const lock(mutex_);
  if (queue_.empty()) return std::nullopt;
  std::string task = std::move(queue_.front());
  queue_.pop_front();
  return task;
}

void grading_worker::run()
{
  std::set<std::string> watched;
  int const others[] = {stop_.get(), wake_.get()};
  for (;;) {
    while (auto const id = next_request()) {
      if (task const* t = ctx_.cat.find(*id)) {
        if (watched.insert(t->id).second) watch_.add(*t);   // from now on, its saves grade it
        grade_now(t->id);
      }
    }
    auto const event = watch_.wait(others);
    if (auto const* saved = std::get_if<save_watch::saved>(&event)) {
      for (auto const& id : saved->tasks) grade(id);
      continue;
    }
    if (std::get<save_watch::woken>(event).index == 0) return;   // stop
    drain(wake_.get());
  }
}

// What `grader watch` does on a save: build, run, record (no question asked:
// the page has its own self-grade form).
void grading_worker::grade_now(std::string const& id)
{
  task const& t = *ctx_.cat.find(id);
  boost::asio::post(io_, [news = news_, id] { news.building(id); });
  verdict v;
  try {
    keep_pristine_copy(ctx_.paths, t);
    v = grader::grade(ctx_.paths, t, "stub");
    if (v.result != verdict::outcome::workbook_broken) record_run(ctx_.paths, t, v, false);
  } catch (std::exception const& e) {
    // A disk that refuses the progress file, a build directory gone: the page
    // says so, and the worker lives on for the next save.
    v = verdict{};
    v.task = t.id;
    v.result = verdict::outcome::workbook_broken;
    v.detail = std::string("grading stopped: ") + e.what() + "\n";
  }
  auto const sc = score_of(v);
  std::printf("%s: %d of %d criteria pass (%s; built in %.1f s, ran in %.1f s)\n", id.c_str(), sc.criteria_passed,
              sc.criteria_total, outcome_word(v.result), v.build_seconds, v.run_seconds);
  std::fflush(stdout);
  boost::asio::post(io_, [news = news_, id, v = std::move(v)]() mutable { news.graded(id, std::move(v)); });
}

} // namespace grader::web
