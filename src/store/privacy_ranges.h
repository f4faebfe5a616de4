// telemetry_privacy_ranges (schema 1.8.0, both backends): the one range of event ids known to be
// stored through ApplyIncoming under privacy settings of one fingerprint (Privacy::fingerprint,
// Store::SetIncomingPrivacy). The statements are the same SQL on SQLite and PostgreSQL.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vibekit::store {

// Migration 1.8.0, the same on both backends (`id INTEGER PRIMARY KEY` is the rowid in SQLite,
// so the table has no index to maintain; BIGINT is INTEGER affinity there). One row:
// each committed batch extends it when written under the same fingerprint with no other event
// in between, and restarts it otherwise; a restore deletes it. An export under the same
// settings skips the secret scan of those events. Dropping it loses nothing but that shortcut.
inline constexpr std::string_view kPrivacyRangesDescription =
    "Privacy ranges: the events stored through given privacy settings (exports skip their "
    "secret scan)";
inline constexpr std::string_view kPrivacyRangesSchema = R"sql(
CREATE TABLE telemetry_privacy_ranges (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  fingerprint TEXT NOT NULL,
  first_event_id BIGINT NOT NULL,
  last_event_id BIGINT NOT NULL
);
)sql";
inline constexpr std::string_view kPrivacyRangesRollback = R"sql(
DROP TABLE IF EXISTS telemetry_privacy_ranges;
)sql";

// After a batch of ids [$2, $3] written under fingerprint $1, in the batch's transaction: the
// range is extended when it has the same fingerprint and no event lies between its end and the
// batch (so nothing written otherwise is inside it), and restarted at the batch otherwise.
inline constexpr std::string_view kRecordPrivacyRangeSql =
    "INSERT INTO telemetry_privacy_ranges (id, fingerprint, first_event_id, last_event_id) "
    "VALUES (1, $1, $2, $3) ON CONFLICT (id) DO UPDATE SET "
    "first_event_id = CASE WHEN telemetry_privacy_ranges.fingerprint = excluded.fingerprint "
    "AND telemetry_privacy_ranges.last_event_id < excluded.first_event_id "
    "AND NOT EXISTS (SELECT 1 FROM telemetry_events e "
    "WHERE e.id > telemetry_privacy_ranges.last_event_id AND e.id < excluded.first_event_id) "
    "THEN telemetry_privacy_ranges.first_event_id ELSE excluded.first_event_id END, "
    "last_event_id = excluded.last_event_id, fingerprint = excluded.fingerprint";

// The range recorded for fingerprint $1 (no row: none).
inline constexpr std::string_view kReadPrivacyRangeSql =
    "SELECT first_event_id, last_event_id FROM telemetry_privacy_ranges "
    "WHERE id = 1 AND fingerprint = $1";

// Rows written otherwise than through a batch (a restore) may take any id: no range survives.
inline constexpr std::string_view kClearPrivacyRangeSql = "DELETE FROM telemetry_privacy_ranges";

// kRecordPrivacyRangeSql with its three values written in (for a PL/pgSQL block, which takes no
// parameters). "" when `fingerprint` is not lower-case hex (what Privacy::fingerprint gives):
// nothing but hex digits is ever put into the text.
inline std::string RecordPrivacyRangeSqlWithValues(std::string_view fingerprint, std::int64_t first,
                                                   std::int64_t last) {
  for (const char c : fingerprint) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return "";
  }
  std::string sql(kRecordPrivacyRangeSql);
  const auto put = [&sql](std::string_view name, const std::string& value) {
    sql.replace(sql.find(name), name.size(), value);
  };
  put("$1", "'" + std::string(fingerprint) + "'");
  put("$2", std::to_string(first));
  put("$3", std::to_string(last));
  return sql;
}

// Event ids [first, last] stored under the scan's fingerprint; empty when first > last.
struct PrivacyRange {
  std::int64_t first = 1;
  std::int64_t last = 0;
  bool Contains(std::int64_t id) const { return id >= first && id <= last; }
};

}  // namespace vibekit::store
