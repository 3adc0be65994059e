#include "catalog.hpp"
#include "edition.hpp"
#include "files.hpp"
#include "markdown.hpp"
#include "text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

namespace grader {

namespace fs = std::filesystem;

namespace {

// Collects, per level-2 section, the text of its top-level list items and
// paragraphs, keeping inline code as `code` and noting each item's leading
// **strong** label.
struct readme_walker {
  struct item {
    std::string label;   // the first **strong** text, if the item starts with one
    std::string text;    // the rest
  };

  readme_content out;
  std::string current_section;
  int heading_level = 0;
  std::string heading_text;
  int list_depth = 0;
  bool in_item = false;
  bool in_paragraph = false;
  bool in_strong = false;
  bool item_has_text = false;
  bool label_done = false;
  item current_item;
  std::string paragraph;
  std::string first_paragraph_of_section;
  std::vector<std::pair<std::string, item>> items;   // section -> item

  void add_text(std::string_view t)
  {
    if (heading_level) {
      heading_text.append(t);
      return;
    }
    if (in_item && list_depth == 1) {
      if (in_strong && !item_has_text && !label_done) current_item.label.append(t);
      else {
        if (!label_done && !current_item.label.empty()) label_done = true;
        current_item.text.append(t);
        if (!trim(t).empty()) item_has_text = true;
      }
      return;
    }
    if (in_paragraph) paragraph.append(t);
  }

  static int enter_block(MD_BLOCKTYPE type, void* detail, void* self)
  {
    auto& w = *static_cast<readme_walker*>(self);
    switch (type) {
    case MD_BLOCK_H:
      w.heading_level = static_cast<int>(static_cast<MD_BLOCK_H_DETAIL*>(detail)->level);
      w.heading_text.clear();
      break;
    case MD_BLOCK_UL:
    case MD_BLOCK_OL:
      ++w.list_depth;
      break;
    case MD_BLOCK_LI:
      if (w.list_depth == 1) {
        w.in_item = true;
        w.item_has_text = false;
        w.label_done = false;
        w.current_item = {};
      }
      break;
    case MD_BLOCK_P:
      w.in_paragraph = true;
      w.paragraph.clear();
      break;
    default:
      break;
    }
    return 0;
  }

  static int leave_block(MD_BLOCKTYPE type, void*, void* self)
  {
    auto& w = *static_cast<readme_walker*>(self);
    switch (type) {
    case MD_BLOCK_H: {
      std::string const text = trim(w.heading_text);
      if (w.heading_level == 1 && w.out.title.empty()) w.out.title = text;
      if (w.heading_level == 2) {
        w.current_section = text;
        w.out.sections.push_back(text);
        w.first_paragraph_of_section.clear();
      }
      w.heading_level = 0;
      break;
    }
    case MD_BLOCK_UL:
    case MD_BLOCK_OL:
      --w.list_depth;
      break;
    case MD_BLOCK_LI:
      if (w.list_depth == 1 && w.in_item) {
        w.in_item = false;
        w.current_item.label = trim(w.current_item.label);
        w.current_item.text = trim(w.current_item.text);
        w.items.emplace_back(w.current_section, w.current_item);
      }
      break;
    case MD_BLOCK_P:
      w.in_paragraph = false;
      if (!w.in_item && w.current_section == "Difficulty" && w.out.difficulty.empty())
        w.out.difficulty = trim(w.paragraph);
      break;
    default:
      break;
    }
    return 0;
  }

  static int enter_span(MD_SPANTYPE type, void*, void* self)
  {
    auto& w = *static_cast<readme_walker*>(self);
    if (type == MD_SPAN_STRONG) w.in_strong = true;
    if (type == MD_SPAN_CODE) w.add_text("`");
    return 0;
  }

  static int leave_span(MD_SPANTYPE type, void*, void* self)
  {
    auto& w = *static_cast<readme_walker*>(self);
    if (type == MD_SPAN_STRONG) {
      w.in_strong = false;
      if (w.in_item && !w.current_item.label.empty()) w.label_done = true;
    }
    if (type == MD_SPAN_CODE) w.add_text("`");
    return 0;
  }

