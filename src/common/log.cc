#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <cstring>
#include <memory>

namespace vibekit::internal {
namespace {

spdlog::level::level_enum ToSpd(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarn: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
    case LogLevel::kOff: return spdlog::level::off;
  }
  return spdlog::level::warn;
}

std::shared_ptr<spdlog::logger>& Logger() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = spdlog::stderr_color_mt("vibekit");
    l->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ vibekit: %v");
    LogLevel level = LogLevel::kWarn;
    if (const char* env = std::getenv("VIBEKIT_LOG_LEVEL")) {
      if (std::strcmp(env, "debug") == 0) level = LogLevel::kDebug;
      if (std::strcmp(env, "info") == 0) level = LogLevel::kInfo;
      if (std::strcmp(env, "error") == 0) level = LogLevel::kError;
    }
    l->set_level(ToSpd(level));
    return l;
  }();
  return logger;
}

}  // namespace

void Log(LogLevel level, std::string_view message) noexcept {
  try {
    Logger()->log(ToSpd(level), "{}", message);
  } catch (...) {
  }
}

void SetLogLevel(LogLevel level) noexcept {
  try {
    Logger()->set_level(ToSpd(level));
  } catch (...) {
  }
}

}  // namespace vibekit::internal
