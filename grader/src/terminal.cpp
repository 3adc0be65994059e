#include "terminal.hpp"

#include <cstdio>
#include <cstdlib>

#include <unistd.h>

namespace grader::term {
namespace {

bool g_interactive = false;
bool g_colour = false;
bool g_progress_shown = false;

std::string wrap(std::string_view code, std::string_view s)
{
  if (!g_colour) return std::string(s);
  return "\033[" + std::string(code) + "m" + std::string(s) + "\033[0m";
}

} // namespace

void init()
{
  g_interactive = ::isatty(STDOUT_FILENO) == 1;
  char const* no_colour = std::getenv("NO_COLOR");
  char const* term = std::getenv("TERM");
  g_colour = g_interactive && !(no_colour && *no_colour) && !(term && std::string_view(term) == "dumb");
}

bool interactive() { return g_interactive; }
bool colour() { return g_colour; }

std::string green(std::string_view s) { return wrap("32", s); }
std::string red(std::string_view s) { return wrap("31", s); }
std::string yellow(std::string_view s) { return wrap("33", s); }
std::string bold(std::string_view s) { return wrap("1", s); }
std::string dim(std::string_view s) { return wrap("2", s); }

std::string_view tick() { return "✓"; }
std::string_view cross() { return "✗"; }
std::string_view dot() { return "·"; }

void progress(std::string_view text)
{
  if (!g_interactive) return;
  std::fprintf(stdout, "\r\033[K%.*s", static_cast<int>(text.size()), text.data());
  std::fflush(stdout);
  g_progress_shown = true;
}

void progress_done()
{
  if (!g_progress_shown) return;
  std::fputs("\r\033[K", stdout);
  std::fflush(stdout);
  g_progress_shown = false;
}

} // namespace grader::term
