// Range statistics (GetAggregateStatsBetween), exact session percentiles (GetSessionPercentiles)
// and EventQueryFilter::after_id, each checked against an independent computation in C++ over
// the events the test inserted.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "testing/test_util.h"
#include "vibekit/telemetry_service.h"

namespace vibekit {
namespace {

using testing::FakeClock;
using testing::TempDir;
using testing::TestConfig;

constexpr std::int64_t kBase = 1'700'000'000'000;
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

// What the test knows about a session it wrote, without asking the store.
struct Known {
  std::string id;
  std::string agent;
  std::string mode;  // "" when none
  SessionStatus status = SessionStatus::kActive;
  std::int64_t start = 0;
  std::optional<std::int64_t> duration;
  std::int64_t events = 0;
  bool has_error = false;
};

class StatsRangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_ = std::make_unique<FakeClock>(kBase + 10'000'000);
    service_ = std::make_unique<TelemetryService>(TestConfig(dir_.File("s.db")), clock_.get());
    ASSERT_OK(service_->Initialize());
    std::mt19937 rng(20240611);
    auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    const char* agents[] = {"claude", "codex", "gemini"};
    const std::optional<std::string> modes[] = {"plan", "build", std::nullopt};
    const char* words[] = {"alpha", "beta", "gamma"};
    for (int i = 0; i < 90; ++i) {
      Known k;
      k.id = "s" + std::to_string(i);
      k.agent = agents[pick(3)];
      const std::optional<std::string> mode = modes[pick(3)];
      k.mode = mode.value_or("");
      k.start = kBase + i * 10'000 + pick(3) * 1000;  // some sessions start at the same time
      const int kind = pick(5);
      const int streams = pick(8);
      const std::int64_t step = 1 + pick(2000);
      auto add = [&](EventType type, std::int64_t ts) -> Event& {
        Event e;
        e.session_id = k.id;
        e.agent_type = k.agent;
        e.mode = mode;
        e.event_type = type;
        e.timestamp = ts;
        events_.push_back(e);
        ++k.events;
        return events_.back();
      };
      add(EventType::kStart, k.start).prompt = "task " + std::to_string(i);
      std::int64_t t = k.start;
      for (int j = 0; j < streams; ++j) {
        t += step;
        add(EventType::kStream, t).stream_data =
            std::string("chunk ") + words[pick(3)] + " " + std::to_string(j);
      }
      t += step;
      switch (kind) {
        case 0:  // completed
          add(EventType::kEnd, t);
          k.status = SessionStatus::kCompleted;
          k.duration = t - k.start;
          break;
        case 1:  // failed by an error, never ended: no duration
          add(EventType::kError, t).stream_data = "boom alpha";
          k.status = SessionStatus::kFailed;
          k.has_error = true;
          break;
        case 2:  // ended as failed
          add(EventType::kEnd, t).metadata = R"({"status":"failed"})";
          k.status = SessionStatus::kFailed;
          k.duration = t - k.start;
          break;
        case 3:  // still active
          k.status = SessionStatus::kActive;
          break;
        default:  // an error, then an end saying so
          add(EventType::kError, t).stream_data = "boom beta";
          t += step;
          add(EventType::kEnd, t).metadata = R"({"status":"error"})";
          k.status = SessionStatus::kFailed;
          k.duration = t - k.start;
          k.has_error = true;
          break;
      }
      sessions_.push_back(k);
    }
    ASSERT_OK(service_->InsertEventBatch(events_));
    ASSERT_OK(service_->FlushBuffers());
  }

