// Task 02 · AC5: the line of Beast's source named in fetch.cpp is checked
// against the installed Beast (Boost 1.81, as Debian installs it).
#include <workbook/implementation.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <vector>

namespace {

std::filesystem::path const beast_file = "/usr/include/boost/beast/core/impl/basic_stream.hpp";

std::vector<std::string> lines_of(std::filesystem::path const& p)
{
  std::vector<std::string> lines;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A line where an operation starts waiting on one of the stream's deadline
// timers: the read and write timers (`read.timer`, `write.timer`, or
// `state().timer`, which is one of them), never the rate-limit timer
// (`impl_->timer`). Lines that only set the timer's expiry (`expires_after`,
// `expires_at`, where basic_stream::expires_after stores your deadline) are
// not the answer: step 5 asks where that stored time becomes a wait.
bool arms_deadline_timer(std::string const& line)
{
  static std::regex const arming(R"((state\(\)|\bread|\bwrite)\.timer\.async_wait\()");
  return std::regex_search(line, arming);
}

} // namespace

TEST_CASE("the comment names a line of basic_stream.hpp where an operation starts waiting on the deadline timer", "[AC5]")
{
  auto const source = workbook::implementation_source();
  std::regex const comment(R"(//\s*Timer armed at:\s*(?:/usr/include/)?boost/beast/core/impl/basic_stream\.hpp:(\d+))");
  std::smatch m;
  bool const found = std::regex_search(source, m, comment);
  INFO("expected a comment in " << workbook::implementation().sources.front().filename().string()
       << " of the form\n  // Timer armed at: boost/beast/core/impl/basic_stream.hpp:NNN\n"
          "with NNN the line number");
  REQUIRE(found);

  auto const named = std::stoul(m[1].str());
  auto const lines = lines_of(beast_file);
  INFO(beast_file.string() << " has " << lines.size() << " lines");
  REQUIRE(!lines.empty());
  REQUIRE(named >= 1);
  REQUIRE(named <= lines.size());

  // One line either side is forgiven: a call spread over several lines.
  std::ostringstream around;
  bool arms = false;
  for (auto n = named > 1 ? named - 1 : named; n <= std::min<std::size_t>(named + 1, lines.size()); ++n) {
    around << "\n  " << n << (n == named ? " >" : "  ") << " " << lines[n - 1];
    arms = arms || arms_deadline_timer(lines[n - 1]);
  }
  INFO("you named line " << named << "; there (and one line either side) basic_stream.hpp says:"
       << around.str());
  INFO("the line must start a wait on the stream's read/write deadline timer (`.timer.async_wait(`). "
       "Where expires_after stores the time (`.timer.expires_after(`) is where the deadline is set, "
       "not where it starts to run; the rate-limit timer `impl_->timer` does not count");
  CHECK(arms);
}
