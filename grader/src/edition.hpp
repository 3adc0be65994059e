// Editions of the workbook. The instructor's holds everything; a student
// edition (`grader export --student DIR`) holds no solutions/ except the
// references the instructor chose to release, and is marked by edition.json
// at its root. Its manifest.json records a hash of every file a student is
// not meant to edit, so that marking can tell a pristine tree from an edited
// one.
#pragma once

#include "catalog.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace grader {

// True when `root` is a student edition (edition.json says so).
bool is_student_edition(std::filesystem::path const& root);

// Why a verb that needs the references cannot run here; empty when it can.
// `t` may be null (a verb about every task).
std::string missing_reference(std::filesystem::path const& root, task const* t);

// True (after saying why, as "grader <verb>: ...") when `verb` needs a
// reference this edition does not hold.
bool refused_without_reference(std::filesystem::path const& root, task const* t, char const* verb);

struct export_options {
  std::filesystem::path destination;
  std::vector<std::string> release;  // task ids whose reference and WHY.md go out too
};

struct export_result {
  std::size_t files = 0;
  std::vector<std::string> leaks;    // reference code found in the edition ("file: how")
  std::string error;                 // why nothing (or not everything) was written
};

export_result export_student_edition(std::filesystem::path const& root, catalog const& cat, export_options const& o);

} // namespace grader
