#include "scaffold.hpp"
#include "catalog.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <regex>
#include <string_view>

namespace fs = std::filesystem;

namespace grader {

namespace {

// The files of a new task. @ID@ task-21, @NAME@ "Task 21", @NS@ task21,
// @TITLE@, @DIFFICULTY@ and @TOPIC@ are replaced. The placeholder contract is
// a greeting: small enough to delete at a glance, real enough that the
// reference passes, the stub fails and `grader check` has something to prove.
struct file_template {
  std::string_view path;  // below the workbook root
  std::string_view text;
};

constexpr std::string_view readme = R"(# @NAME@ · @TITLE@

## Goal

What the student builds and why it matters, in a paragraph: the Go
behaviour this ports, and where its counterpart lives in Beast or Asio.

## Difficulty

@DIFFICULTY@

## Skills

- The skill this task teaches, one bullet each

## Setup

- Open `@TOPIC@.hpp` (the contract: do not change it) and `@TOPIC@.cpp`
  (yours to edit).
- Run `grader @ID@`: every criterion fails until you write the code.

## Steps

1. The first step, in the order the stub's `TODO(step 1)` follows.
2. The second step (`TODO(step 2)`).

## Acceptance criteria

- **AC1** · `greet("Ada")` returns `hello, Ada!`.
- **AC2** · An empty name is greeted too: `greet("")` returns `hello, !`.

## Hints

- **AC1** · A hint nudges and points into the source; it never hands over the line of code.
- **AC2** · One hint per criterion at least; the grader shows the first for each failing criterion.

## Source trail

- `/usr/include/boost/beast/http/message.hpp` · what to look for there, and why.
)";

constexpr std::string_view contract = R"(// @NAME@ · @TITLE@: the contract between your code, the tests and the
// reference. Do not change this file: the tests are compiled against it.
#pragma once

#include <string>
#include <string_view>

namespace @NS@ {

// A placeholder for the task's real interface (`grader new` wrote it):
// "hello, " followed by the name and "!".
std::string greet(std::string_view name);

} // namespace @NS@
)";

constexpr std::string_view stub = R"(// @NAME@ · @TITLE@: your code. The contract is @TOPIC@.hpp; the README's
// Steps say what to do, in the order of the TODOs below.
#include "@TOPIC@.hpp"

namespace @NS@ {

std::string greet(std::string_view name)
{
  // TODO(step 1): the first step of the README.
  // TODO(step 2): the second.
  (void)name;
  return {};
}

} // namespace @NS@
)";

constexpr std::string_view reference = R"(// @NAME@ · @TITLE@: the reference. WHY.md explains its choices.
#include "@TOPIC@.hpp"

namespace @NS@ {

std::string greet(std::string_view name)
{
  return "hello, " + std::string(name) + "!";
}

} // namespace @NS@
)";

constexpr std::string_view tests = R"(// @NAME@ · acceptance tests: one [ACn] tag per TEST_CASE, named after the
// behaviour it checks (docs/authoring.md, "Tests").
#include "@TOPIC@.hpp"

#include <catch2/catch.hpp>

TEST_CASE("greet names whoever it greets", "[AC1]")
{
  CHECK(@NS@::greet("Ada") == "hello, Ada!");
  CHECK(@NS@::greet("Grace") == "hello, Grace!");
}

TEST_CASE("an empty name is greeted too", "[AC2]")
{
  CHECK(@NS@::greet("") == "hello, !");
}
)";

constexpr std::string_view notes = R"(# @NAME@ · notes

Your evidence for rubric levels 2 and 3 (see `rubric.md`). Write in your own
words; the grader checks that each section is filled, not what it says.

## Trace

<!-- What to follow through the code, and what to write down. -->

## Variation

<!-- One thing to change, and what to report about it. -->

## Cross-cutting concern

<!-- Where this task's idea shows up elsewhere (security, operations, testing). -->
)";

constexpr std::string_view why = R"(# @NAME@ · why the reference is written this way

The decisions a student could have made differently, and why the reference
made these.
)";

