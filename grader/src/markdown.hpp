// md4c drives a walker through a Markdown document: the walker has static
// enter_block, leave_block, enter_span, leave_span and on_text callbacks
// taking itself as the last (void*) argument. One place sets the dialect.
#pragma once

#include <md4c.h>

#include <string>

namespace grader {

template <class Walker>
void walk_markdown(std::string const& markdown, Walker& walker)
{
  MD_PARSER parser{};
  parser.abi_version = 0;
  parser.flags = MD_DIALECT_GITHUB;  // tables, as rubric.md has
  parser.enter_block = &Walker::enter_block;
  parser.leave_block = &Walker::leave_block;
  parser.enter_span = &Walker::enter_span;
  parser.leave_span = &Walker::leave_span;
  parser.text = &Walker::on_text;
  md_parse(markdown.data(), static_cast<MD_SIZE>(markdown.size()), &parser, &walker);
}

} // namespace grader
