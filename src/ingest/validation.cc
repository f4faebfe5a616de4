#include "ingest/validation.h"

#include <string>

#include "common/json.h"
#include "common/utf8.h"

namespace vibekit::ingest {
namespace {

Status CheckText(std::string_view value, std::string_view field, std::int64_t max_bytes) {
  if (static_cast<std::int64_t>(value.size()) > max_bytes) {
    return Status::InvalidArgument(std::string(field) + " is " + std::to_string(value.size()) +
                                   " bytes; the limit is " + std::to_string(max_bytes) +
                                   " (localStore.max_field_bytes)");
  }
  const std::size_t bad = internal::FindInvalidUtf8(value);
  if (bad != value.size()) {
    return Status::InvalidArgument(std::string(field) + " is not valid UTF-8 (byte " +
                                   std::to_string(bad) + ")");
  }
  return Status::Ok();
}

Status CheckOptional(const std::optional<std::string>& value, std::string_view field,
                     std::int64_t max_bytes) {
  return value ? CheckText(*value, field, max_bytes) : Status::Ok();
}

Status CheckId(const std::string& value, std::string_view field) {
  if (value.empty()) return Status::InvalidArgument(std::string(field) + " must not be empty");
  if (value.size() > 256) {
    return Status::InvalidArgument(std::string(field) + " is longer than 256 bytes");
  }
  return CheckText(value, field, 256);
}

}  // namespace

Status ValidateEvent(Event& e, const LocalStoreConfig& config, std::int64_t now_ms) {
  const std::int64_t max = config.max_field_bytes;
  VK_RETURN_IF_ERROR(CheckId(e.session_id, "sessionId"));
  VK_RETURN_IF_ERROR(CheckId(e.agent_type, "agentType"));
  if (e.mode && e.mode->empty()) e.mode.reset();
  VK_RETURN_IF_ERROR(CheckOptional(e.mode, "mode", 256));
  VK_RETURN_IF_ERROR(CheckOptional(e.prompt, "prompt", max));
  VK_RETURN_IF_ERROR(CheckOptional(e.stream_data, "streamData", max));
  VK_RETURN_IF_ERROR(CheckOptional(e.sandbox_id, "sandboxId", 1024));
  VK_RETURN_IF_ERROR(CheckOptional(e.repo_url, "repoUrl", 4096));
  if (e.metadata) {
    VK_RETURN_IF_ERROR(CheckText(*e.metadata, "metadata", max));
    if (config.enable_data_integrity) {
      VK_RETURN_IF_ERROR(internal::ValidateJsonObject(*e.metadata, "metadata"));
    }
  }
  if (e.timestamp < 0) {
    return Status::InvalidArgument("timestamp must not be negative (got " +
                                   std::to_string(e.timestamp) + ")");
  }
  if (e.timestamp > kMaxTimestampMs) {
    return Status::InvalidArgument("timestamp " + std::to_string(e.timestamp) +
                                   " is beyond the year 9999; it must be milliseconds");
  }
  if (e.timestamp == 0) e.timestamp = now_ms;
  if (e.event_type == EventType::kError) {
    if (e.error) {
      VK_RETURN_IF_ERROR(CheckText(e.error->message, "error.message", max));
      VK_RETURN_IF_ERROR(CheckText(e.error->error_type, "error.type", 256));
      VK_RETURN_IF_ERROR(CheckOptional(e.error->stack, "error.stack", max));
      VK_RETURN_IF_ERROR(CheckOptional(e.error->context, "error.context", max));
      if (e.error->message.empty() && (!e.stream_data || e.stream_data->empty())) {
        return Status::InvalidArgument("an error event needs a message");
      }
    } else if (!e.stream_data || e.stream_data->empty()) {
      return Status::InvalidArgument("an error event needs a message");
    }
  } else if (e.error) {
    return Status::InvalidArgument("only error events carry error details");
  }
  return Status::Ok();
}

std::int64_t EventBytes(const Event& e) noexcept {
  auto len = [](const std::optional<std::string>& s) -> std::int64_t {
    return s ? static_cast<std::int64_t>(s->size()) : 0;
  };
  std::int64_t n = static_cast<std::int64_t>(sizeof(Event) + e.session_id.size() +
                                              e.agent_type.size());
  n += len(e.mode) + len(e.prompt) + len(e.stream_data) + len(e.sandbox_id) + len(e.repo_url) +
       len(e.metadata);
  if (e.error) {
    n += static_cast<std::int64_t>(sizeof(ErrorDetails) + e.error->message.size() +
                                   e.error->error_type.size()) +
         len(e.error->stack) + len(e.error->context);
  }
  return n;
}

}  // namespace vibekit::ingest