constexpr std::string_view mutants_readme = R"(# Mutants of @ID@

Plausible student mistakes, one directory each, holding `mutant.patch`: a
diff against the reference headed by `Criterion: ACn` and `Mistake: ...`.
`grader check @ID@` proves each one fails the criterion it names; at least
six are needed. See docs/authoring.md, "Mutants", and `bin/make-mutant`.
)";

std::string display_name(std::string const& id)
{
  // "task-21" -> "Task 21", "stretch-4" -> "Stretch 4"
  std::string name = id;
  name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
  std::replace(name.begin(), name.end(), '-', ' ');
  return name;
}

std::string expand(std::string_view text, scaffold_request const& r)
{
  std::string ns = r.id;
  ns.erase(std::remove(ns.begin(), ns.end(), '-'), ns.end());
  std::array<std::pair<std::string_view, std::string>, 6> const tokens{{{"@ID@", r.id},
                                                                       {"@NAME@", display_name(r.id)},
                                                                       {"@NS@", ns},
                                                                       {"@TITLE@", r.title},
                                                                       {"@DIFFICULTY@", r.difficulty},
                                                                       {"@TOPIC@", r.topic}}};
  std::string out(text);
  for (auto const& [token, value] : tokens)
    for (auto at = out.find(token); at != std::string::npos; at = out.find(token, at + value.size()))
      out.replace(at, token.size(), value);
  return out;
}

std::string refusal(fs::path const& root, scaffold_request const& r)
{
  static std::array<std::string_view, 4> const levels{"Junior", "Mid", "Senior", "Staff"};
  if (!is_task_id(r.id)) return fmt::format("'{}' is not a task id: use task-NN (two digits) or stretch-N", r.id);
  for (auto const* dir : {"exercises", "solutions"})
    if (fs::exists(root / dir / r.id))
      return fmt::format("{}/{} exists already: pick another id, or edit that task", dir, r.id);
  if (r.title.empty()) return "the title is empty: give one with --title \"...\"";
  if (std::find(levels.begin(), levels.end(), r.difficulty) == levels.end())
    return fmt::format("difficulty '{}' is not one of Junior, Mid, Senior, Staff", r.difficulty);
  if (!std::regex_match(r.topic, std::regex("[a-z][a-z0-9_]*")))
    return fmt::format("topic '{}' is not a file name like rate_limiter: give one with --topic", r.topic);
  return {};
}

} // namespace

std::string topic_from_title(std::string const& title)
{
  std::string topic;
  for (unsigned char c : title) {
    if (std::isalnum(c)) topic += static_cast<char>(std::tolower(c));
    else if (!topic.empty() && topic.back() != '_') topic += '_';
  }
  while (!topic.empty() && topic.back() == '_') topic.pop_back();
  if (!topic.empty() && std::isdigit(static_cast<unsigned char>(topic[0]))) topic.insert(0, "task_");
  return topic;
}

scaffold_result scaffold_task(fs::path const& root, scaffold_request request)
{
  if (request.topic.empty()) request.topic = topic_from_title(request.title);
  scaffold_result result;
  result.error = refusal(root, request);
  if (!result.error.empty()) return result;

  std::string const ex = "exercises/" + request.id + "/", sol = "solutions/" + request.id + "/";
  std::array<std::pair<std::string, std::string_view>, 8> const files{{
      {ex + "README.md", readme},
      {ex + request.topic + ".hpp", contract},
      {ex + request.topic + ".cpp", stub},
      {ex + "NOTES.md", notes},
      {ex + "test/" + request.topic + "_test.cpp", tests},
      {sol + request.topic + ".cpp", reference},
      {sol + "WHY.md", why},
      {sol + "mutants/README.md", mutants_readme},
  }};
  for (auto const& [path, text] : files) {
    fs::create_directories((root / path).parent_path());
    std::ofstream out(root / path);
    out << expand(text, request);
    if (!out) {
      result.error = fmt::format("could not write {}: check the directory's permissions", path);
      return result;
    }
    result.written.emplace_back(path);
  }
  return result;
}

} // namespace grader
