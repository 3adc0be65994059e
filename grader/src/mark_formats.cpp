#include "mark_formats.hpp"
#include "report_json.hpp"
#include "text.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace grader {

namespace {

// Why a case did not pass, in words a student reads: the first assertion
// with its expansion and messages, or what happened to the process.
std::string case_message(case_result const& c)
{
  if (c.status == case_status::passed) return {};
  std::string out = describe(c);
  if (!c.failures.empty()) {
    auto const& f = c.failures.front();
    out += fmt::format("\n{}:{}: {}", f.file, f.line, f.expr.empty() ? f.message : f.expr);
    if (!f.expanded.empty() && f.expanded != f.expr) out += "\nwith expansion: " + f.expanded;
    for (auto const& i : f.info) out += "\n" + i;
    if (!f.message.empty() && !f.expr.empty()) out += "\n" + f.message;
  }
  return out;
}

// The whole of what a case left behind: its message, then the exchange or
// the output it printed last.
std::string case_output(case_result const& c)
{
  std::string out = case_message(c);
  if (!c.failures.empty() && !c.failures.front().transcript.empty()) out += "\n" + c.failures.front().transcript;
  if (!c.output_tail.empty()) out += "\n" + c.output_tail;
  return out;
}

bool run_at_all(verdict const& v) { return v.result == verdict::outcome::graded; }

int criterion_number(std::string const& id) { return std::atoi(id.c_str() + 2); }  // "AC12" -> 12


std::string exercism(marking const& m)
{
  nlohmann::json tests = nlohmann::json::array();
  std::string errors;
  bool all_pass = true;
  for (auto const& v : m.verdicts) {
    auto const s = score_of(v);
    all_pass = all_pass && s.passed;
    if (!run_at_all(v)) errors += fmt::format("{}: {}\n", v.task, v.detail);
    for (auto const& cv : v.criteria)
      for (auto const& c : cv.cases) {
        nlohmann::json t{{"name", m.verdicts.size() == 1 ? c.name : v.task + " · " + c.name},
                         {"status", c.status == case_status::passed ? "pass"
                                    : c.status == case_status::failed ? "fail" : "error"},
                         {"message", c.status == case_status::passed ? nlohmann::json() : nlohmann::json(case_message(c))},
                         {"test_code", fmt::format("[{}] {}", cv.what.id, cv.what.text)}};
        if (!c.output_tail.empty()) t["output"] = bounded_output(c.output_tail, 500);
        if (m.verdicts.size() == 1) t["task_id"] = criterion_number(cv.what.id);
        tests.push_back(std::move(t));
      }
  }
  nlohmann::json out{{"version", 3}, {"status", !errors.empty() ? "error" : all_pass ? "pass" : "fail"},
                     {"message", errors.empty() ? nlohmann::json() : nlohmann::json(errors)}, {"tests", tests}};
  return out.dump(2) + "\n";
}

// A test per criterion: it is the unit a point is given for.
std::string gradescope(marking const& m)
{
  nlohmann::json tests = nlohmann::json::array();
  int score = 0, max_score = 0;
  for (auto const& v : m.verdicts) {
    auto const s = score_of(v);
    score += s.points();
    max_score += s.max_points();
    std::string const task_number = v.task.substr(v.task.find('-') + 1);
    for (auto const& cv : v.criteria) {
      std::string output = !run_at_all(v)      ? v.detail + "\n"
                           : cv.cases.empty() ? "no test checks this criterion (a defect in the task: tell its author)\n"
                                              : "";
      for (auto const& c : cv.cases)
        if (c.status != case_status::passed && c.status != case_status::unavailable)
          output += fmt::format("✗ {}\n{}\n\n", c.name, case_output(c));
      nlohmann::json t{{"name", fmt::format("{} {}{} · {}", v.task, cv.what.id, cv.what.bonus ? " (bonus)" : "", cv.what.text)},
                       {"number", fmt::format("{}.{}", std::atoi(task_number.c_str()), criterion_number(cv.what.id))},
                       {"score", cv.passed ? 1 : 0},
                       {"max_score", cv.what.bonus ? 0 : 1},
                       {"status", cv.passed ? "passed" : "failed"},
                       {"output", bounded_output(output, 8000)},
                       {"tags", {v.task, cv.what.id}},
                       {"visibility", "visible"}};
      tests.push_back(std::move(t));
    }
  }
  nlohmann::json out{{"score", score}, {"max_score", max_score}, {"execution_time", static_cast<int>(m.seconds + 0.5)},
                     {"tests", tests}};
  if (!m.ws.ignored.empty())
    out["output"] = "Changes outside the files you edit were ignored: " + fmt::format("{}", fmt::join(m.ws.ignored, ", "));
  return out.dump(2) + "\n";
}

std::string junit_case(verdict const& v, criterion_verdict const& cv, case_result const& c)
{
  std::string file = c.failures.empty() ? "" : c.failures.front().file;
  std::string out = fmt::format(R"(    <testcase classname="{}.{}" name="{}"{} time="{:.3f}")", v.task, cv.what.id, markup_escaped(c.name),
                                file.empty() ? "" : fmt::format(R"( file="{}")", markup_escaped(file)), c.seconds);
  if (c.status == case_status::passed) return out + "/>\n";
  if (c.status == case_status::unavailable || c.status == case_status::skipped || c.status == case_status::not_run)
    return out + fmt::format(">\n      <skipped message=\"{}\"/>\n    </testcase>\n", markup_escaped(describe(c)));
  char const* kind = c.status == case_status::failed ? "failure" : "error";
  return out + fmt::format(">\n      <{} message=\"{}\">{}</{}>\n    </testcase>\n", kind, markup_escaped(describe(c)),
                           markup_escaped(bounded_output(case_output(c), 16000)), kind);
}

std::string junit(marking const& m)
{
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n";
  for (auto const& v : m.verdicts) {
    int tests = 0, failures = 0, errors = 0, skipped = 0;
    std::string body;
    for (auto const& cv : v.criteria)
      for (auto const& c : cv.cases) {
        ++tests;
        failures += c.status == case_status::failed;
        errors += c.status == case_status::crashed || c.status == case_status::exited || c.status == case_status::timed_out;
        skipped += c.status == case_status::unavailable || c.status == case_status::skipped || c.status == case_status::not_run;
        body += junit_case(v, cv, c);
      }
    if (!run_at_all(v)) {  // nothing ran: one error case carries why
      ++tests, ++errors;
      body += fmt::format("    <testcase classname=\"{}\" name=\"build\">\n      <error message=\"{}\">{}</error>\n    </testcase>\n",
                          v.task, markup_escaped(outcome_word(v.result)), markup_escaped(v.detail));
    }
    out += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3f}\">\n{}  </testsuite>\n",
                       v.task, tests, failures, errors, skipped, v.build_seconds + v.run_seconds, body);
  }
  return out + "</testsuites>\n";
}

