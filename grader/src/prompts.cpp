#include "prompts.hpp"
#include "terminal.hpp"
#include "text.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <iostream>

#include <unistd.h>

namespace grader {

bool interactive_session() { return ::isatty(STDIN_FILENO) == 1 && term::interactive(); }

bool ask_yes_no(std::string const& question)
{
  std::printf("%s [y/N] ", question.c_str());
  std::fflush(stdout);
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  answer = trim(answer);
  return answer == "y" || answer == "Y" || answer == "yes";
}

std::optional<int> ask_self_grade(rubric const& r, score_decision const& d, std::optional<int> suggestion)
{
  std::printf("\n%s\n", term::bold("Score yourself (rubric.md):").c_str());
  for (auto const& level : r.levels) {
    std::string const line = fmt::format("  {}  {}", level.score, level.takes);
    std::printf("%s\n", level.score > d.cap ? term::dim(line).c_str() : line.c_str());
  }
  if (d.cap < 3) std::printf("  %s\n", term::dim(fmt::format("(the evidence supports up to {}: {})", d.cap, d.cap_reason)).c_str());
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::printf("Your self-grade, 0–3%s (Enter to skip): ", suggestion ? fmt::format(" [{}]", *suggestion).c_str() : "");
    std::fflush(stdout);
    std::string answer;
    if (!std::getline(std::cin, answer)) return std::nullopt;
    answer = trim(answer);
    if (answer.empty()) return suggestion;
    if (answer.size() == 1 && answer[0] >= '0' && answer[0] <= '3') return answer[0] - '0';
    std::printf("  a number from 0 to 3, please\n");
  }
  return std::nullopt;
}

} // namespace grader
