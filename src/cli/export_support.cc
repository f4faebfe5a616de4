#include "cli/export_support.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

namespace vibekit::cli {

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  auto push = [&] {
    const auto b = cur.find_first_not_of(" \t");
    const auto e = cur.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(cur.substr(b, e - b + 1));
    cur.clear();
  };
  for (const char c : text) {
    if (c == ',') {
      push();
    } else {
      cur += c;
    }
  }
  push();
  return out;
}

boost::json::object ExportResultToJson(const ExportResult& r) {
  boost::json::object o;
  o["format"] = r.format;
  o["compression"] = r.compression;
  o["recordCount"] = r.record_count;
  o["sessions"] = r.session_count;
  o["events"] = r.event_count;
  o["errors"] = r.error_count;
  o["durationMs"] = r.duration_ms;
  boost::json::array files;
  for (const ExportedFile& f : r.files) {
    boost::json::object fo;
    fo["path"] = f.path;
    if (!f.table.empty()) fo["table"] = f.table;
    fo["sizeBytes"] = f.size_bytes;
    fo["sha256"] = f.sha256;
    files.push_back(std::move(fo));
  }
  o["files"] = std::move(files);
  return o;
}

Result<ScratchDir> ScratchDir::Create(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string path =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/" + prefix + "-XXXXXX";
  if (mkdtemp(path.data()) == nullptr) {
    return Status::Unavailable("cannot create a temporary directory: " +
                               std::string(std::strerror(errno)));
  }
  return ScratchDir(path);
}

ScratchDir::~ScratchDir() {
  if (path_.empty()) return;
  if (DIR* d = opendir(path_.c_str())) {
    while (dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name != "." && name != "..") ::unlink((path_ + "/" + name).c_str());
    }
    closedir(d);
  }
  ::rmdir(path_.c_str());
}

Status SpoolStdin(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Unavailable("cannot create \"" + path + "\": " + std::strerror(errno));
  char buf[1 << 16];
  Status st;
  while (st.ok()) {
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      st = Status::IoError("reading standard input: " + std::string(std::strerror(errno)));
      break;
    }
    for (ssize_t off = 0; off < n && st.ok();) {
      const ssize_t w = ::write(fd, buf + off, static_cast<std::size_t>(n - off));
      if (w < 0) {
        st = Status::IoError("writing \"" + path + "\": " + std::strerror(errno));
      } else {
        off += w;
      }
    }
  }
  ::close(fd);
  return st;
}

}  // namespace vibekit::cli
