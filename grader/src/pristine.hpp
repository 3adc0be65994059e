// The files a student edits, and their originals: what `reset` restores and
// what NOTES.md's own words are measured against.
#pragma once

#include "catalog.hpp"
#include "paths.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace grader {

// The task directory's top-level sources. NOTES.md is the student's too, but
// never reset.
std::vector<std::filesystem::path> stub_files(task const& t);

// The first time the grader meets a task it keeps a copy of the files as
// they are: for `reset` when git cannot help, and of NOTES.md as the template.
void keep_pristine_copy(workbook_paths const& paths, task const& t);

// The NOTES.md template as it was shipped ("" before the first copy).
std::string notes_template(workbook_paths const& paths, task const& t);

// The original text of a workbook file: from git (the upstream's version
// first), else the grader's pristine copy; nullopt if neither has it.
std::optional<std::string> original_of(workbook_paths const& paths, task const& t, std::filesystem::path const& file);

} // namespace grader
