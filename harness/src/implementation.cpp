#include <workbook/implementation.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace workbook {
namespace {

// The build writes <binary>.variant beside every test binary
// (cmake/WorkbookTask.cmake): one "key<TAB>value" a line.
implementation_info read_variant_file()
{
  auto const binary = std::filesystem::read_symlink("/proc/self/exe");
  auto const file = binary.string() + ".variant";
  std::ifstream in(file);
  if (!in)
    throw std::runtime_error("cannot read " + file + ", which says which implementation this test binary holds; "
                             "configure the build again (bin/grader does)");
  implementation_info info;
  for (std::string line; std::getline(in, line);) {
    auto const tab = line.find('\t');
    if (tab == std::string::npos) continue;
    auto const key = line.substr(0, tab);
    auto const value = line.substr(tab + 1);
    if (key == "task") info.task = value;
    else if (key == "name") info.name = value;
    else if (key == "exercise_dir") info.exercise_dir = value;
    else if (key == "source") info.sources.emplace_back(value);
    else if (key == "tool") {
      auto const second = value.find('\t');
      if (second != std::string::npos) info.tools[value.substr(0, second)] = value.substr(second + 1);
    }
  }
  return info;
}

} // namespace

implementation_info const& implementation()
{
  static implementation_info const info = read_variant_file();
  return info;
}

std::filesystem::path tool(std::string const& name)
{
  auto const& v = implementation();
  auto it = v.tools.find(name);
  if (it == v.tools.end())
    throw std::logic_error(v.task + " declares no tool '" + name + "' (see workbook_task_tool in its task.cmake)");
  return it->second;
}

std::string implementation_source()
{
  std::string all;
  for (auto const& path : implementation().sources) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    std::ostringstream text;
    text << in.rdbuf();
    all += text.str();
  }
  return all;
}

} // namespace workbook
