// The Catch2 main every task's test binary shares, compiled once.
//
// Besides Catch2's own reporting it streams the events of
// workbook/events.hpp (the grader's protocol) to the file named by
// WORKBOOK_EVENTS, and lists the test cases for --workbook-list.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <workbook/events.hpp>
#include <workbook/sanitizers.hpp>
#include <workbook/skip.hpp>
#include <workbook/transcript.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

namespace {

namespace events = workbook::events;

events::case_info info_of(Catch::TestCaseInfo const& info)
{
  return {info.name, {info.tags.begin(), info.tags.end()}, info.lineInfo.file, static_cast<int>(info.lineInfo.line)};
}

class event_stream {
public:
  event_stream()
  {
    if (char const* path = std::getenv(events::env_var); path && *path)
      file_ = std::fopen(path, "w");
  }
  ~event_stream()
  {
    if (file_) std::fclose(file_);
  }
  event_stream(event_stream const&) = delete;
  event_stream& operator=(event_stream const&) = delete;

  bool active() const { return file_ != nullptr; }

  void emit(events::event const& event)
  {
    if (!file_) return;
    std::string const line = events::encode(event) + "\n";
    std::fwrite(line.data(), 1, line.size(), file_);
    std::fflush(file_);
  }

private:
  std::FILE* file_ = nullptr;
};

class workbook_listener : public Catch::TestEventListenerBase {
public:
  using TestEventListenerBase::TestEventListenerBase;

  void testCaseStarting(Catch::TestCaseInfo const& info) override
  {
    workbook::transcript::clear();
    current_ = info.name;
    started_ = std::chrono::steady_clock::now();
    stream().emit(events::case_start{info_of(info)});
  }

  bool assertionEnded(Catch::AssertionStats const& stats) override
  {
    auto const& result = stats.assertionResult;
    if (result.isOk()) return true;
    std::string const transcript = workbook::transcript::render(workbook::transcript::snapshot());
    events::failure f;
    f.case_name = current_;
    f.expr = result.hasExpression() ? result.getExpressionInMacro() : "";
    f.expanded = result.hasExpandedExpression() ? result.getExpandedExpression() : "";
    f.message = result.hasMessage() ? result.getMessage() : "";
    for (auto const& m : stats.infoMessages) f.info.push_back(m.message);
    f.file = result.getSourceInfo().file;
    f.line = static_cast<int>(result.getSourceInfo().line);
    f.transcript = transcript;
    // Catch2 reports a fatal signal as an assertion, ends the test case for
    // its reporters, then lets the signal kill the process.
    f.fatal = result.getResultType() == Catch::ResultWas::FatalErrorCondition;
    stream().emit(f);
    // Run by hand (or by ctest), show the exchange right under Catch2's report.
    if (!stream().active() && !transcript.empty())
      std::cerr << "--- exchange so far in \"" << current_ << "\":\n" << transcript << "---\n";
    return true;
  }

  void testCaseEnded(Catch::TestCaseStats const& stats) override
  {
    double const seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    stream().emit(events::case_end{stats.testInfo.name, stats.totals.assertions.failed == 0,
                                   static_cast<int>(stats.totals.assertions.failed),
                                   static_cast<int>(stats.totals.assertions.total()), seconds,
                                   workbook::detail::take_skip_reason()});
  }

private:
  static event_stream& stream()
  {
    static event_stream stream;
    return stream;
  }

  std::string current_;
  std::chrono::steady_clock::time_point started_;
};

int list_tests()
{
  std::vector<events::case_info> cases;
  for (auto const& tc : Catch::getRegistryHub().getTestCaseRegistry().getAllTests())
    cases.push_back(info_of(tc.getTestCaseInfo()));
  std::cout << events::encode_listing(cases) << "\n";
  return 0;
}

} // namespace

CATCH_REGISTER_LISTENER(workbook_listener)

#if defined(WORKBOOK_TSAN)
// ThreadSanitizer does not model std::atomic_thread_fence, and Asio counts
// the references to an any_executor's shared target with a release
// decrement followed by an acquire fence (asio/detail/atomic_count.hpp,
// ref_count_down): correct, but reported as a race on the target's delete.
//
// OpenSSL is not built with ThreadSanitizer either. Handshakes on one
// ssl::context at once are what OpenSSL supports, and they share the
// context's CA certificates, whose extensions OpenSSL decodes on first use
// and caches under the certificate's lock. Later handshakes skip the lock
// when an atomic flag says "cached" (x509v3_cache_extensions: an acquire
// load paired with a release store, in libcrypto, which TSan cannot see),
// so one handshake's memcmp of the key identifier is reported as racing
// the other's memcpy (task 20, one run in fifteen with both cores busy).
// Both accesses are inside libcrypto, on its own memory.
//
// Nor is libstdc++: std::exception_ptr counts its references with atomics
// inside libstdc++.so. co_spawn hands its completion handler a copy of the
// coroutine's exception_ptr; the handler reads the exception on one thread
// while the coroutine's frame drops the last reference on another, and the
// free is reported as racing the read (task 20's pool under stretch 3's
// tests, 3 runs in 6 with both cores busy).
//
// Every test binary links this file; the runtime asks for this list itself.
extern "C" char const* __tsan_default_suppressions()
{
  return "race:boost::asio::execution::detail::shared_target_executor::~shared_target_executor\n"
         "race:libcrypto.so\n"
         "race:std::__exception_ptr::exception_ptr::_M_release\n";
}
#endif

int main(int argc, char* argv[])
{
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], events::list_flag) == 0) return list_tests();
  return Catch::Session().run(argc, argv);
}
