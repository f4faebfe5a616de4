// Operating-system facts the service reports (memory, disk) and the private-file helpers.
#pragma once

#include <cstdint>
#include <string>

#include "vibekit/status.h"

namespace vibekit::internal {

// Resident set size of this process in bytes (from /proc/self/statm); 0 if unknown.
std::int64_t ProcessRssBytes() noexcept;
// Peak resident set size of this process in bytes (VmHWM); 0 if unknown.
std::int64_t PeakRssBytes() noexcept;
// Bytes available to an unprivileged user on the file system holding `path`; -1 if unknown.
std::int64_t DiskFreeBytes(const std::string& path) noexcept;
// Size of the file in bytes, 0 when it does not exist.
std::int64_t FileSizeBytes(const std::string& path) noexcept;
// Creates every missing directory of `dir` with mode 0700. Existing directories are left as
// they are (they may be shared, like /tmp).
Status CreatePrivateDirectories(const std::string& dir);
// The directory part of `path` ("" for a bare file name).
std::string DirName(const std::string& path);
// Names the calling thread (as `top -H`, `ps -L` and perf show it); at most 15 characters are
// kept.
void NameThisThread(const char* name) noexcept;

}  // namespace vibekit::internal
