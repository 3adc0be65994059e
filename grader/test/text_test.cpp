#include "build.hpp"
#include "text.hpp"

#include <catch2/catch.hpp>

using namespace grader;

TEST_CASE("unknown words get the nearest suggestion", "[text]")
{
  std::vector<std::string> const ids{"task-01", "task-02", "selftest", "list"};
  CHECK(nearest("task-0l", ids) == "task-01");
  CHECK(nearest("selftets", ids) == "selftest");
  CHECK(nearest("completely-different", ids).empty());
}

TEST_CASE("the first compiler error is picked out of a build log", "[build]")
{
  std::string const log =
      "[1/3] Building CXX object x.o\n"
      "FAILED: CMakeFiles/task-01-stub.dir/exercises/task-01/hello_server.cpp.o\n"
      "clang++ -c hello_server.cpp\n"
      "In file included from /w/exercises/task-01/hello_server.cpp:3:\n"
      "/w/exercises/task-01/hello_server.cpp:12:5: error: use of undeclared identifier 'foo'\n"
      "    foo();\n"
      "    ^\n"
      "/w/exercises/task-01/hello_server.cpp:20:1: error: expected '}'\n"
      "2 errors generated.\n"
      "ninja: build stopped: subcommand failed.\n";
  auto const e = first_error(log);
  CHECK(e.find("undeclared identifier 'foo'") != std::string::npos);
  CHECK(e.find("In file included from") != std::string::npos);
  CHECK(e.find("expected '}'") == std::string::npos);
  CHECK(failed_objects(log) == std::vector<std::string>{"CMakeFiles/task-01-stub.dir/exercises/task-01/hello_server.cpp.o"});
}

TEST_CASE("padding counts characters, not bytes", "[text]")
{
  CHECK(pad("·", 3) == "·  ");
  CHECK(pad("ab", 1) == "ab");
}

TEST_CASE("tags compare as Catch2 compares them", "[text]")
{
  CHECK(same_tag("[AC1]", "ac1"));
  CHECK(same_tag("AC1", "AC1"));
  CHECK_FALSE(same_tag("AC1", "AC10"));
  CHECK_FALSE(same_tag("[AC1]", "AC2"));
}

TEST_CASE("markup escaping holds in HTML and XML text and quoted attributes", "[text]")
{
  CHECK(markup_escaped(R"(<a href="x">'&'</a>)") == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  CHECK(markup_escaped("line\n\ttab\r") == "line\n\ttab\r");
  CHECK(markup_escaped(std::string("bell\a nul\0 esc\x1b", 15)) == "bell? nul? esc?");
  CHECK(markup_escaped("µ · ✓") == "µ · ✓");   // UTF-8 passes through
}