  // The expected figures for [from, to], computed from what was inserted.
  AggregateStats Expected(std::int64_t from, std::int64_t to) const {
    AggregateStats out;
    for (const Event& e : events_) {
      if (e.timestamp < from || e.timestamp > to) continue;
      for (RollupCounts* c :
           {&out.total, &out.by_agent[e.agent_type], &out.by_mode[e.mode.value_or("")]}) {
        ++c->total_events;
        if (e.event_type == EventType::kStart) ++c->start_events;
        if (e.event_type == EventType::kStream) ++c->stream_events;
        if (e.event_type == EventType::kEnd) ++c->end_events;
        if (e.event_type == EventType::kError) ++c->error_events;
        c->min_timestamp = std::min(c->min_timestamp.value_or(kMax), e.timestamp);
        c->max_timestamp = std::max(c->max_timestamp.value_or(kMin), e.timestamp);
      }
    }
    for (const Known& k : sessions_) {
      if (k.start < from || k.start > to) continue;
      for (RollupCounts* c : {&out.total, &out.by_agent[k.agent], &out.by_mode[k.mode]}) {
        ++c->sessions;
        if (k.status == SessionStatus::kActive) ++c->active_sessions;
        if (k.status == SessionStatus::kCompleted) ++c->completed_sessions;
        if (k.status == SessionStatus::kFailed) ++c->failed_sessions;
        if (k.status == SessionStatus::kTimeout) ++c->timeout_sessions;
        if (k.has_error) ++c->sessions_with_errors;
        if (k.duration) {
          c->duration_sum_ms += *k.duration;
          ++c->duration_count;
        }
      }
    }
    return out;
  }

  static void ExpectCounts(const RollupCounts& want, const RollupCounts& got,
                           const std::string& where) {
    SCOPED_TRACE(where);
    EXPECT_EQ(got.total_events, want.total_events);
    EXPECT_EQ(got.start_events, want.start_events);
    EXPECT_EQ(got.stream_events, want.stream_events);
    EXPECT_EQ(got.end_events, want.end_events);
    EXPECT_EQ(got.error_events, want.error_events);
    EXPECT_EQ(got.sessions, want.sessions);
    EXPECT_EQ(got.active_sessions, want.active_sessions);
    EXPECT_EQ(got.completed_sessions, want.completed_sessions);
    EXPECT_EQ(got.failed_sessions, want.failed_sessions);
    EXPECT_EQ(got.timeout_sessions, want.timeout_sessions);
    EXPECT_EQ(got.sessions_with_errors, want.sessions_with_errors);
    EXPECT_EQ(got.duration_sum_ms, want.duration_sum_ms);
    EXPECT_EQ(got.duration_count, want.duration_count);
    if (want.duration_count > 0) {
      ASSERT_TRUE(got.avg_session_duration_ms.has_value());
      EXPECT_DOUBLE_EQ(*got.avg_session_duration_ms, static_cast<double>(want.duration_sum_ms) /
                                                         static_cast<double>(want.duration_count));
    } else {
      EXPECT_FALSE(got.avg_session_duration_ms.has_value());
    }
    EXPECT_EQ(got.min_timestamp, want.min_timestamp);
    EXPECT_EQ(got.max_timestamp, want.max_timestamp);
  }

  void CheckRange(std::int64_t from, std::int64_t to) {
    SCOPED_TRACE("range [" + std::to_string(from) + ", " + std::to_string(to) + "]");
    const AggregateStats want = Expected(from, to);
    auto got = service_->GetAggregateStatsBetween(from, to);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ExpectCounts(want.total, got->total, "total");
    ASSERT_EQ(got->by_agent.size(), want.by_agent.size());
    for (const auto& [agent, c] : want.by_agent) ExpectCounts(c, got->by_agent.at(agent), agent);
    ASSERT_EQ(got->by_mode.size(), want.by_mode.size());
    for (const auto& [mode, c] : want.by_mode) ExpectCounts(c, got->by_mode.at(mode), "mode " + mode);
    const double err_rate = want.total.total_events == 0 ? 0.0
        : 100.0 * static_cast<double>(want.total.error_events) /
              static_cast<double>(want.total.total_events);
    EXPECT_DOUBLE_EQ(got->error_event_rate_pct, err_rate);
    const double sess_rate = want.total.sessions == 0 ? 0.0
        : 100.0 * static_cast<double>(want.total.sessions_with_errors) /
              static_cast<double>(want.total.sessions);
    EXPECT_DOUBLE_EQ(got->session_error_rate_pct, sess_rate);
  }