  static int on_text(MD_TEXTTYPE type, MD_CHAR const* text, MD_SIZE size, void* self)
  {
    auto& w = *static_cast<readme_walker*>(self);
    if (type == MD_TEXT_SOFTBR || type == MD_TEXT_BR) w.add_text(" ");
    else if (type == MD_TEXT_ENTITY) w.add_text(std::string_view(text, size) == "&amp;" ? "&" : std::string_view(text, size));
    else w.add_text(std::string_view(text, size));
    return 0;
  }
};

// "· text", "- text", ": text" after the label -> "text"
std::string strip_separator(std::string text)
{
  text = trim(text);
  for (std::string_view sep : {"·", "—", "–", "-", ":"})
    if (text.rfind(sep, 0) == 0) return trim(text.substr(sep.size()));
  return text;
}

std::regex const criterion_id_re("^AC[0-9]+$");

// "(bonus) · text" or "· (bonus) text" after the **ACn** label.
criterion criterion_from(std::string id, std::string const& text)
{
  static constexpr std::string_view mark = "(bonus)";
  std::string const before = trim(text), after = strip_separator(text);
  if (before.rfind(mark, 0) == 0) return {std::move(id), strip_separator(before.substr(mark.size())), true};
  if (after.rfind(mark, 0) == 0) return {std::move(id), strip_separator(after.substr(mark.size())), true};
  return {std::move(id), after, false};
}

} // namespace

namespace {

template <class ProblemAt>
void check_readme(task const& t, readme_content const& content, fs::path const& readme, ProblemAt const& problem_at)
{
  if (content.title.empty())
    problem_at(readme, "no title", "start the file with '# Task NN · Title'");
  for (std::string const section : {"Goal", "Difficulty", "Skills", "Setup", "Steps",
                                    "Acceptance criteria", "Hints", "Source trail"})
    if (std::find(content.sections.begin(), content.sections.end(), section) == content.sections.end())
      problem_at(readme, "no '## " + section + "' section", "add it; docs/authoring.md lists the sections in order");
  static std::vector<std::string> const levels{"Junior", "Mid", "Senior", "Staff"};
  if (std::find(levels.begin(), levels.end(), t.difficulty) == levels.end())
    problem_at(readme, "difficulty '" + t.difficulty + "' is not one of Junior, Mid, Senior, Staff",
               "write one of those words under '## Difficulty'");
  if (t.criteria.empty())
    problem_at(readme, "no acceptance criteria",
               "list them under '## Acceptance criteria' as '- **AC1** · text'");
  for (std::size_t i = 0; i < t.criteria.size(); ++i)
    if (t.criteria[i].id != "AC" + std::to_string(i + 1))
      problem_at(readme, "criterion '" + t.criteria[i].id + "' is out of sequence (expected AC" +
                             std::to_string(i + 1) + ")",
                 "number the criteria AC1, AC2, ... in order");
  if (!t.criteria.empty() && std::all_of(t.criteria.begin(), t.criteria.end(), [](auto const& c) { return c.bonus; }))
    problem_at(readme, "every criterion is a bonus, so nothing decides whether the task passes",
               "drop '(bonus)' from the criteria a solution must meet");
  for (auto const& u : content.unlabelled)
    problem_at(readme, "bullet without an **ACn** label: " + u,
               "start each criterion and hint with its id, e.g. '- **AC2** · ...'");
  for (auto const& h : t.hints)
    if (std::none_of(t.criteria.begin(), t.criteria.end(), [&](auto const& c) { return c.id == h.criterion; }))
      problem_at(readme, "a hint names " + h.criterion + ", which is not a criterion",
                 "label the hint with one of the criteria's ids");
}

template <class ProblemAt>
void load_limits(task& t, ProblemAt const& problem_at)
{
  fs::path const file = limits_file(t);
  auto const text = read_file(file);
  if (!text) return;   // no limits recorded: every case gets the default
  auto const j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("cases") || !j["cases"].is_object()) {
    problem_at(file, "is not a limits file ({\"version\":1,\"cases\":{\"test name\": milliseconds}})",
               "delete it, or write it again with `grader check " + t.id + " --record-limits`");
    return;
  }
  for (auto const& [name, ms] : j["cases"].items())
    if (ms.is_number_unsigned()) t.case_limits[name] = std::chrono::milliseconds(ms.get<std::uint64_t>());
}

// The words of every call of `function` in a task.cmake's text.
std::vector<std::string> call_arguments(std::string const& text, std::string const& function)
{
  std::regex const call(function + R"(\s*\(([^)]*)\))");
  std::vector<std::string> out;
  for (std::sregex_iterator it(text.begin(), text.end(), call), end; it != end; ++it) {
    std::istringstream words((*it)[1].str());
    for (std::string word; words >> word;) out.push_back(word);
  }
  return out;
}

// What a task.cmake declares: the earlier tasks it builds on, and the
// headers beside the stub that are the student's.
template <class ProblemAt>
void load_task_cmake(task& t, fs::path const& root, ProblemAt const& problem_at)
{
  fs::path const file = t.exercise_dir / "task.cmake";
  auto const text = read_file(file);
  if (!text) return;
  for (auto const& id : call_arguments(*text, "workbook_task_uses")) {
    if (!fs::is_directory(root / "exercises" / id))
      problem_at(file, "workbook_task_uses names " + id + ", which has no exercises/" + id + "/",
                 "name an existing task, e.g. workbook_task_uses(task-18)");
    else t.uses.push_back(id);
  }
  for (auto const& name : call_arguments(*text, "workbook_task_student_headers")) {
    if (fs::path(name).has_parent_path() || fs::path(name).extension() != ".hpp" ||
        !fs::is_regular_file(t.exercise_dir / name))
      problem_at(file, "workbook_task_student_headers names " + name + ", which is not a header beside the stub",
                 "name a .hpp file of exercises/" + t.id + "/, e.g. workbook_task_student_headers(balancer_impl.hpp)");
    else t.student_headers.push_back(name);
  }
}

template <class ProblemAt>
void load_mutants(task& t, ProblemAt const& problem_at)
{
  std::error_code ec;
  for (auto const& e : fs::directory_iterator(t.solution_dir / "mutants", ec)) {
    if (!e.is_directory()) continue;
    fs::path const patch = e.path() / "mutant.patch";
    if (!fs::exists(patch)) {
      problem_at(e.path(), "a mutant directory without mutant.patch",
                 "add mutant.patch (see docs/authoring.md, 'Mutants') or remove the directory");
      continue;
    }
    std::string const text = read_file_or_empty(patch);
    auto const h = parse_mutant_header(text);
    mutant m{e.path().filename().string(), h.criterion, h.mistake, h.caught_by, patch};
    bool const known = std::any_of(t.criteria.begin(), t.criteria.end(),
                                   [&](criterion const& c) { return c.id == m.criterion; });
    if (!known)
      problem_at(patch, m.criterion.empty() ? "no 'Criterion: ACn' line" : "names " + m.criterion + ", which is not a criterion of the README",
                 "start the file with 'Criterion: ACn', the criterion whose tests must catch this mistake");
    else if (m.mistake.empty())
      problem_at(patch, "no 'Mistake: ...' line", "say in one line what the student got wrong");
    else if (!m.caught_by.empty() && m.caught_by != "tsan")
      problem_at(patch, "'Caught by: " + m.caught_by + "' is not understood", "write 'Caught by: tsan' or leave the line out");
    else if (text.find("\n--- ") == std::string::npos && text.rfind("--- ", 0) != 0)
      problem_at(patch, "holds no diff", "append `diff -u` of the reference and the mistaken copy (paths below solutions/" + t.id + "/)");
    else
      t.mutants.push_back(std::move(m));
  }
  std::sort(t.mutants.begin(), t.mutants.end(), [](mutant const& a, mutant const& b) { return a.name < b.name; });
}

} // namespace

