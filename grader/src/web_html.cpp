#include "web_html.hpp"

namespace grader::web {

std::string page(std::string_view title, std::string_view body, std::string_view body_attributes)
{
  std::string out = "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>";
  out += markup_escaped(title);
  out += "</title>\n<link rel=\"stylesheet\" href=\"/static/style.css\">\n"
         "<script src=\"/static/live.js\" defer></script>\n</head>\n<body";
  if (!body_attributes.empty()) out.append(" ").append(body_attributes);
  out += ">\n";
  out += body;
  out += "\n</body>\n</html>\n";
  return out;
}

} // namespace grader::web
