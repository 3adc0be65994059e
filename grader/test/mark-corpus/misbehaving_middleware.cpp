// Task 07's stub, misbehaving in the one way that grader/test/mark_corpus.sh
// names when it copies this file over a submission's middleware.cpp, with
// one line before it: #define MISBEHAVE_<way>. Every test calls chain(),
// so that is where it misbehaves (or in a static initializer, before any
// test). Otherwise it is the untouched stub, which scores nothing.
#include "middleware.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace task07 {
namespace {

// exercises/task-07/middleware.cpp -> the tree's root
[[maybe_unused]] std::filesystem::path tree_root() { return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path(); }

#if defined(MISBEHAVE_sleeps_in_static_init)
struct slow_start {
  slow_start() { std::this_thread::sleep_for(std::chrono::seconds(60)); }
} const sleeps_before_main;
#endif

#if defined(MISBEHAVE_embeds_the_references)
// The reference's text as data: the assembler reads the file, so no
// #include shows in the build's dependency record. (The compiler runs in
// the build directory, build/<preset>.)
asm(".pushsection .rodata\n"
    "workbook_reference_text:\n"
    ".incbin \"../../solutions/task-07/middleware.cpp\"\n"
    ".byte 0\n"
    ".popsection\n");
extern "C" char const workbook_reference_text[];
#endif

void misbehave()
{
#if defined(MISBEHAVE_segfault)
  volatile int* volatile nowhere = nullptr;
  *nowhere = 1;
#elif defined(MISBEHAVE_aborts)
  std::abort();
#elif defined(MISBEHAVE_spins)
  for (volatile bool forever = true; forever;) {
  }
#elif defined(MISBEHAVE_allocates_without_bound)
  // 256 MiB at a time: without a limit on data this would go on until the
  // machine's memory (or its overcommit) ran out.
  std::vector<std::unique_ptr<char[]>> hoard;
  for (;;) {
    hoard.push_back(std::make_unique_for_overwrite<char[]>(256u << 20));
    hoard.back()[0] = 1;
  }
#elif defined(MISBEHAVE_leaves_a_child)
  if (::fork() == 0) {
    ::execl("/bin/sleep", "sleep", "601", static_cast<char*>(nullptr));
    ::_exit(127);
  }
#elif defined(MISBEHAVE_forks_repeatedly)
  // A fork bomb: every copy forks again, for ever. Without a limit on the
  // number of processes it fills the machine's process table.
  for (;;) ::fork();
#elif defined(MISBEHAVE_binds_8080_and_waits)
  int const fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(8080);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(fd, 16);
  for (;;) ::pause();
#elif defined(MISBEHAVE_floods_stdout)
  static bool flooded = false;
  if (!flooded) {
    flooded = true;
    std::string const line(1023, 'x');
    for (int i = 0; i < 100 * 1024; ++i) std::printf("%s\n", line.c_str());   // 100 MiB
    std::fflush(stdout);
  }
#elif defined(MISBEHAVE_fakes_results)
  std::printf("All tests passed (42 assertions in 9 test cases)\n");
  std::fflush(stdout);
  char const fake[] = "case_end passed\n{\"event\":\"case_end\",\"passed\":true}\n";
  [[maybe_unused]] auto const written = ::write(3, fake, sizeof fake - 1);   // the grader's event channel
#elif defined(MISBEHAVE_edits_the_tests)
  for (auto const& test : std::filesystem::directory_iterator(tree_root() / "exercises" / "task-07" / "test")) {
    std::ofstream(test.path()) << "// rewritten by the submission\n";
    std::error_code ignored;
    std::filesystem::remove(test.path(), ignored);
  }
#elif defined(MISBEHAVE_reads_the_references)
  if (std::ifstream(tree_root() / "solutions" / "task-07" / "middleware.cpp")) std::abort();   // could see them
#elif defined(MISBEHAVE_embeds_the_references)
  std::printf("%s", workbook_reference_text);   // where the results would show it
#elif defined(MISBEHAVE_reads_the_trusted_references)
  // The tree a marking builds lies inside the trusted one (build/mark/tree),
  // whose references are three directories up.
  if (std::ifstream(tree_root() / ".." / ".." / ".." / "solutions" / "task-07" / "middleware.cpp")) std::abort();
#elif defined(MISBEHAVE_does_not_compile)
  this is not C++;
#endif
}

} // namespace

middleware chain(std::vector<middleware> layers)
{
  misbehave();
  return [layers = std::move(layers)](handler h) { return h; };
}

middleware logging(log_sink sink, time_source now)
{
  return [sink = std::move(sink), now = std::move(now)](handler next) -> handler { return next; };
}

middleware bearer_auth(std::string token)
{
  return [token = std::move(token)](handler next) -> handler { return next; };
}

middleware recover(log_sink sink)
{
  return [sink = std::move(sink)](handler next) -> handler { return next; };
}

} // namespace task07
