// Task 01 · AC2: the call chain written at the top of hello_server.cpp is
// checked against a handler-tracking trace of the same server.
#include <workbook/process.hpp>
#include <workbook/implementation.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <regex>
#include <sstream>

namespace {

struct name {
  std::string qualifier;  // "http", "basic_stream", "socket", or ""
  std::string function;   // "async_read"
};

std::string lower(std::string s)
{
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// "boost::beast::http::async_read(msg)" -> {"http", "async_read"}
name parse_name(std::string text)
{
  text = lower(text);
  if (auto paren = text.find('('); paren != std::string::npos) text.erase(paren);
  for (std::string prefix : {"boost::", "beast::", "asio::", "net::", "std::"})
    for (std::size_t p; (p = text.find(prefix)) != std::string::npos;) text.erase(p, prefix.size());
  auto const sep = text.rfind("::");
  if (sep == std::string::npos) return {"", text};
  std::string q = text.substr(0, sep);
  if (auto inner = q.rfind("::"); inner != std::string::npos) q = q.substr(inner + 2);
  return {q, text.substr(sep + 2)};
}

bool same_qualifier(std::string const& student, std::string const& traced)
{
  if (student.empty() || student == traced) return true;
  if (student == "tcp_stream" && traced == "basic_stream") return true;
  // "basic_socket_acceptor" / "basic_stream_socket" name what Asio's trace calls "socket".
  return traced == "socket" && student.find("socket") != std::string::npos;
}

// The steps under the "Call chain" heading: "//   3. http::async_read  why..."
std::vector<std::string> written_steps(std::string const& source)
{
  std::vector<std::string> steps;
  std::istringstream in(source);
  std::string line;
  bool in_chain = false;
  std::regex const step(R"(^\s*//\s*\d+[.)]\s+([A-Za-z_~][\w:~<>]*(\([^)]*\))?))");
  while (std::getline(in, line)) {
    if (!in_chain) {
      in_chain = lower(line).find("call chain") != std::string::npos;
      continue;
    }
    std::smatch m;
    if (std::regex_search(line, m, step)) steps.push_back(m[1]);
    else if (!steps.empty() && line.find("//") == std::string::npos) break;
  }
  return steps;
}

// Every function the trace names, in the order it first appears. Within one
// operation Asio prints the innermost location first ("in 'X'", then
// "called from 'Y'"...), so each block is reversed to read outermost first.
std::vector<name> traced_names(std::string const& trace)
{
  std::vector<name> order;
  auto add = [&](name n) {
    for (auto const& o : order)
      if (o.qualifier == n.qualifier && o.function == n.function) return;
    order.push_back(std::move(n));
  };
  std::vector<name> block;
  std::regex const location(R"(\|(in|called from) '([^']+)')");
  std::regex const creation(R"(\|\d+\*\d+\|(\w+)@[0-9a-fx]+\.(\w+))");
  std::istringstream in(trace);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("@asio|", 0) != 0) continue;
    std::smatch m;
    if (std::regex_search(line, m, location)) {
      block.push_back(parse_name(m[2]));
    } else if (std::regex_search(line, m, creation)) {
      for (auto it = block.rbegin(); it != block.rend(); ++it) add(*it);
      block.clear();
      add({lower(m[1]) == "deadline_timer" ? "timer" : lower(m[1]), lower(m[2])});
    }
  }
  return order;
}

} // namespace

TEST_CASE("the call chain comment lists at least six steps, in the order a trace shows them", "[AC2]")
{
  auto const steps = written_steps(workbook::implementation_source());
  std::string steps_list;
  for (auto const& s : steps) steps_list += " " + s;
  INFO(steps.size() << " steps found under \"Call chain\" in "
       << workbook::implementation().sources.front().filename().string() << ":" << steps_list);
  REQUIRE(steps.size() >= 6);

  // Run the handler-tracking build of the same source and read its trace.
  auto const run = workbook::run_process({workbook::tool("trace").string()}, std::chrono::seconds(20));
  INFO("tracing build exit code " << run.exit_code << ", signal " << run.signal
       << (run.timed_out ? ", timed out" : ""));
  REQUIRE(!run.timed_out);
  auto const traced = traced_names(run.output);
  std::string traced_list;
  for (auto const& t : traced) traced_list += " " + (t.qualifier.empty() ? "" : t.qualifier + "::") + t.function;
  INFO("The trace of your server names, in order:" << traced_list);
  REQUIRE(run.exit_code == 0);

  // Steps that name a traced function must be in the trace's order; steps the
  // trace cannot see (io_context::run, your own handlers, basic_parser::put)
  // are welcome but not checked.
  std::vector<std::pair<std::string, std::size_t>> grounded;
  for (auto const& s : steps) {
    auto const n = parse_name(s);
    for (std::size_t i = 0; i < traced.size(); ++i)
      if (traced[i].function == n.function && same_qualifier(n.qualifier, traced[i].qualifier)) {
        grounded.emplace_back(s, i);
        break;
      }
  }
  std::string grounded_list;
  for (auto const& [s, i] : grounded) grounded_list += " " + s;
  INFO("Your steps found in the trace:" << grounded_list);
  CHECK(grounded.size() >= 4);
  for (std::size_t i = 1; i < grounded.size(); ++i) {
    INFO(grounded[i - 1].first << " is listed before " << grounded[i].first
         << ", but the trace shows them the other way round");
    CHECK(grounded[i - 1].second <= grounded[i].second);
  }
}
