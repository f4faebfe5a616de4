#include "workload/workload.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "vibekit/event.h"

namespace vibekit::workload {
namespace {

constexpr std::int64_t kEvents = 50'000;

WorkloadOptions SmallOptions(std::uint64_t seed = 42, std::int64_t events = kEvents) {
  WorkloadOptions options;
  options.seed = seed;
  options.total_events = events;
  return options;
}

std::vector<Event> Generate(const WorkloadOptions& options) {
  std::vector<Event> events;
  events.reserve(static_cast<std::size_t>(std::max<std::int64_t>(options.total_events, 0)));
  Generator generator(options);
  Event event;
  while (generator.Next(&event)) {
    events.push_back(event);
  }
  return events;
}

// The default 50k-event workload, generated once for the read-only tests.
const std::vector<Event>& DefaultEvents() {
  static const auto* const events = new std::vector<Event>(Generate(SmallOptions()));
  return *events;
}

// RFC 3629 validation, independent of the generator's own helper.
bool IsValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) {
      return false;
    }
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (cc & 0x3F);
    }
    constexpr std::array<std::uint32_t, 5> kMinCodePoint = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinCodePoint[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

std::size_t CodePoints(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::optional<boost::json::object> ParseObject(std::string_view text) {
  boost::json::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) {
    return std::nullopt;
  }
  return std::move(v.as_object());
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

TEST(WorkloadTest, SameSeedGivesIdenticalSequence) {
  Generator a(SmallOptions(7));
  Generator b(SmallOptions(7));
  Event ea;
  Event eb;
  std::int64_t n = 0;
  while (a.Next(&ea)) {
    ASSERT_TRUE(b.Next(&eb));
    ASSERT_EQ(ToNdjsonLine(ea), ToNdjsonLine(eb)) << "event " << n;
    ASSERT_EQ(ea.error.has_value(), eb.error.has_value());
    ++n;
  }
  EXPECT_FALSE(b.Next(&eb));
  EXPECT_EQ(n, kEvents);
  EXPECT_EQ(a.stats().bytes_text, b.stats().bytes_text);
}

TEST(WorkloadTest, DifferentSeedGivesDifferentSequence) {
  Generator a(SmallOptions(1, 1'000));
  Generator b(SmallOptions(2, 1'000));
  Event ea;
  Event eb;
  int differing = 0;
  while (a.Next(&ea) && b.Next(&eb)) {
    differing += ToNdjsonLine(ea) != ToNdjsonLine(eb);
  }
  EXPECT_GT(differing, 990);
}

TEST(WorkloadTest, ProducesExactlyTotalEvents) {
  for (const std::int64_t total : {0, 1, 2, 47, 1'000, 12'345}) {
    Generator generator(SmallOptions(3, total));
    Event event;
    std::int64_t n = 0;
    while (generator.Next(&event)) {
      ++n;
    }
    EXPECT_EQ(n, total);
    EXPECT_FALSE(generator.Next(&event)) << "stays exhausted";
    const WorkloadStats& st = generator.stats();
    EXPECT_EQ(st.events, total);
    EXPECT_EQ(st.start_events + st.stream_events + st.end_events + st.error_events, total);
    EXPECT_EQ(st.sessions, st.start_events);
  }
  // The first event of all is a session start.
  Generator generator(SmallOptions(3, 1));
  Event event;
  ASSERT_TRUE(generator.Next(&event));
  EXPECT_EQ(event.event_type, EventType::kStart);
}

TEST(WorkloadTest, NegativeTotalProducesNothing) {
  Generator generator(SmallOptions(3, -5));
  Event event;
  EXPECT_FALSE(generator.Next(&event));
}

TEST(WorkloadTest, SessionsAreWellFormed) {
  struct Seen {
    bool ended = false;
    int errors = 0;
    EventType last = EventType::kStart;
    std::int64_t last_ts = 0;
    std::int64_t chunk = 0;
  };
  std::map<std::string, Seen> sessions;
  std::int64_t previous_ts = 0;
  const WorkloadOptions options = SmallOptions();
  for (const Event& e : DefaultEvents()) {
    // Globally ordered by time, and never before the simulated clock's start.
    ASSERT_GE(e.timestamp, previous_ts);
    ASSERT_GE(e.timestamp, options.start_time_ms);
    previous_ts = e.timestamp;
    auto it = sessions.find(e.session_id);
    if (e.event_type == EventType::kStart) {
      ASSERT_EQ(it, sessions.end()) << "second start for " << e.session_id;
      sessions[e.session_id] = {.last = EventType::kStart, .last_ts = e.timestamp};
      continue;
    }
    ASSERT_NE(it, sessions.end()) << "event before start for " << e.session_id;
    Seen& s = it->second;
    ASSERT_FALSE(s.ended) << "event after end for " << e.session_id;
    ASSERT_GE(e.timestamp, s.last_ts) << "time went backwards in " << e.session_id;
    if (s.last == EventType::kStart && e.event_type == EventType::kStream) {
      // Time to first token.
      EXPECT_GE(e.timestamp - s.last_ts, 300);
      EXPECT_LE(e.timestamp - s.last_ts, 5'000);
    }
    s.last_ts = e.timestamp;
    s.last = e.event_type;
    if (e.event_type == EventType::kStream) {
      ++s.chunk;
    }
    if (e.event_type == EventType::kError) {
      ++s.errors;
    }
    if (e.event_type == EventType::kEnd) {
      s.ended = true;
      const auto meta = ParseObject(*e.metadata);
      ASSERT_TRUE(meta.has_value());
      if (meta->at("status").as_string() == "failed") {
        EXPECT_GE(s.errors, 1) << "a failed session ends after an error";
      }
    }
  }
  // Sessions per event and their length look like the reference workload (~23k per 1M events).
  const double events_per_session =
      static_cast<double>(DefaultEvents().size()) / static_cast<double>(sessions.size());
  EXPECT_GT(events_per_session, 30.0);
  EXPECT_LT(events_per_session, 65.0);
  // Some sessions never end (beyond the ones cut off in flight at the end).
  const auto unended = std::count_if(sessions.begin(), sessions.end(),
                                     [](const auto& kv) { return !kv.second.ended; });
  EXPECT_GT(unended, options.concurrent_sessions);
  const auto with_errors = std::count_if(sessions.begin(), sessions.end(),
                                         [](const auto& kv) { return kv.second.errors > 0; });
  EXPECT_GT(with_errors, 0);
  EXPECT_LT(static_cast<double>(with_errors), 0.08 * static_cast<double>(sessions.size()));
}

TEST(WorkloadTest, SessionsInterleave) {
  // With many sessions in flight the stream switches sessions often; with one, never mid-session.
  int switches = 0;
  const auto& events = DefaultEvents();
  for (std::size_t i = 1; i < events.size(); ++i) {
    switches += events[i].session_id != events[i - 1].session_id;
  }
  EXPECT_GT(switches, static_cast<int>(events.size() / 4));

  WorkloadOptions options = SmallOptions(5, 5'000);
  options.concurrent_sessions = 1;
  std::set<std::string> finished;
  std::string current;
  for (const Event& e : Generate(options)) {
    if (e.session_id != current) {
      ASSERT_EQ(e.event_type, EventType::kStart);
      ASSERT_TRUE(finished.insert(current).second) << "session resumed after another one";
      current = e.session_id;
    }
  }
}

TEST(WorkloadTest, FieldsLookReal) {
  std::map<std::string, int> agents;
  std::map<std::string, int> modes;
  for (const Event& e : DefaultEvents()) {
    ASSERT_EQ(e.id, 0);
    ASSERT_EQ(e.created_at, 0);
    // UUID v4: 8-4-4-4-12 lower-case hex, version 4, variant 10xx.
    ASSERT_EQ(e.session_id.size(), 36u);
    for (std::size_t dash : {8u, 13u, 18u, 23u}) {
      ASSERT_EQ(e.session_id[dash], '-');
    }
    std::string hex = e.session_id;
    hex.erase(std::remove(hex.begin(), hex.end(), '-'), hex.end());
    ASSERT_TRUE(IsLowerHex(hex)) << e.session_id;
    ASSERT_EQ(e.session_id[14], '4');
    ASSERT_NE(std::string_view("89ab").find(e.session_id[19]), std::string_view::npos);

    ++agents[e.agent_type];
    if (e.mode) {
      ++modes[*e.mode];
    }
    if (e.event_type == EventType::kStart) {
      ASSERT_TRUE(e.prompt.has_value());
      ASSERT_TRUE(e.sandbox_id.has_value());
      ASSERT_EQ(e.sandbox_id->size(), 12u);
      ASSERT_EQ(e.sandbox_id->substr(0, 4), "sbx-");
      ASSERT_TRUE(IsLowerHex(e.sandbox_id->substr(4)));
      if (e.repo_url) {
        ASSERT_EQ(e.repo_url->rfind("https://github.com/", 0), 0u) << *e.repo_url;
      }
      ASSERT_FALSE(e.stream_data.has_value());
    } else {
      ASSERT_FALSE(e.prompt.has_value());
      ASSERT_FALSE(e.sandbox_id.has_value());
      ASSERT_FALSE(e.repo_url.has_value());
    }
    if (e.event_type == EventType::kError) {
      ASSERT_TRUE(e.error.has_value());
      ASSERT_FALSE(e.error->error_type.empty());
      ASSERT_FALSE(e.error->message.empty());
      ASSERT_EQ(e.stream_data, e.error->message);
    } else {
      ASSERT_FALSE(e.error.has_value());
    }
    if (e.event_type == EventType::kEnd) {
      ASSERT_FALSE(e.stream_data.has_value());
    }
  }
  const std::set<std::string> known_agents = {"claude", "codex", "gemini", "opencode", "cursor"};
  for (const auto& [agent, count] : agents) {
    EXPECT_TRUE(known_agents.count(agent)) << agent;
  }
  EXPECT_EQ(agents.size(), known_agents.size());
  for (const auto& [agent, count] : agents) {
    if (agent != "claude") {
      EXPECT_GT(agents["claude"], count) << "claude is the most common agent";
    }
  }
  const std::set<std::string> known_modes = {"code", "ask", "plan", "review"};
  for (const auto& [mode, count] : modes) {
    EXPECT_TRUE(known_modes.count(mode)) << mode;
  }
  EXPECT_EQ(modes.size(), known_modes.size());
}

TEST(WorkloadTest, StreamChunksAreWithinBounds) {
  std::vector<std::size_t> lengths;
  for (const Event& e : DefaultEvents()) {
    if (e.event_type != EventType::kStream) {
      continue;
    }
    ASSERT_TRUE(e.stream_data.has_value());
    const std::size_t chars = CodePoints(*e.stream_data);
    ASSERT_GE(chars, 20u) << *e.stream_data;
    ASSERT_LE(chars, 1500u);
    ASSERT_LE(e.stream_data->size(), 1500u) << "bytes, too";
    lengths.push_back(chars);
  }
  std::sort(lengths.begin(), lengths.end());
  const std::size_t median = lengths[lengths.size() / 2];
  EXPECT_GT(median, 150u);
  EXPECT_LT(median, 400u);
}

TEST(WorkloadTest, MetadataIsAJsonObject) {
  int ends = 0;
  for (const Event& e : DefaultEvents()) {
    ASSERT_TRUE(e.metadata.has_value());
    const auto meta = ParseObject(*e.metadata);
    ASSERT_TRUE(meta.has_value()) << *e.metadata;
    switch (e.event_type) {
      case EventType::kStart:
        ASSERT_TRUE(meta->at("gen_ai.request.model").is_string());
        ASSERT_TRUE(meta->at("userId").is_string());
        ASSERT_TRUE(meta->at("priority").is_string());
        break;
      case EventType::kStream:
        ASSERT_TRUE(meta->at("chunk").is_int64());
        break;
      case EventType::kError:
        ASSERT_TRUE(meta->at("retryable").is_bool());
        break;
      case EventType::kEnd: {
        ++ends;
        const std::string_view status = meta->at("status").as_string();
        ASSERT_TRUE(status == "success" || status == "failed") << status;
        ASSERT_GE(meta->at("duration").as_int64(), 0);
        ASSERT_GT(meta->at("gen_ai.usage.input_tokens").as_int64(), 0);
        ASSERT_GE(meta->at("gen_ai.usage.output_tokens").as_int64(), 0);
        ASSERT_GE(meta->at("linesGenerated").as_int64(), 0);
        break;
      }
    }
  }
  EXPECT_GT(ends, 0);
}

TEST(WorkloadTest, TextIsValidUtf8AndSometimesNonAscii) {
  int non_ascii = 0;
  const auto check = [&](const std::optional<std::string>& s) {
    if (!s) {
      return;
    }
    ASSERT_TRUE(IsValidUtf8(*s)) << *s;
    non_ascii += std::any_of(s->begin(), s->end(),
                             [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
  };
  for (const Event& e : DefaultEvents()) {
    ASSERT_TRUE(IsValidUtf8(e.session_id));
    ASSERT_TRUE(IsValidUtf8(e.agent_type));
    check(e.mode);
    check(e.prompt);
    check(e.stream_data);
    check(e.sandbox_id);
    check(e.repo_url);
    check(e.metadata);
    if (e.error) {
      ASSERT_TRUE(IsValidUtf8(e.error->message));
      check(e.error->stack);
    }
  }
  // "Occasionally": present, but in a minority of events.
  EXPECT_GT(non_ascii, static_cast<int>(kEvents / 100));
  EXPECT_LT(non_ascii, static_cast<int>(kEvents / 3));
}

TEST(WorkloadTest, NdjsonLinesParseWithTheImportShape) {
  for (const Event& e : DefaultEvents()) {
    const std::string line = ToNdjsonLine(e);
    ASSERT_EQ(line.find('\n'), std::string::npos);
    const auto obj = ParseObject(line);
    ASSERT_TRUE(obj.has_value()) << line;
    ASSERT_EQ(obj->at("sessionId").as_string(), e.session_id);
    const std::string_view type = obj->at("eventType").as_string();
    switch (e.event_type) {
      case EventType::kStart:
        ASSERT_EQ(type, "start");
        break;
      case EventType::kStream:
        ASSERT_EQ(type, "stream");
        break;
      case EventType::kEnd:
        ASSERT_EQ(type, "end");
        break;
      case EventType::kError:
        ASSERT_EQ(type, "error");
        break;
    }
    ASSERT_EQ(obj->at("agentType").as_string(), e.agent_type);
    ASSERT_TRUE(obj->at("timestamp").is_int64());
    ASSERT_EQ(obj->at("timestamp").as_int64(), e.timestamp);
    // Optional strings: present exactly when set, with the same value.
    const std::array<std::pair<const char*, const std::optional<std::string>*>, 5> fields = {{
        {"mode", &e.mode},
        {"prompt", &e.prompt},
        {"streamData", &e.stream_data},
        {"sandboxId", &e.sandbox_id},
        {"repoUrl", &e.repo_url},
    }};
    for (const auto& [key, value] : fields) {
      const boost::json::value* v = obj->if_contains(key);
      ASSERT_EQ(v != nullptr, value->has_value()) << key << " in " << line;
      if (v) {
        ASSERT_EQ(v->as_string(), **value) << key;
      }
    }
    // metadata is embedded as an object equal to the event's metadata.
    ASSERT_TRUE(obj->at("metadata").is_object());
    ASSERT_EQ(obj->at("metadata"), boost::json::parse(*e.metadata));
    const boost::json::value* error = obj->if_contains("error");
    ASSERT_EQ(error != nullptr, e.event_type == EventType::kError);
    if (error) {
      const boost::json::object& eo = error->as_object();
      ASSERT_EQ(eo.at("type").as_string(), e.error->error_type);
      ASSERT_EQ(eo.at("message").as_string(), e.error->message);
      const std::string_view severity = eo.at("severity").as_string();
      ASSERT_TRUE(severity == "low" || severity == "medium" || severity == "high" ||
                  severity == "critical")
          << severity;
      ASSERT_EQ(eo.contains("stack"), e.error->stack.has_value());
    }
  }
}

TEST(WorkloadTest, NdjsonEscapesAwkwardInput) {
  Event e;
  e.session_id = "s\"1\\";
  e.event_type = EventType::kError;
  e.agent_type = "claude";
  // Control characters (NUL included), valid multi-byte UTF-8 and one invalid byte.
  const std::string nul(1, '\0');
  e.stream_data = "tab\there\nnul" + nul + "\x01 bell\x07 caf\xC3\xA9 \xF0\x9F\x9A\x80 bad\xFF end";
  e.metadata = "not json";
  e.timestamp = -1;
  e.error = ErrorDetails{.error_type = "",
                         .message = "m",
                         .stack = "at x\n  at y",
                         .severity = ErrorSeverity::kCritical};
  const std::string line = ToNdjsonLine(e);
  ASSERT_TRUE(IsValidUtf8(line));
  const auto obj = ParseObject(line);
  ASSERT_TRUE(obj.has_value()) << line;
  EXPECT_EQ(obj->at("sessionId").as_string(), "s\"1\\");
  EXPECT_EQ(
      obj->at("streamData").as_string(),
      "tab\there\nnul" + nul + "\x01 bell\x07 caf\xC3\xA9 \xF0\x9F\x9A\x80 bad\xEF\xBF\xBD end");
  EXPECT_NE(line.find("\\u0000\\u0001"), std::string::npos) << "control characters as \\u00XX";
  // Metadata that is not an object is kept as a string rather than breaking the line.
  EXPECT_EQ(obj->at("metadata").as_string(), "not json");
  EXPECT_EQ(obj->at("timestamp").as_int64(), -1);
  EXPECT_EQ(obj->at("error").at("type").as_string(), "error");
  EXPECT_EQ(obj->at("error").at("severity").as_string(), "critical");
  EXPECT_EQ(obj->at("error").at("stack").as_string(), "at x\n  at y");
  EXPECT_FALSE(obj->contains("mode"));
  e.mode = "";  // empty but present: kept
  EXPECT_EQ(ParseObject(ToNdjsonLine(e))->at("mode").as_string(), "");
  e.mode.reset();

  // Object metadata is embedded verbatim only when it really is one JSON object.
  for (const char* bad : {"{", R"({"a":1}x)", "[1]", R"({"a":01})", R"({"a":"\ud800"})",
                          R"({"a":tru})", "{'a':1}", R"({"a":1,})"}) {
    e.metadata = bad;
    const auto o = ParseObject(ToNdjsonLine(e));
    ASSERT_TRUE(o.has_value()) << bad;
    EXPECT_TRUE(o->at("metadata").is_string()) << bad;
  }
  for (const char* good : {"{}", R"( {"a":[1,2.5e3,{"b":null}],"c":"\u00e9\ud83d\ude80"} )",
                           R"({"x":-0.5,"y":true,"z":false})"}) {
    e.metadata = good;
    const auto o = ParseObject(ToNdjsonLine(e));
    ASSERT_TRUE(o.has_value()) << good;
    EXPECT_TRUE(o->at("metadata").is_object()) << good;
  }
}

TEST(WorkloadTest, SearchTermsOccurWithTheStatedFrequency) {
  const std::vector<std::string> terms = SearchTerms();
  const std::vector<SearchTermFrequency> freqs = SearchTermFrequencies();
  ASSERT_GE(terms.size(), 6u);
  ASSERT_EQ(terms.size(), freqs.size());
  for (std::size_t i = 0; i < terms.size(); ++i) {
    EXPECT_EQ(terms[i], freqs[i].term);
    if (i > 0) {
      EXPECT_GE(freqs[i].event_fraction, freqs[i - 1].event_fraction) << "rare first";
    }
  }
  EXPECT_LT(freqs.front().event_fraction, 0.001);
  EXPECT_GT(freqs.back().event_fraction, 0.01);

  // Enough events for the rarest term to show up about ten times.
  constexpr std::int64_t kSearchEvents = 150'000;
  Generator generator(SmallOptions(11, kSearchEvents));
  Event e;
  std::vector<std::int64_t> hits(terms.size());
  std::vector<std::string> lowered;
  std::vector<std::vector<std::size_t>> by_first(256);  // terms by their first character
  for (const std::string& t : terms) {
    by_first[static_cast<unsigned char>(Lower(t)[0])].push_back(lowered.size());
    lowered.push_back(Lower(t));
  }
  std::array<bool, 256> word_char{};  // ASCII letters and digits; a lookup keeps the scan fast
  std::array<char, 256> lower{};
  for (int c = 0; c < 256; ++c) {
    word_char[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    lower[c] = static_cast<char>((c >= 'A' && c <= 'Z') ? c + 32 : c);
  }
  while (generator.Next(&e)) {
    const std::optional<std::string>& source = e.prompt ? e.prompt : e.stream_data;
    if (!source) {
      continue;
    }
    const std::string_view text = *source;
    std::vector<char> hit(terms.size());
    // A case-insensitive word-prefix match, as the store's full-text search does it.
    bool in_word = false;
    for (std::size_t p = 0; p < text.size(); ++p) {
      const auto c = static_cast<unsigned char>(text[p]);
      const bool starts_word = word_char[c] && !in_word;
      in_word = word_char[c];
      if (!starts_word) {
        continue;
      }
      for (const std::size_t i : by_first[static_cast<unsigned char>(lower[c])]) {
        const std::string& term = lowered[i];
        if (hit[i] || p + term.size() > text.size()) {
          continue;
        }
        std::size_t k = 1;
        while (k < term.size() && lower[static_cast<unsigned char>(text[p + k])] == term[k]) {
          ++k;
        }
        if (k == term.size()) {
          hit[i] = 1;
        }
      }
    }
    for (std::size_t i = 0; i < hit.size(); ++i) {
      hits[i] += hit[i];
    }
  }
  for (std::size_t i = 0; i < terms.size(); ++i) {
    const double fraction = static_cast<double>(hits[i]) / static_cast<double>(kSearchEvents);
    EXPECT_GT(hits[i], 0) << terms[i];
    EXPECT_GT(fraction, freqs[i].event_fraction / 2.5) << terms[i];
    EXPECT_LT(fraction, freqs[i].event_fraction * 2.5) << terms[i];
  }
}

TEST(WorkloadTest, OptionsAreClampedAndHonoured) {
  WorkloadOptions options = SmallOptions(9, 3'000);
  options.concurrent_sessions = 0;  // clamped to 1
  options.error_session_fraction = -1;
  options.failed_fraction = 5;  // every session fails (after an error)
  options.never_end_fraction = 0.5;
  Generator generator(options);
  EXPECT_EQ(generator.options().concurrent_sessions, 1);
  EXPECT_EQ(generator.options().failed_fraction, 1.0);
  EXPECT_EQ(generator.options().never_end_fraction, 0.0);
  Event e;
  std::map<std::string, int> errors;
  int ends = 0;
  while (generator.Next(&e)) {
    if (e.event_type == EventType::kError) {
      ++errors[e.session_id];
    }
    if (e.event_type == EventType::kEnd) {
      ++ends;
      EXPECT_EQ(ParseObject(*e.metadata)->at("status").as_string(), "failed");
      EXPECT_GE(errors[e.session_id], 1);
    }
  }
  EXPECT_GT(ends, 0);

  WorkloadOptions never = SmallOptions(9, 3'000);
  never.never_end_fraction = 1;
  never.failed_fraction = 0;
  Generator g2(never);
  while (g2.Next(&e)) {
    ASSERT_NE(e.event_type, EventType::kEnd);
  }
  EXPECT_GT(g2.stats().sessions, 0);
}

TEST(WorkloadTest, ReusedOrFreshEventGiveTheSameResult) {
  // Next() overwrites every field, so a reused Event carries nothing over.
  Generator a(SmallOptions(4, 3'000));
  Generator b(SmallOptions(4, 3'000));
  Event reused;
  while (a.Next(&reused)) {
    Event fresh;
    ASSERT_TRUE(b.Next(&fresh));
    ASSERT_EQ(ToNdjsonLine(reused), ToNdjsonLine(fresh));
    ASSERT_EQ(reused.error.has_value(), fresh.error.has_value());
  }
}

}  // namespace
}  // namespace vibekit::workload
