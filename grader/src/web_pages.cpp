#include "web_pages.hpp"
#include "standing.hpp"
#include "text.hpp"
#include "web_html.hpp"

#include <fmt/format.h>
#include <md4c-html.h>

#include <algorithm>
#include <regex>

namespace grader::web {

std::string render_markdown(std::string const& markdown)
{
  std::string html;
  auto const out = [](MD_CHAR const* text, MD_SIZE size, void* into) {
    static_cast<std::string*>(into)->append(text, size);
  };
  md_html(markdown.data(), static_cast<MD_SIZE>(markdown.size()), out, &html, MD_DIALECT_GITHUB | MD_FLAG_NOHTML, 0);
  return html;
}

std::string render_inline_markdown(std::string const& markdown)
{
  std::string html = render_markdown(markdown);
  while (!html.empty() && html.back() == '\n') html.pop_back();
  if (html.starts_with("<p>") && html.ends_with("</p>") && html.find("<p>", 3) == std::string::npos)
    html = html.substr(3, html.size() - 7);
  return html;
}

std::string message_page(std::string_view title, std::string_view text)
{
  return page(title, fmt::format("<header class=\"bar\"><a href=\"/\">workbook</a></header>\n<main class=\"narrow\">"
                                 "<h1>{}</h1>\n<p>{}</p></main>",
                                 markup_escaped(title), markup_escaped(text)));
}

// ------------------------------------------------------------------ the map

namespace {

std::string status_mark(std::optional<task_record> const& r)
{
  if (r && r->verdict == "passed") return "<span class=\"pass\">✓</span>";
  if (r) return "<span class=\"fail\">✗</span>";
  return "<span class=\"dim\">·</span>";
}

std::string task_row(task const& t, std::optional<task_record> const& r)
{
  std::string const tests = r ? fmt::format("{}/{}", r->criteria_passed, r->criteria_total) : "";
  std::string const score = r && r->score ? std::to_string(*r->score) : "·";
  return fmt::format("<tr class=\"task\"><td>{}</td><td><a href=\"/task/{}\">{}</a></td><td>{}</td>"
                     "<td class=\"level {}\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
                     status_mark(r), markup_escaped(t.id), markup_escaped(t.id), markup_escaped(t.title), markup_escaped(t.difficulty),
                     markup_escaped(t.difficulty), tests, score);
}

// The total as a marker on a bar whose segments are the rubric's bands.
std::string tally_bar(rubric const& rub, int total)
{
  int const scale = rub.bands.empty() ? 60 : rub.bands.back().high;
  std::string segments;
  for (auto const& b : rub.bands) {
    bool const here = total >= b.low && total <= b.high;
    segments += fmt::format("<div class=\"band{}\" style=\"flex: {}\" title=\"{}\"><span>{}–{}</span></div>",
                            here ? " here" : "", b.high - b.low + 1, markup_escaped(b.standing), b.low, b.high);
  }
  double const at = scale > 0 ? 100.0 * std::clamp(total, 0, scale) / scale : 0;
  return fmt::format("<div class=\"tally-bar\" role=\"img\" aria-label=\"{} of {}\">{}"
                     "<div class=\"marker\" style=\"left: {:.1f}%\"></div></div>\n",
                     total, scale, segments, at);
}

std::string tally_section(catalog const& cat, progress_store const& progress, rubric const& rub)
{
  auto const sum = tally_of(cat, progress);
  std::string out = fmt::format("<section id=\"tally\"><h2>Tally: <strong>{}</strong> of {}</h2>\n", sum.total, sum.max());
  out += tally_bar(rub, sum.total);
  if (auto const* band = band_for(rub, sum.total))
    out += fmt::format("<p><strong>{}</strong> {}</p>\n", markup_escaped(band->standing), markup_escaped(band->next));
  out += "<p class=\"dim\">Aim for more than 50.";
  if (sum.stretches > 0) out += fmt::format(" Stretch challenges: {} of {} (not part of the total).", sum.stretch_total, sum.stretch_max());
  out += "</p>";
  std::string const next = next_task(cat, progress);
  if (!next.empty())
    out += fmt::format("<p class=\"next\">Next: <a href=\"/task/{0}\">{0}</a> (read its README, edit its stub, "
                       "save: the page grades it).</p>",
                       markup_escaped(next));
  else if (!cat.tasks().empty())
    out += "<p class=\"next\">Every task passes.</p>";
  return out + "</section>\n";
}

} // namespace

std::string map_page(catalog const& cat, progress_store const& progress, rubric const& rub)
{
  std::string body = "<header class=\"bar\"><strong>Beast HTTP workbook</strong></header>\n<main>\n";
  body += tally_section(cat, progress, rub);
  body += "<table id=\"map\"><thead><tr><th></th><th>task</th><th>title</th><th>level</th><th>tests</th>"
          "<th>score</th></tr></thead>\n<tbody>\n";
  bool stretch_heading = false;
  for (auto const& t : cat.tasks()) {
    if (is_stretch_id(t.id) && !stretch_heading) {
      body += "<tr class=\"group\"><th colspan=\"6\">Stretch challenges</th></tr>\n";
      stretch_heading = true;
    }
    body += task_row(t, progress.get(t.id));
  }
  body += "</tbody></table>\n</main>";
  return page("Beast HTTP workbook", body);
}

// ------------------------------------------------------------- exchanges

std::vector<exchange_row> exchange_rows(std::string const& transcript)
{
  static std::regex const line_re(R"(^\[([^\]]+)\] ([<>*]) ?(.*)$)");
  std::vector<exchange_row> rows;
  for (auto const& line : split_lines(transcript)) {
    std::smatch m;
    exchange_row row;
    if (std::regex_match(line, m, line_re)) {
      row.side = m[1].str();
      row.what = m[2] == ">" ? exchange_row::kind::sent : m[2] == "<" ? exchange_row::kind::received : exchange_row::kind::note;
      row.text = m[3].str();
    } else {
      row.what = exchange_row::kind::note;   // "* note" lines and anything unexpected
      row.text = line.starts_with("* ") ? line.substr(2) : line;
    }
    if (!rows.empty() && rows.back().side == row.side && rows.back().what == row.what) rows.back().text += "\n" + row.text;
    else rows.push_back(std::move(row));
  }
  return rows;
}

std::string exchange_table(std::string const& transcript)
{
  std::string out = "<table class=\"exchange\"><thead><tr><th></th><th>sent</th><th>received</th></tr></thead><tbody>\n";
  for (auto const& r : exchange_rows(transcript)) {
    std::string const text = "<pre>" + markup_escaped(r.text) + "</pre>";
    if (r.what == exchange_row::kind::note)
      out += fmt::format("<tr class=\"note\"><td>{}</td><td colspan=\"2\">{}</td></tr>\n", markup_escaped(r.side), text);
    else
      out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n", markup_escaped(r.side),
                         r.what == exchange_row::kind::sent ? text : "", r.what == exchange_row::kind::received ? text : "");
  }
  return out + "</tbody></table>\n";
}

} // namespace grader::web
