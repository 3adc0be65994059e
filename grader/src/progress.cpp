#include "progress.hpp"
#include "files.hpp"
#include "text.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <regex>
#include <sstream>
#include <system_error>

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace grader {

namespace fs = std::filesystem;

namespace {

bool known_field(std::string const& k)
{
  for (char const* f : {"verdict", "criteria_passed", "criteria_total", "when", "self_grade", "score",
                        "cap_reason", "revealed", "forced_reveal", "hints_shown"})
    if (k == f) return true;
  return false;
}

std::optional<task_record> record_from(nlohmann::json const& j)
{
  if (!j.is_object() || !j.contains("verdict") || !j["verdict"].is_string()) return std::nullopt;
  task_record r;
  try {
    r.verdict = j["verdict"];
    r.criteria_passed = j.value("criteria_passed", 0);
    r.criteria_total = j.value("criteria_total", 0);
    r.when = j.value("when", "");
    if (j.contains("self_grade") && j["self_grade"].is_number_integer()) r.self_grade = j["self_grade"].get<int>();
    if (j.contains("score") && j["score"].is_number_integer()) r.score = j["score"].get<int>();
    r.cap_reason = j.value("cap_reason", "");
    r.revealed = j.value("revealed", false);
    r.forced_reveal = j.value("forced_reveal", false);
    r.hints_shown = j.value("hints_shown", std::vector<int>{});
  } catch (nlohmann::json::exception const&) {
    return std::nullopt;  // a field of the wrong type: the record is damaged
  }
  for (auto const& [k, v] : j.items())
    if (!known_field(k)) r.extra[k] = v;
  return r;
}

nlohmann::json json_of(task_record const& r)
{
  nlohmann::json j = r.extra;
  j["verdict"] = r.verdict;
  j["criteria_passed"] = r.criteria_passed;
  j["criteria_total"] = r.criteria_total;
  j["when"] = r.when;
  if (r.self_grade) j["self_grade"] = *r.self_grade;
  if (r.score) j["score"] = *r.score;
  if (!r.cap_reason.empty()) j["cap_reason"] = r.cap_reason;
  if (r.revealed) j["revealed"] = true;
  if (r.forced_reveal) j["forced_reveal"] = true;
  if (!r.hints_shown.empty()) j["hints_shown"] = r.hints_shown;
  return j;
}

} // namespace

std::string now_iso8601()
{
  std::time_t const t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

progress_store::progress_store(fs::path file) : file_(std::move(file)) {}

std::optional<std::string> progress_store::load()
{
  records_.clear();
  auto const read = read_file(file_);
  if (!read) return std::nullopt;  // no progress yet
  std::string const& text = *read;

  auto const doc = nlohmann::json::parse(text, nullptr, false);
  bool damaged = false;
  if (!doc.is_discarded() && doc.is_object() && doc.contains("tasks") && doc["tasks"].is_object()) {
    for (auto const& [id, entry] : doc["tasks"].items()) {
      if (auto r = record_from(entry)) records_[id] = *r;
      else damaged = true;
    }
  } else {
    damaged = true;
    // The file is written one task per line, so a truncated or hand-mangled
    // file still yields every line that parses on its own.
    static std::regex const line_re(R"re(^\s*"([^"]+)"\s*:\s*(\{.*\})\s*,?\s*$)re");
    for (auto const& line : split_lines(text)) {
      std::smatch m;
      if (!std::regex_match(line, m, line_re)) continue;
      auto const entry = nlohmann::json::parse(m[2].str(), nullptr, false);
      if (auto r = record_from(entry)) records_[m[1]] = *r;
    }
  }
  if (!damaged) return std::nullopt;

  fs::path aside = file_;
  aside += ".damaged-" + now_iso8601();
  std::error_code ec;
  fs::copy_file(file_, aside, fs::copy_options::overwrite_existing, ec);
  save();
  std::ostringstream msg;
  msg << file_.string() << " was damaged; kept a copy as " << aside.filename().string() << " and recovered "
      << records_.size() << " task record" << (records_.size() == 1 ? "" : "s") << ".";
  return msg.str();
}

std::optional<task_record> progress_store::get(std::string const& task) const
{
  auto it = records_.find(task);
  if (it == records_.end()) return std::nullopt;
  return it->second;
}

void progress_store::set(std::string const& task, task_record record) { records_[task] = std::move(record); }

void progress_store::save() const
{
  std::error_code ec;
  fs::create_directories(file_.parent_path(), ec);
  std::string text = "{\n\"version\": 1,\n\"tasks\": {\n";
  std::size_t i = 0;
  for (auto const& [id, r] : records_) {
    text += nlohmann::json(id).dump() + ": " + json_of(r).dump();
    text += ++i < records_.size() ? ",\n" : "\n";
  }
  text += "}\n}\n";

  fs::path tmp = file_;
  tmp += ".tmp-" + std::to_string(::getpid());
  int const fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot write " + tmp.string());
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t const n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      int const err = errno;
      ::close(fd);
      fs::remove(tmp, ec);
      throw std::system_error(err, std::generic_category(), "cannot write " + tmp.string());
    }
    done += static_cast<std::size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  fs::rename(tmp, file_);  // atomic on POSIX
}

progress_store open_progress(fs::path const& state_dir)
{
  progress_store store(state_dir / "progress.json");
  if (auto message = store.load()) std::fprintf(stderr, "grader: %s\n", message->c_str());
  return store;
}

void save_progress(progress_store const& store)
{
  try {
    store.save();
  } catch (std::exception const& e) {
    std::fprintf(stderr, "grader: could not record progress: %s\n", e.what());
  }
}

task_record update_record(fs::path const& state_dir, std::string const& task,
                          std::function<bool(task_record&)> const& change)
{
  // Serialises read-modify-write cycles between threads and processes; a
  // lock file beside the progress file, which rename() replaces.
  file_lock const lock(state_dir / "progress.lock");
  auto store = open_progress(state_dir);
  task_record r = store.get(task).value_or(task_record{});
  if (!change(r)) return store.get(task).value_or(task_record{});
  store.set(task, r);
  save_progress(store);
  return r;
}

} // namespace grader
