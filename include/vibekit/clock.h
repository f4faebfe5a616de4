// Clock: the source of "now" for the service (timestamps of events without one, session
// timeouts, retention cut-offs). Tests pass a fake; production uses SystemClock().
//
// Thread-safety: implementations must be callable from several threads at once.
#pragma once

#include <cstdint>

namespace vibekit {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch.
  virtual std::int64_t NowMs() const noexcept = 0;
};

// The process-wide wall clock (std::chrono::system_clock). Never null, never destroyed.
const Clock& SystemClock() noexcept;

}  // namespace vibekit
