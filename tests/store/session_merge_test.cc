#include "store/session_merge.h"

#include <gtest/gtest.h>

#include <vector>

namespace vibekit::store {
namespace {

Event Ev(EventType t, std::int64_t ts, std::optional<std::string> meta = std::nullopt) {
  Event e;
  e.session_id = "s";
  e.agent_type = "claude";
  e.mode = "code";
  e.event_type = t;
  e.timestamp = ts;
  e.metadata = std::move(meta);
  return e;
}

Session Merge(const std::optional<Session>& old, const std::vector<Event>& events) {
  std::vector<const Event*> ptrs;
  for (const auto& e : events) ptrs.push_back(&e);
  return MergeSessionEvents(old, ptrs, 999);
}

TEST(SessionMerge, StartStreamEndCompletesWithDurationAndCounters) {
  Session s = Merge(std::nullopt, {Ev(EventType::kStart, 100), Ev(EventType::kStream, 150),
                                   Ev(EventType::kStream, 170), Ev(EventType::kEnd, 400)});
  EXPECT_EQ(s.status, SessionStatus::kCompleted);
  EXPECT_EQ(s.event_count, 4);
  EXPECT_EQ(s.stream_event_count, 2);
  EXPECT_EQ(s.error_count, 0);
  EXPECT_EQ(s.start_time, 100);
  EXPECT_EQ(*s.end_time, 400);
  EXPECT_EQ(*s.duration, 300);
  EXPECT_EQ(s.last_event_time, 400);
}

TEST(SessionMerge, ErrorFailsAndEndStatusMetadataDecides) {
  Session s = Merge(std::nullopt, {Ev(EventType::kStart, 1), Ev(EventType::kError, 2)});
  EXPECT_EQ(s.status, SessionStatus::kFailed);
  EXPECT_EQ(s.error_count, 1);
  Session f = Merge(std::nullopt, {Ev(EventType::kStart, 1),
                                   Ev(EventType::kEnd, 5, R"({"status":"Failed"})")});
  EXPECT_EQ(f.status, SessionStatus::kFailed);
  Session ok = Merge(std::nullopt, {Ev(EventType::kStart, 1),
                                    Ev(EventType::kEnd, 5, R"({"status":"success"})")});
  EXPECT_EQ(ok.status, SessionStatus::kCompleted);
}

TEST(SessionMerge, TimeoutRevivesOnNewActivityAndKeepsCountersAcrossBatches) {
  Session s = Merge(std::nullopt, {Ev(EventType::kStart, 10), Ev(EventType::kStream, 20)});
  Session t = TimedOut(s, 5000);
  EXPECT_EQ(t.status, SessionStatus::kTimeout);
  EXPECT_EQ(*t.duration, 10);
  Session r = Merge(t, {Ev(EventType::kStream, 6000)});
  EXPECT_EQ(r.status, SessionStatus::kActive);
  EXPECT_EQ(r.event_count, 3);
  EXPECT_EQ(r.stream_event_count, 2);
  EXPECT_FALSE(r.duration.has_value());
}

TEST(SessionMerge, StreamBeforeStartCreatesSessionAndStartMovesStartTimeBack) {
  Session s = Merge(std::nullopt, {Ev(EventType::kStream, 50)});
  EXPECT_EQ(s.status, SessionStatus::kActive);
  EXPECT_EQ(s.start_time, 50);
  Session t = Merge(s, {Ev(EventType::kStart, 40, R"({"userId":"u"})")});
  EXPECT_EQ(t.start_time, 40);
  EXPECT_EQ(t.metadata, R"({"userId":"u"})");
}

TEST(RollupDelta, ReplacingASessionMovesItsStatusCount) {
  Session a = Merge(std::nullopt, {Ev(EventType::kStart, 1)});
  Session b = Merge(a, {Ev(EventType::kEnd, 11)});
  RollupDelta d;
  d.ReplaceSession(std::nullopt, a);
  d.ReplaceSession(a, b);
  const RollupCounts& g = d.rows().at({"global", "all"});
  EXPECT_EQ(g.sessions, 1);
  EXPECT_EQ(g.active_sessions, 0);
  EXPECT_EQ(g.completed_sessions, 1);
  EXPECT_EQ(g.duration_sum_ms, 10);
  EXPECT_EQ(g.duration_count, 1);
  EXPECT_EQ(d.rows().at({"agent", "claude"}).completed_sessions, 1);
  EXPECT_EQ(d.rows().at({"mode", "code"}).completed_sessions, 1);
}

}  // namespace
}  // namespace vibekit::store