  // Nearest rank, computed the textbook way: rank = ceil(P/100 * n), 1-based.
  static PercentileSet Nearest(std::vector<std::int64_t> v) {
    PercentileSet p;
    p.count = static_cast<std::int64_t>(v.size());
    if (v.empty()) return p;
    std::sort(v.begin(), v.end());
    auto at = [&v](double pct) {
      const auto rank = static_cast<std::size_t>(std::ceil(pct / 100.0 * static_cast<double>(v.size())));
      return v[std::max<std::size_t>(rank, 1) - 1];
    };
    p.p50 = at(50);
    p.p90 = at(90);
    p.p95 = at(95);
    p.p99 = at(99);
    return p;
  }

  static void ExpectPercentiles(const PercentileSet& want, const PercentileSet& got,
                                const std::string& what) {
    SCOPED_TRACE(what);
    EXPECT_EQ(got.count, want.count);
    EXPECT_EQ(got.p50, want.p50);
    EXPECT_EQ(got.p90, want.p90);
    EXPECT_EQ(got.p95, want.p95);
    EXPECT_EQ(got.p99, want.p99);
  }

  void CheckPercentiles(std::optional<std::int64_t> from, std::optional<std::int64_t> to) {
    std::vector<std::int64_t> durations;
    std::vector<std::int64_t> counts;
    for (const Known& k : sessions_) {
      if (k.start < from.value_or(kMin) || k.start > to.value_or(kMax)) continue;
      counts.push_back(k.events);
      if ((k.status == SessionStatus::kCompleted || k.status == SessionStatus::kFailed) &&
          k.duration) {
        durations.push_back(*k.duration);
      }
    }
    auto got = service_->GetSessionPercentiles(from, to);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ExpectPercentiles(Nearest(durations), got->duration_ms, "duration");
    ExpectPercentiles(Nearest(counts), got->events_per_session, "events per session");
  }

  std::vector<Event> AllEvents() {
    EventQueryFilter f;
    f.limit = 100000;
    auto all = service_->QueryEvents(f);
    EXPECT_TRUE(all.ok());
    return all.ok() ? *all : std::vector<Event>();
  }

  TempDir dir_;
  std::unique_ptr<FakeClock> clock_;
  std::unique_ptr<TelemetryService> service_;
  std::vector<Event> events_;
  std::vector<Known> sessions_;
};