readme_content parse_readme(std::string const& markdown)
{
  readme_walker w;
  walk_markdown(markdown, w);

  for (auto const& [section, item] : w.items) {
    bool const is_criteria = section == "Acceptance criteria";
    bool const is_hints = section == "Hints";
    if (!is_criteria && !is_hints) continue;
    if (!std::regex_match(item.label, criterion_id_re)) {
      w.out.unlabelled.push_back(section + ": " + item.label + " " + item.text);
      continue;
    }
    if (is_criteria) w.out.criteria.push_back(criterion_from(item.label, item.text));
    else w.out.hints.push_back({item.label, strip_separator(item.text)});
  }
  // "Task 01 · Hello server" -> "Hello server"
  if (auto dot = w.out.title.find("·"); dot != std::string::npos)
    w.out.title = trim(w.out.title.substr(dot + std::string_view("·").size()));
  return w.out;
}

mutant_header parse_mutant_header(std::string const& patch_text)
{
  mutant_header h;
  std::istringstream in(patch_text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("--- ", 0) == 0 || line.rfind("diff ", 0) == 0) break;
    auto field = [&](std::string_view key, std::string& into) {
      if (line.rfind(key, 0) == 0) into = trim(line.substr(key.size()));
    };
    field("Criterion:", h.criterion);
    field("Mistake:", h.mistake);
    field("Caught by:", h.caught_by);
  }
  return h;
}

bool is_task_id(std::string const& name)
{
  static std::regex const re("^(task-[0-9][0-9]|stretch-[0-9])$");
  return std::regex_match(name, re);
}

