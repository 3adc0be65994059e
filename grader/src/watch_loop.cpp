#include "watch_loop.hpp"

#include <cerrno>
#include <system_error>
#include <vector>

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

namespace grader {

namespace fs = std::filesystem;

bool relevant_to_grading(std::string const& name)
{
  if (name.empty() || name[0] == '.' || name.back() == '~') return false;  // editor temporaries
  auto const ext = fs::path(name).extension();
  return ext == ".cpp" || ext == ".hpp" || ext == ".h" || name == "NOTES.md" || name == "task.cmake";
}

save_watch::save_watch() : inotify_(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK))
{
  if (inotify_.get() < 0) throw std::system_error(errno, std::generic_category(), "cannot watch files (inotify)");
}

void save_watch::add(task const& t)
{
  uint32_t const mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM;
  for (auto const& dir : {t.exercise_dir, t.exercise_dir / "test"}) {
    if (!fs::is_directory(dir)) continue;
    int const wd = ::inotify_add_watch(inotify_.get(), dir.c_str(), mask);
    if (wd >= 0) tasks_[wd] = t.id;
  }
}

std::set<std::string> save_watch::read_save()
{
  std::set<std::string> changed;
  alignas(inotify_event) char buf[8192];
  for (int settle = 0;; ++settle) {
    ssize_t const n = ::read(inotify_.get(), buf, sizeof buf);
    if (n > 0) {
      for (char* p = buf; p < buf + n;) {
        auto const* e = reinterpret_cast<inotify_event*>(p);
        if (e->len && relevant_to_grading(e->name))
          if (auto it = tasks_.find(e->wd); it != tasks_.end()) changed.insert(it->second);
        p += sizeof(inotify_event) + e->len;
      }
      continue;
    }
    pollfd more{inotify_.get(), POLLIN, 0};
    if (settle > 20 || ::poll(&more, 1, 150) <= 0) return changed;
  }
}

std::variant<save_watch::saved, save_watch::woken> save_watch::wait(std::span<int const> others)
{
  std::vector<pollfd> fds{{inotify_.get(), POLLIN, 0}};
  for (int fd : others) fds.push_back({fd, POLLIN, 0});
  for (;;) {
    for (auto& f : fds) f.revents = 0;
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "poll");
    }
    for (std::size_t i = 1; i < fds.size(); ++i)
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) return woken{i - 1};
    if (fds[0].revents & POLLIN)
      if (auto changed = read_save(); !changed.empty()) return saved{std::move(changed)};
  }
}

} // namespace grader
