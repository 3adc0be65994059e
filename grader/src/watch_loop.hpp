// The one place the grader watches files: `grader watch` (one task, in the
// terminal) and `grader serve` (every task a page has opened, in a worker
// thread) both wait on a save_watch. Editors save in different ways (write
// in place, or write a temporary file and rename it over the original), so
// the watch is on the task's directories and reacts to writes, renames and
// creations of the task's sources.
#pragma once

#include "catalog.hpp"

#include <workbook/process.hpp>

#include <map>
#include <set>
#include <span>
#include <string>
#include <variant>

namespace grader {

class save_watch {
public:
  save_watch();   // throws std::system_error when inotify is not available

  // Watches the task's directory and its test/ directory.
  void add(task const& t);

  // Something that happened while waiting.
  struct saved {
    std::set<std::string> tasks;   // the ids of the tasks whose files were saved
  };
  struct woken {
    std::size_t index;             // which of the other descriptors became readable
  };

  // Blocks until a watched task's file is saved, or one of `others` is
  // readable (a signalfd, stdin, an eventfd that asks the caller to stop).
  std::variant<saved, woken> wait(std::span<int const> others);

private:
  // Reads the burst of events of one save (editors write in several steps).
  std::set<std::string> read_save();

  workbook::unique_fd inotify_;
  std::map<int, std::string> tasks_;   // watch descriptor -> task id
};

// A source file a save of which means "grade again" (not an editor's temporary).
bool relevant_to_grading(std::string const& file_name);

} // namespace grader
