// The verdict as JSON, for scripts and CI (`grader task-NN --json`). Its
// shape is docs/verdict.schema.json; `version` changes when the shape does.
#pragma once

#include "verdict.hpp"

#include <nlohmann/json.hpp>

namespace grader {

inline constexpr int verdict_json_version = 2;  // 2: bonus criteria

nlohmann::json to_json(verdict const& v);

} // namespace grader
