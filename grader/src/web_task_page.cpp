// A task's page: the verdict beside the README, then hints, the self-grade
// and the reveal, each a form that works without JavaScript.
#include "web_html.hpp"
#include "web_pages.hpp"

#include <fmt/format.h>

#include <filesystem>

namespace grader::web {

namespace {

std::string failure_html(failure const& f)
{
  std::string out = "<div class=\"failure\">";
  std::string const where = f.file.empty() ? "" : fmt::format("{}:{}", std::filesystem::path(f.file).filename().string(), f.line);
  if (!where.empty()) out += "<span class=\"where\">" + markup_escaped(where) + "</span> ";
  if (!f.expr.empty()) out += "<code>" + markup_escaped(f.expr) + "</code>";
  if (!f.expanded.empty() && f.expanded != f.expr) out += "<div>with expansion: <code>" + markup_escaped(f.expanded) + "</code></div>";
  if (!f.message.empty() && f.message != f.expr) out += "<div>" + markup_escaped(f.message) + "</div>";
  for (auto const& info : f.info) out += "<pre class=\"info\">" + markup_escaped(info) + "</pre>";
  if (!f.transcript.empty()) out += "<div class=\"dim\">the exchange, as the test saw it:</div>" + exchange_table(f.transcript);
  return out + "</div>\n";
}

std::string case_html(case_result const& c)
{
  std::string out = fmt::format("<li class=\"case\"><span class=\"status\">{}</span> <q>{}</q>\n", markup_escaped(describe(c)), markup_escaped(c.name));
  if (!c.failures.empty()) out += failure_html(c.status == case_status::failed ? c.failures.front() : c.failures.back());
  if (!c.output_tail.empty()) out += "<div class=\"dim\">its last output:</div><pre>" + markup_escaped(c.output_tail) + "</pre>";
  return out + "</li>\n";
}

std::string criterion_html(task const& t, criterion_verdict const& cv)
{
  std::string out = fmt::format("<li class=\"criterion {}\"><span class=\"mark\">{}</span> <strong>{}</strong>{} {}\n",
                                cv.passed ? "pass" : "fail", cv.passed ? "✓" : "✗", markup_escaped(cv.what.id),
                                cv.what.bonus ? " <span class=\"dim\">(bonus)</span>" : "", render_inline_markdown(cv.what.text));
  if (!cv.passed) {
    out += "<ul class=\"cases\">";
    for (auto const& c : cv.cases)
      if (c.status != case_status::passed) out += case_html(c);
    out += "</ul>";
    if (auto const hints = t.hints_for(cv.what.id); !hints.empty())
      out += "<p class=\"hint\"><strong>hint:</strong> " + render_inline_markdown(hints.front().text) + "</p>";
  }
  return out + "</li>\n";
}

std::string graded_html(task const& t, verdict const& v)
{
  auto const sc = score_of(v);
  std::string out = fmt::format("<p class=\"summary {}\">{} of {} criteria pass{}. <span class=\"dim\">(built in {:.1f} s, "
                                "ran in {:.1f} s)</span></p>\n",
                                sc.passed ? "pass" : "fail", sc.criteria_passed, sc.criteria_total,
                                sc.bonus_total ? fmt::format("; bonus {} of {}", sc.bonus_passed, sc.bonus_total) : "",
                                v.build_seconds, v.run_seconds);
  if (v.result != verdict::outcome::graded) {
    out += fmt::format("<p class=\"fail\">{}</p><pre class=\"detail\">{}</pre>\n",
                       v.result == verdict::outcome::did_not_compile ? "Your code does not compile:" : "The tests could not run:",
                       markup_escaped(v.detail));
    if (v.result == verdict::outcome::did_not_compile) return out;
  }
  out += "<ul class=\"criteria\">";
  for (auto const& cv : v.criteria) out += criterion_html(t, cv);
  return out + "</ul>\n";
}

std::string recorded_html(std::optional<task_record> const& record)
{
  if (!record || record->criteria_total == 0) return "<p class=\"dim\">Not graded yet.</p>\n";
  return fmt::format("<p>Last recorded run ({}): {} of {} criteria pass.</p>\n", markup_escaped(record->when),
                     record->criteria_passed, record->criteria_total);
}

} // namespace

std::string verdict_section(task const& t, live_verdict const& live, std::optional<task_record> const& record)
{
  std::string state = "none";
  if (live.building) state = "building";
  else if (live.latest) state = score_of(*live.latest).passed ? "passed" : "failed";
  std::string out = fmt::format("<section id=\"verdict\" data-state=\"{}\"><h2>Verdict <span id=\"live-status\" class=\"dim\">{}</span></h2>\n",
                                state, live.building ? "building…" : "");
  out += live.latest ? graded_html(t, *live.latest) : recorded_html(record);
  out += fmt::format("<form method=\"post\" action=\"/task/{}/grade\"><button>Grade now</button> "
                     "<span class=\"dim\">(or save a file of the task: the page grades it again)</span></form>\n",
                     markup_escaped(t.id));
  return out + "</section>";
}

namespace {

std::string hints_section(task const& t, std::optional<task_record> const& record)
{
  std::string out = "<section id=\"hints\"><h2>Hints</h2>\n";
  std::vector<int> const shown = record ? record->hints_shown : std::vector<int>{};
  if (!shown.empty()) {
    out += "<ol class=\"hints\">";
    for (int i : shown) {
      if (i < 0 || static_cast<std::size_t>(i) >= t.hints.size()) continue;
      auto const& h = t.hints[static_cast<std::size_t>(i)];
      out += fmt::format("<li value=\"{}\"><span class=\"dim\">({})</span> {}</li>", i + 1, markup_escaped(h.criterion), render_inline_markdown(h.text));
    }
    out += "</ol>\n";
  }
  std::size_t const left = t.hints.size() > shown.size() ? t.hints.size() - shown.size() : 0;
  if (left > 0)
    out += fmt::format("<form id=\"hint-form\" method=\"post\" action=\"/task/{}/hint\"><button>Show the next hint</button> "
                       "<span class=\"dim\">({} of {} left; they come one at a time)</span></form>\n",
                       markup_escaped(t.id), left, t.hints.size());
  else if (!t.hints.empty()) out += "<p class=\"dim\">Every hint has been shown.</p>\n";
  return out + "</section>\n";
}

std::string rubric_section(task const& t, std::optional<task_record> const& record)
{
  std::string out = "<section id=\"rubric\"><h2>Self-grade</h2>\n";
  if (!record || record->verdict != "passed")
    return out + "<p class=\"dim\">Once every criterion passes, say what you earned (rubric.md); "
                 "the grader caps it at what NOTES.md shows.</p></section>\n";
  if (record->score)
    out += fmt::format("<p>Recorded: <strong>{}</strong>{}.</p>\n", *record->score,
                       record->cap_reason.empty() ? "" : " (you said " + std::to_string(record->self_grade.value_or(0)) +
                                                             "; capped because " + markup_escaped(record->cap_reason) + ")");
  out += fmt::format("<form method=\"post\" action=\"/task/{}/self-grade\">", markup_escaped(t.id));
  for (int g = 0; g <= 3; ++g)
    out += fmt::format("<label><input type=\"radio\" name=\"grade\" value=\"{0}\"{1}> {0}</label> ", g,
                       record->self_grade == g ? " checked" : "");
  return out + "<button>Record</button></form></section>\n";
}

std::string reveal_section(task const& t, std::optional<task_record> const& record, bool available)
{
  std::string out = "<section id=\"reveal\"><h2>The reference</h2>\n";
  if (!available) return out + "<p class=\"dim\">This edition does not hold the reference.</p></section>\n";
  if (record && record->revealed)
    return out + fmt::format("<p><a href=\"/task/{}/reference\">The reference and its reasoning</a></p></section>\n", markup_escaped(t.id));
  if (!record || record->verdict != "passed")
    return out + "<p class=\"dim\">Shown once your code passes: working it out is the exercise.</p></section>\n";
  return out + fmt::format("<form method=\"post\" action=\"/task/{}/reveal\"><button>Show the reference</button></form></section>\n",
                           markup_escaped(t.id));
}

} // namespace

std::string task_page(task_view const& v)
{
  auto const& t = v.t;
  std::string body = fmt::format("<header class=\"bar\"><a href=\"/\">workbook</a> · <strong>{}</strong> · {} "
                                 "<span class=\"level {}\">{}</span></header>\n<main class=\"task\">\n<aside>\n",
                                 markup_escaped(t.id), markup_escaped(t.title), markup_escaped(t.difficulty), markup_escaped(t.difficulty));
  body += verdict_section(t, v.live, v.record);
  body += hints_section(t, v.record);
  body += rubric_section(t, v.record);
  body += reveal_section(t, v.record, v.reference_available);
  body += "</aside>\n<article class=\"readme\">\n" + v.readme_html + "</article>\n</main>";
  return page(t.id + " · " + t.title, body, fmt::format("data-task=\"{}\"", markup_escaped(t.id)));
}

std::string reference_page(reference_view const& v)
{
  std::string body = fmt::format("<header class=\"bar\"><a href=\"/\">workbook</a> · <a href=\"/task/{0}\">{0}</a> · "
                                 "the reference</header>\n<main class=\"narrow\">\n",
                                 markup_escaped(v.t.id));
  body += "<article class=\"readme\">" + v.why_html + "</article>\n";
  for (auto const& [path, text] : v.sources)
    body += fmt::format("<h2><code>{}</code></h2>\n<pre class=\"source\">{}</pre>\n", markup_escaped(path), markup_escaped(text));
  return page(v.t.id + " · the reference", body + "</main>");
}

} // namespace grader::web