std::string normalize_task_id(std::string_view word)
{
  std::string w(word);
  std::transform(w.begin(), w.end(), w.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string_view rest = w;
  std::string prefix = "task-";
  for (std::string_view p : {"task-", "task_", "task", "stretch-", "stretch"}) {
    if (rest.substr(0, p.size()) == p) {
      prefix = p.substr(0, 7) == "stretch" ? "stretch-" : "task-";
      rest.remove_prefix(p.size());
      break;
    }
  }
  if (rest.empty() || rest.size() > 2 ||
      !std::all_of(rest.begin(), rest.end(), [](unsigned char c) { return std::isdigit(c); }))
    return std::string(word);
  if (prefix == "stretch-") return prefix + std::string(rest.substr(rest.size() - 1));
  return prefix + (rest.size() == 1 ? "0" + std::string(rest) : std::string(rest));
}

fs::path limits_file(task const& t) { return t.exercise_dir / "test" / "limits.json"; }

std::chrono::milliseconds limit_from_reference(double reference_seconds)
{
  auto const scaled = std::chrono::milliseconds(static_cast<long long>(reference_seconds * 1000.0 * limit_factor));
  // Whole half-seconds read better in a report than 2173 ms.
  auto const limit = std::max(limit_floor, scaled);
  return std::chrono::milliseconds((limit.count() + 499) / 500 * 500);
}

std::vector<hint> task::hints_for(std::string const& criterion_id) const
{
  std::vector<hint> out;
  for (auto const& h : hints)
    if (h.criterion == criterion_id) out.push_back(h);
  return out;
}

task load_task(fs::path const& root, std::string const& id)
{
  task t;
  t.id = id;
  t.exercise_dir = root / "exercises" / id;
  t.solution_dir = root / "solutions" / id;
  auto problem_at = [&](fs::path file, std::string what, std::string fix) {
    t.problems.push_back({fs::relative(file, root), std::move(what), std::move(fix)});
  };

  fs::path const readme = t.exercise_dir / "README.md";
  if (!fs::exists(readme)) {
    problem_at(readme, "missing", "add the task's README.md (see docs/authoring.md)");
    t.title = "(no README)";
    return t;
  }
  auto const content = parse_readme(read_file_or_empty(readme));
  t.title = content.title.empty() ? id : content.title;
  t.difficulty = content.difficulty;
  t.criteria = content.criteria;
  t.hints = content.hints;

  check_readme(t, content, readme, problem_at);

  auto has_cpp = [](fs::path const& dir) {
    if (!fs::is_directory(dir)) return false;
    for (auto const& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".cpp") return true;
    return false;
  };
  if (!has_cpp(t.exercise_dir))
    problem_at(t.exercise_dir, "no stub .cpp", "add the file the student edits");
  if (!has_cpp(t.exercise_dir / "test"))
    problem_at(t.exercise_dir / "test", "no test .cpp", "add the Catch2 acceptance tests");
  // A student edition holds only the references released to it.
  bool const withheld = !fs::exists(t.solution_dir) && is_student_edition(root);
  if (!has_cpp(t.solution_dir) && !withheld)
    problem_at(t.solution_dir, "no reference .cpp", "add the reference implementation");
  load_mutants(t, problem_at);
  load_limits(t, problem_at);
  load_task_cmake(t, root, problem_at);
  if (!fs::exists(t.exercise_dir / "NOTES.md"))
    problem_at(t.exercise_dir / "NOTES.md", "missing", "add the rubric template (copy another task's)");
  if (!fs::exists(t.solution_dir / "WHY.md") && !withheld)
    problem_at(t.solution_dir / "WHY.md", "missing", "explain the reference's reasoning");
  return t;
}

catalog::catalog(fs::path root) : root_(std::move(root))
{
  std::vector<std::string> ids;
  std::error_code ec;
  for (auto const& e : fs::directory_iterator(root_ / "exercises", ec))
    if (e.is_directory() && is_task_id(e.path().filename().string()))
      ids.push_back(e.path().filename().string());
  std::sort(ids.begin(), ids.end(), [](std::string const& a, std::string const& b) {
    // task-NN before stretch-N
    bool const sa = is_stretch_id(a), sb = is_stretch_id(b);
    return sa != sb ? sb : a < b;
  });
  for (auto const& id : ids) tasks_.push_back(load_task(root_, id));
}

task const* catalog::find(std::string const& id) const
{
  for (auto const& t : tasks_)
    if (t.id == id) return &t;
  return nullptr;
}

std::vector<std::string> catalog::ids() const
{
  std::vector<std::string> out;
  for (auto const& t : tasks_) out.push_back(t.id);
  return out;
}

} // namespace grader
