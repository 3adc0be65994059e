#include "report_json.hpp"

namespace grader {

namespace {

nlohmann::json case_json(case_result const& c)
{
  nlohmann::json failures = nlohmann::json::array();
  for (auto const& f : c.failures)
    failures.push_back({{"expr", f.expr}, {"expanded", f.expanded}, {"message", f.message},
                        {"info", f.info}, {"file", f.file}, {"line", f.line}, {"transcript", f.transcript}});
  return {{"name", c.name},
          {"status", status_word(c.status)},
          {"message", c.status == case_status::passed ? "" : describe(c)},
          {"signal", c.signal},
          {"exit_code", c.exit_code},
          {"seconds", c.seconds},
          {"limit_seconds", c.limit_seconds},
          {"output_tail", c.output_tail},
          {"flaky", c.flaky},
          {"failures", failures}};
}

} // namespace

nlohmann::json to_json(verdict const& v)
{
  auto const sc = score_of(v);
  nlohmann::json j{{"version", verdict_json_version},
                   {"task", v.task},
                   {"title", v.title},
                   {"variant", v.variant},
                   {"outcome", outcome_word(v.result)},
                   {"passed", sc.passed},
                   {"criteria_passed", sc.criteria_passed},
                   {"criteria_total", sc.criteria_total},
                   {"bonus_passed", sc.bonus_passed},
                   {"bonus_total", sc.bonus_total},
                   {"detail", v.detail},
                   {"log", v.log},
                   {"build_seconds", v.build_seconds},
                   {"run_seconds", v.run_seconds},
                   {"sandbox", v.sandbox}};
  j["criteria"] = nlohmann::json::array();
  for (auto const& cv : v.criteria) {
    nlohmann::json tests = nlohmann::json::array();
    for (auto const& c : cv.cases) tests.push_back(case_json(c));
    j["criteria"].push_back({{"id", cv.what.id}, {"text", cv.what.text}, {"bonus", cv.what.bonus},
                                 {"passed", cv.passed}, {"tests", tests}});
  }
  j["untagged"] = nlohmann::json::array();
  for (auto const& c : v.untagged) j["untagged"].push_back(case_json(c));
  return j;
}

} // namespace grader
