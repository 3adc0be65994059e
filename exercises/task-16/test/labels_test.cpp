// Task 16 · acceptance tests for labels [AC2]: a label_scope labels its
// own thread for as long as it lives, and gives back the label before it;
// samples follow; and bind_label carries a label to a handler wherever it
// runs, keeping what Asio associates with the handler (its strand, its
// cancellation slot).
#include "fixtures.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <catch2/catch.hpp>

using namespace task16_test;

namespace {

constexpr char outer_label[] = "test=outer";
constexpr char inner_label[] = "test=inner";
constexpr char x_label[] = "test=x";
constexpr char y_label[] = "test=y";
constexpr char handler_label[] = "test=handler";

std::string text(char const* label) { return label ? "\"" + std::string(label) + "\"" : "no label"; }

} // namespace

TEST_CASE("label_scope sets the thread's label and puts back the one before", "[AC2]")
{
  CHECK(task16::current_label() == nullptr);
  {
    task16::label_scope outer(outer_label);
    CHECK(text(task16::current_label()) == text(outer_label));
    {
      task16::label_scope inner(inner_label);
      CHECK(text(task16::current_label()) == text(inner_label));
    }
    INFO("after the inner scope ended");
    CHECK(text(task16::current_label()) == text(outer_label));

    // Another thread has a label of its own: none.
    char const* seen_there = outer_label;
    std::thread([&] { seen_there = task16::current_label(); }).join();
    INFO("another thread, while this one is labeled");
    CHECK(text(seen_there) == text(nullptr));
  }
  INFO("after both scopes ended");
  CHECK(text(task16::current_label()) == text(nullptr));
}

TEST_CASE("samples follow the label through nested scopes, and stop at their end", "[AC2]")
{
  // One job in four steps: under the outer label, under the inner one, under
  // the outer one again, and under none. Each step burns until its label
  // has gained 5 samples (the test watches the profile).
  constexpr unsigned hz = 1000;
  task16::profiler prof({hz});
  worker w(&prof);
  prof.start();
  {
    INFO("start() has returned, and running() says the profiler does not run: there is nothing to watch");
    REQUIRE(prof.running());
  }
  stepper st;
  w.start([&] {
    {
      task16::label_scope outer(outer_label);
      st.burn_while(0);
      {
        task16::label_scope inner(inner_label);
        st.burn_while(1);
      }
      st.burn_while(2);  // under the outer label again
    }
    st.burn_while(3);  // under none
  });
  struct step {
    char const* label;
    char const* what;
  };
  step const steps[] = {{outer_label, "in the outer scope"},
                        {inner_label, "in the inner scope"},
                        {outer_label, "in the outer scope, once the inner one had ended"},
                        {nullptr, "after both scopes had ended"}};
  int reached = 0;
  for (auto const& s : steps) {
    auto const base = samples_under(prof.snapshot(), s.label);
    if (!until_seen(w, [&] { return samples_under(prof.snapshot(), s.label) >= base + 5; })) break;
    ++reached;
    st.next();
  }
  st.finish();
  REQUIRE(w.wait());
  auto const snap = prof.snapshot();
  prof.stop();
  if (reached < 4) {
    INFO("the worker burned a second of CPU " << steps[reached].what << " and " << text(steps[reached].label)
                                              << " gained fewer than 5 samples meanwhile; the profile: " << describe(snap));
    CHECK(reached == 4);
  }
}

