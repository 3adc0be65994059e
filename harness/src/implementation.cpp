#include <workbook/implementation.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace workbook {

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
