#include "vibekit/event.h"

#include <string>

namespace vibekit {

std::string_view EventTypeName(EventType type) noexcept {
  switch (type) {
    case EventType::kStart: return "start";
    case EventType::kStream: return "stream";
    case EventType::kEnd: return "end";
    case EventType::kError: return "error";
  }
  return "stream";
}

Result<EventType> ParseEventType(std::string_view name) {
  if (name == "start") return EventType::kStart;
  if (name == "stream") return EventType::kStream;
  if (name == "end") return EventType::kEnd;
  if (name == "error") return EventType::kError;
  return Status::InvalidArgument("unknown event type \"" + std::string(name) +
                                 "\" (expected start, stream, end or error)");
}

std::string_view SessionStatusName(SessionStatus status) noexcept {
  switch (status) {
    case SessionStatus::kActive: return "active";
    case SessionStatus::kCompleted: return "completed";
    case SessionStatus::kFailed: return "failed";
    case SessionStatus::kTimeout: return "timeout";
  }
  return "active";
}

Result<SessionStatus> ParseSessionStatus(std::string_view name) {
  if (name == "active") return SessionStatus::kActive;
  if (name == "completed") return SessionStatus::kCompleted;
  if (name == "failed") return SessionStatus::kFailed;
  if (name == "timeout") return SessionStatus::kTimeout;
  return Status::InvalidArgument("unknown session status \"" + std::string(name) +
                                 "\" (expected active, completed, failed or timeout)");
}

std::string_view ErrorSeverityName(ErrorSeverity severity) noexcept {
  switch (severity) {
    case ErrorSeverity::kLow: return "low";
    case ErrorSeverity::kMedium: return "medium";
    case ErrorSeverity::kHigh: return "high";
    case ErrorSeverity::kCritical: return "critical";
  }
  return "medium";
}

Result<ErrorSeverity> ParseErrorSeverity(std::string_view name) {
  if (name == "low") return ErrorSeverity::kLow;
  if (name == "medium") return ErrorSeverity::kMedium;
  if (name == "high") return ErrorSeverity::kHigh;
  if (name == "critical") return ErrorSeverity::kCritical;
  return Status::InvalidArgument("unknown error severity \"" + std::string(name) +
                                 "\" (expected low, medium, high or critical)");
}

}  // namespace vibekit
