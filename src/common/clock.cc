#include "vibekit/clock.h"

#include <chrono>

namespace vibekit {
namespace {

class SystemClockImpl final : public Clock {
 public:
  std::int64_t NowMs() const noexcept override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace

const Clock& SystemClock() noexcept {
  static const SystemClockImpl clock;
  return clock;
}

}  // namespace vibekit