TEST_CASE("two threads with different labels at once keep their samples apart", "[AC2]")
{
  constexpr unsigned hz = 1000;
  task16::profiler prof({hz});
  worker x(&prof), y(&prof);
  prof.start();
  {
    INFO("start() has returned, and running() says the profiler does not run: there is nothing to watch");
    REQUIRE(prof.running());
  }
  stepper st;
  x.start([&] {
    task16::label_scope scope(x_label);
    st.burn_while(0);
  });
  y.start([&] {
    task16::label_scope scope(y_label);
    st.burn_while(0);
  });
  bool const both = until_seen(x, [&] {
    auto const snap = prof.snapshot();
    return samples_under(snap, x_label) >= 15 && samples_under(snap, y_label) >= 15;
  });
  st.finish();
  bool const finished = x.wait() && y.wait();
  auto const snap = prof.snapshot();
  prof.stop();
  REQUIRE(finished);

  auto const on_x = static_cast<double>(samples_under(snap, x_label));
  auto const on_y = static_cast<double>(samples_under(snap, y_label));
  INFO("one thread burned " << ms_of(x.cpu()) << " ms under \"" << x_label << "\", the other " << ms_of(y.cpu())
                            << " ms under \"" << y_label << "\", at the same time, until each label had 15 samples "
                            << "(or a second of CPU had passed); the profile: " << describe(snap));
  CHECK(both);
  // A thread's samples can be no more than its CPU time says.
  CHECK(on_x <= 1.3 * expected_samples(x.cpu(), hz) + 5);
  CHECK(on_y <= 1.3 * expected_samples(y.cpu(), hz) + 5);
}

TEST_CASE("bind_label runs a handler under its label on any io thread, and only there", "[AC2]")
{
  {
    // Called directly: the label around the call, and the one before after it.
    char const* seen = nullptr;
    auto h = task16::bind_label(handler_label, [&] { seen = task16::current_label(); });
    std::move(h)();
    CHECK(text(seen) == text(handler_label));
    CHECK(text(task16::current_label()) == text(nullptr));
  }

  // Posted: labeled handlers and plain ones, interleaved, on two threads.
  net::io_context ioc;
  constexpr int n = 200;
  std::atomic<int> ran{0}, unlabeled{0}, elsewhere{0}, leaked{0};
  for (int i = 0; i < n; ++i) {
    net::post(ioc, task16::bind_label(handler_label, [&] {
                if (!task16::current_label() || std::strcmp(task16::current_label(), handler_label) != 0) ++unlabeled;
                if (!ioc.get_executor().running_in_this_thread()) ++elsewhere;
                ++ran;
              }));
    net::post(ioc, [&] {
      if (task16::current_label() != nullptr) ++leaked;
      ++ran;
    });
  }
  sampled_io io(ioc, nullptr, 2);
  bool const all_ran = workbook::eventually([&] { return ran.load() == 2 * n; }, 5s);
  io.stop();
  INFO(n << " labeled handlers and " << n << " plain ones posted to an io_context run by two threads: " << ran.load()
         << " ran; labeled ones without their label: " << unlabeled.load()
         << "; labeled ones not on the io_context's threads: " << elsewhere.load()
         << "; plain ones that found a label on their thread: " << leaked.load());
  CHECK(all_ran);
  CHECK(unlabeled.load() == 0);
  CHECK(elsewhere.load() == 0);
  CHECK(leaked.load() == 0);
}

TEST_CASE("bind_label keeps a handler's strand and cancellation slot", "[AC2]")
{
  net::io_context ioc;
  auto strand = net::make_strand(ioc);
  constexpr int n = 200;
  std::atomic<int> ran{0}, off_strand{0}, unlabeled{0};
  for (int i = 0; i < n; ++i)
    net::post(ioc, task16::bind_label(handler_label, net::bind_executor(strand, [&] {
                                        if (!strand.running_in_this_thread()) ++off_strand;
                                        if (!task16::current_label()) ++unlabeled;
                                        ++ran;
                                      })));
  sampled_io io(ioc, nullptr, 2);
  bool const all_ran = workbook::eventually([&] { return ran.load() == n; }, 5s);
  io.stop();
  INFO(n << " labeled handlers bound to a strand, posted to an io_context run by two threads: " << ran.load()
         << " ran, " << off_strand.load() << " of them off the strand, " << unlabeled.load() << " without a label");
  CHECK(all_ran);
  CHECK(off_strand.load() == 0);
  CHECK(unlabeled.load() == 0);

  net::cancellation_signal signal;
  auto h = task16::bind_label(handler_label, net::bind_cancellation_slot(signal.slot(), [] {}));
  INFO("a handler bound to a cancellation slot, then labeled: the slot Asio finds on the labeled handler");
  CHECK(net::get_associated_cancellation_slot(h).is_connected());
}