std::string own_json(marking const& m)
{
  nlohmann::json tasks = nlohmann::json::array();
  int score = 0, max_score = 0;
  for (auto const& v : m.verdicts) {
    auto const s = score_of(v);
    score += s.points();
    max_score += s.max_points();
    tasks.push_back({{"score", s.points()}, {"max_score", s.max_points()}, {"verdict", to_json(v)}});
  }
  nlohmann::json out{{"version", 1},
                     {"submission", m.submission.string()},
                     {"score", score},
                     {"max_score", max_score},
                     {"seconds", m.seconds},
                     {"taken", m.ws.taken},
                     {"ignored", m.ws.ignored},
                     {"tampered", m.ws.tampered},
                     {"missing", m.ws.missing},
                     {"tasks", tasks}};
  return out.dump(2) + "\n";
}

} // namespace

std::string bounded_output(std::string const& text, std::size_t limit)
{
  if (text.size() <= limit) return text;
  std::string const marker_template = "\n[{} bytes elided]\n";
  std::size_t const keep = limit > 64 ? limit - 32 : limit / 2;
  std::size_t const head = keep / 3, tail = keep - head;
  return text.substr(0, head) + fmt::format(fmt::runtime(marker_template), text.size() - head - tail) +
         text.substr(text.size() - tail);
}

std::string render_marking(marking const& m, std::string_view format)
{
  if (format == "exercism") return exercism(m);
  if (format == "gradescope") return gradescope(m);
  if (format == "junit") return junit(m);
  return own_json(m);
}

} // namespace grader
