// HTML for the web workbook: the shell every page shares. Every page's text
// and attributes go through one escaping function, markup_escaped
// (text.hpp), which grader mark's JUnit XML uses too.
#pragma once

#include "text.hpp"

#include <string>
#include <string_view>

namespace grader::web {

// A whole page: the stylesheet, the title (escaped here) and `body` (HTML,
// already escaped by whoever built it). `body_attributes` go on <body>.
std::string page(std::string_view title, std::string_view body, std::string_view body_attributes = "");

} // namespace grader::web