TEST_F(StatsRangeTest, EveryFigureMatchesAnIndependentCount) {
  // The model of session outcomes is right (otherwise the comparisons below prove nothing).
  for (const Known& k : sessions_) {
    auto s = service_->GetSession(k.id);
    ASSERT_TRUE(s.ok());
    ASSERT_EQ(s->status, k.status) << k.id;
    ASSERT_EQ(s->duration, k.duration) << k.id;
    ASSERT_EQ(s->event_count, k.events) << k.id;
  }
  CheckRange(kMin, kMax);
  // Boundaries that are exactly an event's timestamp and a session's start: both inclusive.
  const std::int64_t from = sessions_[20].start;
  const std::int64_t to = events_[events_.size() * 2 / 3].timestamp;
  CheckRange(from, to);
  const AggregateStats inner = Expected(from + 1, to - 1);
  const AggregateStats closed = Expected(from, to);
  ASSERT_LT(inner.total.total_events, closed.total.total_events) << "boundary events exist";
  CheckRange(from + 1, to - 1);
  CheckRange(kBase + 5 * 10'000 + 1500, kBase + 7 * 10'000);
  CheckRange(0, kBase - 1);  // nothing
  auto empty = service_->GetAggregateStatsBetween(0, kBase - 1);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->by_agent.empty());
  EXPECT_FALSE(empty->total.min_timestamp.has_value());
  EXPECT_EQ(service_->GetAggregateStatsBetween(10, 5).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(StatsRangeTest, WholeRangeAgreesWithTheRollup) {
  auto rollup = service_->GetAggregateStats();
  auto range = service_->GetAggregateStatsBetween(kMin, kMax);
  ASSERT_TRUE(rollup.ok());
  ASSERT_TRUE(range.ok());
  ExpectCounts(rollup->total, range->total, "total");
  for (const auto& [agent, c] : rollup->by_agent) ExpectCounts(c, range->by_agent.at(agent), agent);
  for (const auto& [mode, c] : rollup->by_mode) {
    RollupCounts r = range->by_mode.at(mode);
    r.min_timestamp = c.min_timestamp;  // the rollup keeps no bounds per mode
    r.max_timestamp = c.max_timestamp;
    ExpectCounts(c, r, "mode " + mode);
  }
}

TEST_F(StatsRangeTest, PercentilesAreExactNearestRank) {
  CheckPercentiles(std::nullopt, std::nullopt);
  CheckPercentiles(sessions_[10].start, sessions_[50].start);  // inclusive bounds
  CheckPercentiles(sessions_[10].start + 1, std::nullopt);
  CheckPercentiles(std::nullopt, sessions_[3].start);
  auto none = service_->GetSessionPercentiles(0, kBase - 1);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->duration_ms.count, 0);
  EXPECT_FALSE(none->duration_ms.p50.has_value());
  EXPECT_FALSE(none->events_per_session.p99.has_value());
  EXPECT_EQ(service_->GetSessionPercentiles(5, 1).status().code(), StatusCode::kInvalidArgument);
}

TEST(StatsPercentileTest, HandComputedNearestRanks) {
  TempDir dir;
  FakeClock clock(kBase + 10'000'000);
  TelemetryService s(TestConfig(dir.File("p.db")), &clock);
  ASSERT_OK(s.Initialize());
  // Durations 100, 200, ..., 1000 (ten completed sessions) and one active session.
  std::vector<Event> events;
  for (int i = 1; i <= 10; ++i) {
    Event st;
    st.session_id = "p" + std::to_string(i);
    st.agent_type = "claude";
    st.event_type = EventType::kStart;
    st.timestamp = kBase + i * 5000;
    Event end = st;
    end.event_type = EventType::kEnd;
    end.timestamp = st.timestamp + i * 100;
    events.push_back(st);
    events.push_back(end);
  }
  Event active;
  active.session_id = "open";
  active.agent_type = "codex";
  active.event_type = EventType::kStart;
  active.timestamp = kBase;
  events.push_back(active);
  ASSERT_OK(s.InsertEventBatch(events));
  ASSERT_OK(s.FlushBuffers());
  auto p = s.GetSessionPercentiles(std::nullopt, std::nullopt);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->duration_ms.count, 10);
  EXPECT_EQ(p->duration_ms.p50, 500);   // rank 5
  EXPECT_EQ(p->duration_ms.p90, 900);   // rank 9
  EXPECT_EQ(p->duration_ms.p95, 1000);  // rank ceil(9.5) = 10
  EXPECT_EQ(p->duration_ms.p99, 1000);
  EXPECT_EQ(p->events_per_session.count, 11);
  EXPECT_EQ(p->events_per_session.p50, 2);  // ten 2s and one 1: rank 6
  EXPECT_EQ(p->events_per_session.p90, 2);
}

