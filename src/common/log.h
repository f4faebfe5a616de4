// Internal logging (spdlog behind a plain interface so its headers stay in one file).
#pragma once

#include <string_view>

namespace vibekit::internal {

enum class LogLevel { kDebug, kInfo, kWarn, kError, kOff };  // kOff: only for SetLogLevel

void Log(LogLevel level, std::string_view message) noexcept;
// Messages below `level` are dropped. Default kWarn; VIBEKIT_LOG_LEVEL=debug|info|warn|error.
void SetLogLevel(LogLevel level) noexcept;

inline void LogDebug(std::string_view m) noexcept { Log(LogLevel::kDebug, m); }
inline void LogInfo(std::string_view m) noexcept { Log(LogLevel::kInfo, m); }
inline void LogWarn(std::string_view m) noexcept { Log(LogLevel::kWarn, m); }
inline void LogError(std::string_view m) noexcept { Log(LogLevel::kError, m); }

}  // namespace vibekit::internal
