// A clock the benchmarks set by hand (simulated time of a generated workload).
#pragma once

#include <atomic>
#include <cstdint>

#include "vibekit/clock.h"

namespace vibekit::bench {

class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t now_ms) : now_(now_ms) {}
  std::int64_t NowMs() const noexcept override { return now_.load(); }
  void Set(std::int64_t ms) { now_.store(ms); }

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace vibekit::bench