TEST_F(StatsRangeTest, AfterIdInEveryQueryPlan) {
  const std::vector<Event> all = AllEvents();
  ASSERT_EQ(all.size(), events_.size());
  std::int64_t max_id = 0;
  for (const Event& e : all) max_id = std::max(max_id, e.id);
  const std::int64_t cut = all[all.size() / 2].id;
  auto check = [&](EventQueryFilter f, auto&& keep) {
    std::vector<std::int64_t> want;
    for (const Event& e : all) {  // `all` is in (timestamp, id) order
      if (e.id > cut && keep(e)) want.push_back(e.id);
    }
    if (f.order == SortOrder::kDesc) std::reverse(want.begin(), want.end());
    if (static_cast<std::int64_t>(want.size()) > f.limit) want.resize(static_cast<std::size_t>(f.limit));
    f.after_id = cut;
    auto got = service_->QueryEvents(f);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    std::vector<std::int64_t> ids;
    for (const Event& e : *got) ids.push_back(e.id);
    EXPECT_EQ(ids, want);
    EXPECT_FALSE(want.empty());
  };
  auto text = [](const Event& e, const std::string& w) {
    return (e.stream_data && e.stream_data->find(w) != std::string::npos) ||
           (e.prompt && e.prompt->find(w) != std::string::npos);
  };
  EventQueryFilter plain;
  plain.limit = 100000;
  check(plain, [](const Event&) { return true; });
  EventQueryFilter desc = plain;
  desc.order = SortOrder::kDesc;
  desc.limit = 7;
  check(desc, [](const Event&) { return true; });
  EventQueryFilter typed = plain;
  typed.event_type = EventType::kStream;
  typed.agent_type = "codex";
  check(typed, [](const Event& e) {
    return e.event_type == EventType::kStream && e.agent_type == "codex";
  });
  // contains, few candidates (fetch all and sort).
  EventQueryFilter few = plain;
  few.contains = "alpha";
  check(few, [&](const Event& e) { return text(e, "alpha"); });
  // contains within one session.
  const std::string sid = all.back().session_id;
  EventQueryFilter session = plain;
  session.contains = "chunk";
  session.session_id = sid;
  check(session, [&](const Event& e) { return e.session_id == sid && text(e, "chunk"); });
  EventQueryFilter none = plain;
  none.after_id = max_id;
  auto after_last = service_->QueryEvents(none);
  ASSERT_TRUE(after_last.ok());
  EXPECT_TRUE(after_last->empty());
}

TEST(StatsAfterIdTest, ManyTextCandidatesWindowedPlan) {
  // 1500 candidates (more than 1000): the windowed search plan must honour after_id too.
  TempDir dir;
  FakeClock clock(kBase + 10'000'000);
  TelemetryService s(TestConfig(dir.File("w.db")), &clock);
  ASSERT_OK(s.Initialize());
  std::vector<Event> events;
  for (int i = 0; i < 3000; ++i) {
    Event e;
    e.session_id = "w" + std::to_string(i % 30);
    e.agent_type = "claude";
    e.event_type = EventType::kStream;
    // Timestamps disagree with commit order on purpose.
    e.timestamp = kBase + ((i * 7919) % 3000) * 10;
    e.stream_data = i % 2 == 0 ? "needle found " + std::to_string(i) : "hay " + std::to_string(i);
    events.push_back(e);
  }
  ASSERT_OK(s.InsertEventBatch(events));
  ASSERT_OK(s.FlushBuffers());
  EventQueryFilter all_f;
  all_f.limit = 100000;
  auto all = s.QueryEvents(all_f);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3000u);
  std::int64_t min_id = all->front().id;
  for (const Event& e : *all) min_id = std::min(min_id, e.id);
  for (const std::int64_t cut : {min_id + 2500, min_id + 100}) {
    for (const SortOrder order : {SortOrder::kAsc, SortOrder::kDesc}) {
      std::vector<std::int64_t> want;
      for (const Event& e : *all) {
        if (e.id > cut && e.stream_data->find("needle") != std::string::npos) want.push_back(e.id);
      }
      if (order == SortOrder::kDesc) std::reverse(want.begin(), want.end());
      if (want.size() > 50) want.resize(50);
      EventQueryFilter f;
      f.contains = "needle";
      f.after_id = cut;
      f.order = order;
      f.limit = 50;
      auto got = s.QueryEvents(f);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      std::vector<std::int64_t> ids;
      for (const Event& e : *got) ids.push_back(e.id);
      EXPECT_EQ(ids, want) << "cut " << cut << (order == SortOrder::kAsc ? " asc" : " desc");
    }
  }
}

}  // namespace
}  // namespace vibekit
