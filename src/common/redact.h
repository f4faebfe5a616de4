// Privacy: redaction of secrets in free text and in metadata JSON, and the keyed hash of
// identifying metadata values. Used by the service before anything is stored, by the export
// service and by OTLP encoding (delivery, export) so rows stored before redaction was enabled do
// not leave either.
//
// Built-in detectors (a one-pass scanner: anchors found by a byte table, then verified by hand,
// no regex), each replaced by "[REDACTED:<kind>]":
//   openai_api_key     sk-<20+ of [A-Za-z0-9_-]>, sk-proj-..., sk-svcacct-... (letters and digits)
//   anthropic_api_key  sk-ant-<20+>
//   stripe_key         sk_live_ / sk_test_ / rk_live_ / rk_test_ + 16+ alphanumerics
//   google_api_key     AIza + 35 of [A-Za-z0-9_-]
//   aws_access_key_id  AKIA / ASIA + 16 of [A-Z0-9]
//   github_token       ghp_ / gho_ / ghu_ / ghs_ / ghr_ + 36+ alphanumerics; github_pat_ + 22+
//   slack_token        xoxb- / xoxa- / xoxp- / xoxr- / xoxs- + 10+ of [A-Za-z0-9-]
//   jwt                eyJ<10+>.<10+>.<10+> (base64url parts)
//   bearer_token       the credential after "Bearer " (any case; 16+ token characters)
//   private_key        -----BEGIN ... PRIVATE KEY----- up to its -----END ...----- line (or the
//                      end of the text when the block is cut off)
//   secret_value       the value of NAME=value / NAME: value / "NAME": "value" where NAME says
//                      secret, password, passwd or pwd anywhere (value of 4+ characters), or ends
//                      in a "key" or "token" word (API_KEY, apiKey, auth-token; value of 8+):
//                      KEY_COUNT, MONKEY, max_tokens are not secret names. Values that are
//                      placeholders ($VAR, ${VAR}, <...>, true/false/null) are kept.
// Tokens must start at a word boundary (so "task-123", "skeleton", "risk-free" stay).
// In metadata every string is redacted (nested objects and arrays); a string whose key is a
// secret name is replaced whole. Configured extra patterns (ECMAScript regexes) are replaced by
// "[REDACTED:custom]".
//
// Thread-safety: a Redactor is immutable after Create; use it from any thread.
#pragma once

#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "vibekit/status.h"

namespace vibekit::internal {

// The version of what the built-in detectors find. Bump it whenever a change makes them find
// something they did not (a new token format, a wider rule): events stored under the older rules
// then no longer count as scanned (Privacy::fingerprint), and exports scan them again.
inline constexpr int kBuiltinRulesVersion = 1;

class Redactor {
 public:
  // `builtin` false: only the extra patterns. kInvalidArgument for a pattern that does not
  // compile (naming it).
  static Result<std::shared_ptr<const Redactor>> Create(bool builtin,
                                                        const std::vector<std::string>& patterns);

  bool enabled() const noexcept { return builtin_ || !patterns_.empty(); }
  // Replaces every secret in `text`; returns how many were replaced.
  int Redact(std::string& text) const;
  // True when Redact would replace something in `text` (a read-only check, no copy).
  bool Finds(std::string_view text) const;
  // Every string value inside the JSON text `json_text` (any nesting); the text is rewritten
  // only when something was replaced. Returns the count; text that is not JSON is
  // redacted as plain text.
  int RedactJson(std::string& json_text) const;
  // False only when RedactJson would leave `json_text` as it is (a read-only check that may
  // answer true for text RedactJson then leaves unchanged: escaped strings, extra patterns).
  bool MayChangeJson(std::string_view json_text) const;

  // True when NAME (a variable, header or JSON key) names a secret; `min_value` is then the
  // shortest value treated as one.
  static bool IsSecretName(std::string_view name, std::size_t* min_value) noexcept;

 private:
  Redactor() = default;
  bool builtin_ = true;
  std::vector<std::regex> patterns_;
};

// The first position >= `from` in `t` where a built-in detector can start (or t.size()):
// the scanner's fast skip over plain text, 16 bytes per step with SSE2. Exposed for tests.
std::size_t NextScanCandidate(std::string_view t, std::size_t from) noexcept;

// HMAC-SHA-256 (RFC 2104) of `message` under `key`, 64 lower-case hex digits.
std::string HmacSha256Hex(std::string_view key, std::string_view message);

}  // namespace vibekit::internal
