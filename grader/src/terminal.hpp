// Output conventions: colour only on a terminal and never with NO_COLOR; a
// progress line that rewrites itself on a terminal and stays quiet elsewhere.
#pragma once

#include <string>
#include <string_view>

namespace grader::term {

void init();                 // reads isatty(stdout) and NO_COLOR once
bool interactive();          // stdout is a terminal
bool colour();

std::string green(std::string_view s);
std::string red(std::string_view s);
std::string yellow(std::string_view s);
std::string bold(std::string_view s);
std::string dim(std::string_view s);

std::string_view tick();     // ✓
std::string_view cross();    // ✗
std::string_view dot();      // ·

// "building task-05 (3/12)…" on one rewritten line (terminal only).
void progress(std::string_view text);
void progress_done();        // clears the progress line

} // namespace grader::term
