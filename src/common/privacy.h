// The privacy settings (vibekit/config.h PrivacyConfig) applied to events: the keyed hash of
// identifying metadata values, "counts and sizes only" content mode and secret redaction
// (redact.h). One object per service, shared with the export service and the delivery worker.
//
// Thread-safety: immutable after Create; use from any thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/redact.h"
#include "vibekit/config.h"
#include "vibekit/event.h"
#include "vibekit/status.h"

namespace vibekit::internal {

class Privacy {
 public:
  // Compiles the patterns and, when metadata keys are to be hashed without a configured key,
  // reads (or creates: 32 bytes of getrandom, hex, mode 0600, never overwritten) the install key
  // file. kInvalidArgument for a bad pattern, kIoError when the key file cannot be read/made.
  static Result<std::shared_ptr<const Privacy>> Create(const TelemetryConfig& config);

  // An event on its way in: content mode, hashing, redaction.
  void ApplyIncoming(Event& event) const;
  // Rows on their way out (exports, OTLP): hashing (values not yet "hmac:") and redaction, so
  // rows stored before these settings were on do not leave with secrets.
  void ApplyOutgoing(Event& event) const;
  void ApplyOutgoing(ErrorRecord& error) const;
  void ApplyOutgoing(Session& session) const;

  // "hmac:" + HMAC-SHA-256(key, value) in hex.
  std::string Hash(std::string_view value) const;
  // True when nothing would ever change (every setting off).
  bool inert() const noexcept { return inert_; }
  const Redactor& redactor() const noexcept { return *redactor_; }

 private:
  Privacy() = default;
  void Text(std::optional<std::string>& text) const;
  void Metadata(std::optional<std::string>& metadata) const;

  std::shared_ptr<const Redactor> redactor_;
  std::vector<std::string> hash_keys_;
  std::string key_;
  bool store_content_ = true;
  bool inert_ = false;
};

// Reads the install key in `path`, creating it (and its directory, 0700) when missing.
Result<std::string> LoadOrCreateInstallKey(const std::string& path);

}  // namespace vibekit::internal
