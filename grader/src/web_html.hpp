// HTML for the web workbook: the one escaping function every page's text
// and attributes go through, and the shell every page shares.
#pragma once

#include <string>
#include <string_view>

namespace grader::web {

// & < > " ' as entities: safe in text and in a quoted attribute.
std::string escape(std::string_view text);

// A whole page: the stylesheet, the title (escaped here) and `body` (HTML,
// already escaped by whoever built it). `body_attributes` go on <body>.
std::string page(std::string_view title, std::string_view body, std::string_view body_attributes = "");

} // namespace grader::web
