// A directory of the test's own under the system's temporary directory,
// removed with everything in it when the object goes: a document root for
// a real server, a fresh profile for a browser.
//
//   workbook::temp_dir dir("task13-live");
//   std::ofstream(dir.path() / "file") << ...;
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace workbook {

class temp_dir {
public:
  // In `parent`: the system's temporary directory unless a test needs one
  // that another mount cannot hide (/var/tmp, for a sandbox with a /tmp of
  // its own).
  explicit temp_dir(std::string_view prefix = "workbook",
                    std::filesystem::path const& parent = std::filesystem::temp_directory_path())
  {
    std::string pattern = (parent / (std::string(prefix) + "-XXXXXX")).string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  ~temp_dir()
  {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  temp_dir(temp_dir const&) = delete;
  temp_dir& operator=(temp_dir const&) = delete;

  std::filesystem::path const& path() const { return path_; }

private:
  std::filesystem::path path_;
};

} // namespace workbook
