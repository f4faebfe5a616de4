// Monotonic milliseconds for deadlines and intervals inside one process (never stored: the
// epoch of std::chrono::steady_clock is arbitrary). Wall-clock time comes from vibekit::Clock.
#pragma once

#include <sys/resource.h>
#include <time.h>

#include <chrono>
#include <cstdint>

namespace vibekit::internal {

inline std::int64_t SteadyMs() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline std::int64_t SteadyMicros() noexcept {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// CPU time the calling thread has used, in seconds (0 if the clock is unavailable).
inline double ThreadCpuSeconds() noexcept {
  timespec t{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) != 0) return 0;
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

// CPU time the whole process (every thread) has used, user + system, in seconds.
inline double ProcessCpuSeconds() noexcept {
  rusage u{};
  if (getrusage(RUSAGE_SELF, &u) != 0) return 0;
  auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

// The steady_clock time point of a SteadyMs() value, for condition-variable waits.
inline std::chrono::steady_clock::time_point AtSteadyMs(std::int64_t ms) noexcept {
  return std::chrono::steady_clock::time_point(std::chrono::milliseconds(ms));
}

}  // namespace vibekit::internal
