// Backend-independent rules for how events change their session row and the statistics rollup.
// Every Store implementation applies these, so SQLite and PostgreSQL agree to the counter.
//
// Status transitions (documented in docs/ARCHITECTURE.md):
//   new session                  -> active
//   start / stream on "timeout"  -> active   (it was not dead after all)
//   error                        -> failed
//   end                          -> completed, or failed when metadata.status says so
//   silence > session_timeout    -> timeout  (MarkTimedOut)
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "vibekit/event.h"

namespace vibekit::store {

// Key of one telemetry_stats row: ("global","all"), ("agent",<agent>), ("mode",<mode or "">).
using RollupKey = std::pair<std::string, std::string>;

// Signed changes to rollup rows, accumulated over a batch and written once per row.
class RollupDelta {
 public:
  void AddEvent(const Event& event);
  // Subtracts `events` events of `type` (retention).
  void RemoveEvents(const std::string& agent, const std::string& mode, EventType type,
                    std::int64_t count);
  // Adds (sign=+1) or removes (sign=-1) a session's contribution to the session-level counters.
  void AddSession(const Session& session, int sign);
  // old -> new replacement of a session's contribution.
  void ReplaceSession(const std::optional<Session>& old_row, const Session& new_row);

  const std::map<RollupKey, RollupCounts>& rows() const { return rows_; }
  bool empty() const { return rows_.empty(); }

 private:
  std::map<RollupKey, RollupCounts> rows_;
};

// True when an end event's metadata marks the session as failed.
bool EndMetadataMeansFailure(const std::optional<std::string>& metadata);

// Applies `events` (all of one session, in order) to `existing` and returns the new row.
Session MergeSessionEvents(const std::optional<Session>& existing,
                           std::span<const Event* const> events, std::int64_t now_ms);

// The row after a timeout: status "timeout", duration up to the last event.
Session TimedOut(const Session& session, std::int64_t now_ms);

}  // namespace vibekit::store
