// The protocol between a task's test binary and the grader, written down
// once. Both sides include this header: the harness's Catch2 main writes the
// events, the grader reads them.
//
// A test binary started with WORKBOOK_EVENTS=<path> writes one JSON object
// per line to that path (the grader passes a pipe as /dev/fd/3), flushed
// line by line, so that when a test crashes or hangs the grader still knows
// which test was running and what had failed so far:
//
//   {"v":1,"event":"case-start","name":…,"tags":[…],"file":…,"line":N}
//   {"v":1,"event":"failure","case":…,"expr":…,"expanded":…,"message":…,
//    "info":[…],"file":…,"line":N,"transcript":…,"fatal":bool}
//   {"v":1,"event":"case-end","name":…,"passed":bool,"failed":N,
//    "assertions":N,"seconds":S,"skipped":…}
//
// "skipped" is the reason a case gave for not running here (WORKBOOK_SKIP,
// workbook/skip.hpp), "" for a case that ran; older writers omit it.
//
// Started with --workbook-list it prints its test cases and exits:
//
//   {"v":1,"cases":[{"name":…,"tags":[…],"file":…,"line":N}, …]}
//
// A line that does not parse, or carries another version, is not an event.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace workbook::events {

inline constexpr int protocol_version = 1;

// The environment variable naming where events go, and the path the grader
// names: the pipe it hands over as spawn_options::extra_fd, which a child
// receives as its descriptor 3.
inline constexpr char const* env_var = "WORKBOOK_EVENTS";
inline constexpr char const* grader_path = "/dev/fd/3";

// The flag that makes a test binary list its cases as JSON.
inline constexpr char const* list_flag = "--workbook-list";

struct case_info {
  std::string name;
  std::vector<std::string> tags;   // without brackets, as Catch2 keeps them
  std::string file;
  int line = 0;
};

struct case_start {
  case_info info;
};

struct failure {
  std::string case_name;
  std::string expr;
  std::string expanded;
  std::string message;
  std::vector<std::string> info;   // Catch2 INFO/CAPTURE messages in scope
  std::string file;
  int line = 0;
  std::string transcript;          // the harness's record of the exchange so far
  bool fatal = false;              // a signal caught by Catch2: the process dies next
};

struct case_end {
  std::string name;
  bool passed = false;
  int failed = 0;
  int assertions = 0;
  double seconds = 0;
  std::string skipped;             // why the case did not run here; "" when it ran
};

using event = std::variant<case_start, failure, case_end>;

// Event kinds as they appear in the "event" field.
inline constexpr std::string_view kind_case_start = "case-start";
inline constexpr std::string_view kind_failure = "failure";
inline constexpr std::string_view kind_case_end = "case-end";

namespace detail {

inline nlohmann::json case_json(case_info const& c)
{
  return {{"name", c.name}, {"tags", c.tags}, {"file", c.file}, {"line", c.line}};
}

inline case_info case_from(nlohmann::json const& j)
{
  return {j.value("name", ""), j.value("tags", std::vector<std::string>{}), j.value("file", ""), j.value("line", 0)};
}

struct to_json_visitor {
  nlohmann::json operator()(case_start const& e) const
  {
    auto j = case_json(e.info);
    j["event"] = kind_case_start;
    return j;
  }
  nlohmann::json operator()(failure const& e) const
  {
    return {{"event", kind_failure}, {"case", e.case_name}, {"expr", e.expr},     {"expanded", e.expanded},
            {"message", e.message},  {"info", e.info},      {"file", e.file},     {"line", e.line},
            {"transcript", e.transcript}, {"fatal", e.fatal}};
  }
  nlohmann::json operator()(case_end const& e) const
  {
    return {{"event", kind_case_end}, {"name", e.name}, {"passed", e.passed}, {"failed", e.failed},
            {"assertions", e.assertions}, {"seconds", e.seconds}, {"skipped", e.skipped}};
  }
};

} // namespace detail

// One line of the stream, without the newline. Invalid UTF-8 in a test's
// output is replaced, never a reason to lose the event.
inline std::string encode(event const& e)
{
  auto j = std::visit(detail::to_json_visitor{}, e);
  j["v"] = protocol_version;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// One line of the stream; nullopt for anything that is not an event of this
// protocol version.
inline std::optional<event> decode(std::string_view line)
{
  auto const j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("v", 0) != protocol_version) return std::nullopt;
  std::string const kind = j.value("event", "");
  if (kind == kind_case_start) return case_start{detail::case_from(j)};
  if (kind == kind_failure)
    return failure{j.value("case", ""),    j.value("expr", ""),  j.value("expanded", ""),
                   j.value("message", ""), j.value("info", std::vector<std::string>{}),
                   j.value("file", ""),    j.value("line", 0),   j.value("transcript", ""),
                   j.value("fatal", false)};
  if (kind == kind_case_end)
    return case_end{j.value("name", ""),       j.value("passed", false), j.value("failed", 0),
                    j.value("assertions", 0),  j.value("seconds", 0.0),  j.value("skipped", "")};
  return std::nullopt;
}

// The --workbook-list output.
inline std::string encode_listing(std::vector<case_info> const& cases)
{
  nlohmann::json list = nlohmann::json::array();
  for (auto const& c : cases) list.push_back(detail::case_json(c));
  return nlohmann::json{{"v", protocol_version}, {"cases", list}}.dump(2, ' ', false,
                                                                       nlohmann::json::error_handler_t::replace);
}

inline std::optional<std::vector<case_info>> decode_listing(std::string_view text)
{
  auto const j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("v", 0) != protocol_version || !j.contains("cases") ||
      !j["cases"].is_array())
    return std::nullopt;
  std::vector<case_info> cases;
  for (auto const& c : j["cases"]) cases.push_back(detail::case_from(c));
  return cases;
}

} // namespace workbook::events
