#include "common/sys.h"

#include <pthread.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

namespace vibekit::internal {

std::int64_t ProcessRssBytes() noexcept {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long size = 0;
  long resident = 0;
  const int got = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  if (got != 2) return 0;
  return static_cast<std::int64_t>(resident) * sysconf(_SC_PAGESIZE);
}

std::int64_t PeakRssBytes() noexcept {
  try {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
    }
  } catch (...) {
  }
  return 0;
}

std::int64_t DiskFreeBytes(const std::string& path) noexcept {
  struct statvfs st {};
  const std::string dir = DirName(path);
  if (statvfs(dir.empty() ? "." : dir.c_str(), &st) != 0) return -1;
  return static_cast<std::int64_t>(st.f_bavail) * static_cast<std::int64_t>(st.f_frsize);
}

std::int64_t FileSizeBytes(const std::string& path) noexcept {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return 0;
  return static_cast<std::int64_t>(st.st_size);
}

std::string DirName(const std::string& path) {
  const auto pos = path.find_last_of('/');
  if (pos == std::string::npos) return "";
  if (pos == 0) return "/";
  return path.substr(0, pos);
}

Status CreatePrivateDirectories(const std::string& dir) {
  if (dir.empty() || dir == "/" || dir == ".") return Status::Ok();
  struct stat st {};
  if (stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::Ok();
    return Status::Unavailable("\"" + dir + "\" exists and is not a directory");
  }
  VK_RETURN_IF_ERROR(CreatePrivateDirectories(DirName(dir)));
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::Unavailable("cannot create directory \"" + dir + "\": " + std::strerror(errno));
  }
  return Status::Ok();
}

void NameThisThread(const char* name) noexcept {
  char shortened[16] = {};
  std::strncpy(shortened, name, sizeof shortened - 1);
  (void)::pthread_setname_np(::pthread_self(), shortened);
}

}  // namespace vibekit::internal
