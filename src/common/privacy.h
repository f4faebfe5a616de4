// The privacy settings (vibekit/config.h PrivacyConfig) applied to events: the keyed hash of
// identifying metadata values, "counts and sizes only" content mode and secret redaction
// (redact.h). One object per service, shared with the export service and the delivery worker.
//
// Thread-safety: immutable after Create; use from any thread.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/redact.h"
#include "vibekit/config.h"
#include "vibekit/event.h"
#include "vibekit/status.h"

namespace vibekit::internal {

class Privacy {
 public:
  // Compiles the patterns (kInvalidArgument for a bad one). Without a configured hash key, the
  // install key file is read (or created: 32 bytes of getrandom, hex, mode 0600, never
  // overwritten) when the first value is hashed, so a database whose metadata never holds such
  // a key gets no file. If it cannot be read or made, hashed values are dropped
  // ("[REDACTED:unhashed]") and the error is logged once: never stored in the clear.
  static Result<std::shared_ptr<const Privacy>> Create(const TelemetryConfig& config);

  // An event on its way in: content mode, hashing, redaction.
  void ApplyIncoming(Event& event) const;
  // Rows on their way out (exports, OTLP): hashing (values not yet "hmac:") and redaction, so
  // rows stored before these settings were on do not leave with secrets.
  void ApplyOutgoing(Event& event) const;
  void ApplyOutgoing(ErrorRecord& error) const;
  void ApplyOutgoing(Session& session) const;
  // False only when ApplyOutgoing would leave the row as it is: a read-only pass (the secret
  // scanner's fast skip, the hashed keys looked up as text), no copy. It may answer true for a
  // row that ApplyOutgoing then leaves unchanged (JSON with escapes, extra patterns in
  // metadata), never false for one it would change.
  bool ChangesOutgoing(const Event& event) const;
  bool ChangesOutgoing(const ErrorRecord& error) const;
  bool ChangesOutgoing(const Session& session) const;
  // Calls `use` with `row` as it leaves: a copy through ApplyOutgoing when it would change, or
  // `row` itself (no copy) when the settings are inert or nothing in the row would change. For
  // readers that hand out const rows (export, restore).
  template <typename Row, typename Use>
  auto WithOutgoing(const Row& row, Use&& use) const {
    if (inert_ || !ChangesOutgoing(row)) return use(row);
    Row copy = row;
    ApplyOutgoing(copy);
    return use(copy);
  }
  // ApplyOutgoing on a row the caller owns, after the same read-only check (rows with nothing
  // to change are not rewritten). For readers that hold mutable copies (the export pipeline).
  template <typename Row>
  void ApplyOutgoingIfChanged(Row& row) const {
    if (!inert_ && ChangesOutgoing(row)) ApplyOutgoing(row);
  }

  // "hmac:" + HMAC-SHA-256(key, value) in hex (see Create for a missing key).
  std::string Hash(std::string_view value) const;
  // True when nothing would ever change (every setting off).
  bool inert() const noexcept { return inert_; }
  // What ApplyOutgoing does, as 64 hex digits: equal for equal redaction settings (built-in
  // detectors and their kBuiltinRulesVersion, extra patterns) and hashed keys; the install key
  // and the content mode are not part of it (ApplyOutgoing does not depend on them). A row
  // stored through ApplyIncoming under settings of one fingerprint is left as it is by
  // ApplyOutgoing under the same: the store records which events were written under which
  // fingerprint (telemetry_privacy_ranges), so exports skip their secret scan.
  const std::string& fingerprint() const noexcept { return fingerprint_; }
  const Redactor& redactor() const noexcept { return *redactor_; }

 private:
  Privacy() = default;
  void Text(std::optional<std::string>& text) const;
  void Metadata(std::optional<std::string>& metadata) const;
  bool TextChanges(const std::optional<std::string>& text) const;
  bool MetadataChanges(const std::optional<std::string>& metadata) const;
  // True when `metadata` names one of the hashed keys (its last part, quoted) anywhere.
  bool MayHoldHashedKey(std::string_view metadata) const;
  // False only when hashing would leave `metadata` as it is: no member named like a hashed key
  // (its last part) has a value other than an "hmac:" string, an object, an array or null.
  bool HashingChanges(std::string_view metadata) const;

  std::shared_ptr<const Redactor> redactor_;
  std::vector<std::string> hash_keys_;
  std::vector<std::string> hash_key_needles_;  // "\"last part\"" of each hashed key
  // Member names HashMembers may hash: each key and its parts after each dot, quoted.
  std::vector<std::string> hash_member_names_;
  bool quoted_hash_key_ = false;  // a hashed key with '"' in it: no shortcut
  std::string key_file_;  // empty when the key is configured
  mutable std::once_flag key_once_;
  mutable std::string key_;  // set once (configured, or by key_once_)
  bool store_content_ = true;
  bool inert_ = false;
  std::string fingerprint_;
};

// Reads the install key in `path`, creating it (and its directory, 0700) when missing.
Result<std::string> LoadOrCreateInstallKey(const std::string& path);

}  // namespace vibekit::internal
