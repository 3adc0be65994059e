#include "notes.hpp"
#include "markdown.hpp"
#include "text.hpp"

#include <algorithm>
#include <map>
#include <regex>
#include <vector>

namespace grader {

namespace {

// Sections of NOTES.md by level-2 heading, without HTML (the prompts).
struct notes_walker {
  std::map<std::string, std::string>* sections;
  bool keep_html = false;   // for the template: its prompts are its words
  std::string current;
  bool in_heading = false;
  std::string heading;
  bool in_html = false;

  static int enter_block(MD_BLOCKTYPE type, void* detail, void* self)
  {
    auto& w = *static_cast<notes_walker*>(self);
    if (type == MD_BLOCK_H && static_cast<MD_BLOCK_H_DETAIL*>(detail)->level <= 2) {
      w.in_heading = true;
      w.heading.clear();
    }
    if (type == MD_BLOCK_HTML) w.in_html = true;
    return 0;
  }
  static int leave_block(MD_BLOCKTYPE type, void*, void* self)
  {
    auto& w = *static_cast<notes_walker*>(self);
    if (type == MD_BLOCK_H && w.in_heading) {
      w.in_heading = false;
      w.current = trim(w.heading);
    }
    if (type == MD_BLOCK_HTML) w.in_html = false;
    (*w.sections)[w.current] += " ";
    return 0;
  }
  static int enter_span(MD_SPANTYPE, void*, void*) { return 0; }
  static int leave_span(MD_SPANTYPE, void*, void*) { return 0; }
  static int on_text(MD_TEXTTYPE type, MD_CHAR const* text, MD_SIZE size, void* self)
  {
    auto& w = *static_cast<notes_walker*>(self);
    if ((type == MD_TEXT_HTML || w.in_html) && !w.keep_html) return 0;
    if (w.in_heading) w.heading.append(text, size);
    else (*w.sections)[w.current].append(text, size).append(type == MD_TEXT_SOFTBR ? " " : "");
    return 0;
  }
};

std::map<std::string, std::string> notes_sections(std::string const& markdown, bool keep_html = false)
{
  std::map<std::string, std::string> sections;
  notes_walker w{&sections, keep_html, {}, false, {}, false};
  walk_markdown(markdown, w);
  return sections;
}

std::vector<std::string> words_of(std::string const& text)
{
  std::vector<std::string> words;
  static std::regex const word(R"([A-Za-z][A-Za-z0-9_'’:-]*)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), word); it != std::sregex_iterator(); ++it)
    words.push_back(it->str());
  return words;
}

// Words of `text` that are not the template's: a student who keeps the
// template's sentence and adds two words has written two words.
int own_words(std::string const& text, std::string const& template_text)
{
  auto const mine = words_of(text);
  auto theirs = words_of(template_text);
  int count = 0;
  for (auto const& w : mine) {
    auto it = std::find(theirs.begin(), theirs.end(), w);
    if (it != theirs.end()) theirs.erase(it);
    else ++count;
  }
  return count;
}

std::string find_section(std::map<std::string, std::string> const& sections, std::string const& name)
{
  for (auto const& [heading, text] : sections) {
    std::string h = heading;
    std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return std::tolower(c); });
    if (h.find(name) != std::string::npos) return text;
  }
  return {};
}

} // namespace

notes_evidence read_notes(std::string const& notes, std::string const& template_text)
{
  auto const sections = notes_sections(notes);
  auto const template_sections = notes_sections(template_text, true);
  notes_evidence e;
  e.trace_words = own_words(find_section(sections, "trace"), find_section(template_sections, "trace"));
  e.variation_words = own_words(find_section(sections, "variation"), find_section(template_sections, "variation"));
  std::string const concern = find_section(sections, "cross-cutting");
  e.concern_words = own_words(concern, find_section(template_sections, "cross-cutting"));
  std::string lower = concern;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (auto const& [stem, name] : std::vector<std::pair<std::string, std::string>>{
           {"timeout", "timeouts"}, {"observab", "observability"}, {"security", "security"},
           {"lifecycle", "lifecycle"}, {"life cycle", "lifecycle"}, {"life-cycle", "lifecycle"}})
    if (lower.find(stem) != std::string::npos) {
      e.concern = name;
      break;
    }

  // "Self-grade: 2" on a line of its own, outside the HTML comments.
  static std::regex const self_grade(R"((^|\n)\s*Self-grade:\s*([0-3])\s*(\n|$))", std::regex::icase);
  std::string without_comments = notes;
  for (std::size_t a; (a = without_comments.find("<!--")) != std::string::npos;) {
    std::size_t const b = without_comments.find("-->", a);
    without_comments.erase(a, b == std::string::npos ? std::string::npos : b + 3 - a);
  }
  std::smatch m;
  if (std::regex_search(without_comments, m, self_grade)) e.self_grade = std::stoi(m[2]);
  return e;
}

} // namespace grader
