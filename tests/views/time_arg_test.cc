#include "views/time_arg.h"

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "vibekit/status.h"

namespace vibekit::views {
namespace {

constexpr std::int64_t kNow = 1'795'600'800'000;  // 2026-11-25T10:00:00Z
constexpr std::int64_t kNov25Ten = 1'795'600'800'000;
constexpr std::int64_t kHour = 3'600'000;
constexpr std::int64_t kMinute = 60'000;

std::int64_t Parse(const std::string& text) {
  Result<std::int64_t> r = ParseTimeArg(text, kNow);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : -1;
}

TEST(TimeArg, DurationsCountBackFromNow) {
  EXPECT_EQ(Parse("90s"), kNow - 90'000);
  EXPECT_EQ(Parse("30m"), kNow - 30 * kMinute);
  EXPECT_EQ(Parse("24h"), kNow - 24 * kHour);
  EXPECT_EQ(Parse("7d"), kNow - 7 * 24 * kHour);
  EXPECT_EQ(Parse("2w"), kNow - 14 * 24 * kHour);
  EXPECT_EQ(Parse("0m"), kNow);
  EXPECT_EQ(Parse(" 5m "), kNow - 5 * kMinute);
}

TEST(TimeArg, IsoUtcForms) {
  EXPECT_EQ(Parse("2026-11-25T10:00:00Z"), kNov25Ten);
  EXPECT_EQ(Parse("2026-11-25t10:00:00z"), kNov25Ten);
  EXPECT_EQ(Parse("2026-11-25 10:00:00"), kNov25Ten);
  EXPECT_EQ(Parse("2026-11-25T10:00:00"), kNov25Ten);
  EXPECT_EQ(Parse("2026-11-25T10:00Z"), kNov25Ten);
  EXPECT_EQ(Parse("2026-11-25"), kNov25Ten - 10 * kHour);
  EXPECT_EQ(Parse("2026-01-01"), 1'767'225'600'000);
  EXPECT_EQ(Parse("1970-01-01T00:00:00Z"), 0);
}

TEST(TimeArg, IsoOffsets) {
  EXPECT_EQ(Parse("2026-11-25T10:00:00+01:00"), kNov25Ten - kHour);
  EXPECT_EQ(Parse("2026-11-25T10:00:00-05:30"), kNov25Ten + 5 * kHour + 30 * kMinute);
  EXPECT_EQ(Parse("2026-11-25T10:00:00+0530"), kNov25Ten - 5 * kHour - 30 * kMinute);
  EXPECT_EQ(Parse("2026-11-25T10:00:00+02"), kNov25Ten - 2 * kHour);
  EXPECT_EQ(Parse("2026-11-25T10:00:00+00:00"), kNov25Ten);
}

TEST(TimeArg, FractionalSecondsBecomeMilliseconds) {
  EXPECT_EQ(Parse("2026-11-25T10:00:00.250+01:00"), kNov25Ten + 250 - kHour);
  EXPECT_EQ(Parse("2026-11-25T10:00:00.5Z"), kNov25Ten + 500);
  EXPECT_EQ(Parse("2026-11-25T10:00:00.25Z"), kNov25Ten + 250);
  EXPECT_EQ(Parse("2026-11-25T10:00:00.123456789Z"), kNov25Ten + 123);  // truncated
  EXPECT_EQ(Parse("2026-11-25T10:00:00,999Z"), kNov25Ten + 999);
}

TEST(TimeArg, LeapDaysAreValidatedExactly) {
  EXPECT_EQ(Parse("2024-02-29"), Parse("2024-02-28") + 24 * kHour);
  EXPECT_EQ(Parse("2000-02-29"), Parse("2000-03-01") - 24 * kHour);
  EXPECT_FALSE(ParseTimeArg("2023-02-29", kNow).ok());
  EXPECT_FALSE(ParseTimeArg("2100-02-29", kNow).ok());
}

TEST(TimeArg, EpochMillisecondsAreTakenAsIs) {
  EXPECT_EQ(Parse("0"), 0);
  EXPECT_EQ(Parse("1767225600000"), 1'767'225'600'000);
  // Ten digits look like seconds but are still milliseconds: one rule, no guessing.
  EXPECT_EQ(Parse("1767225600"), 1'767'225'600);
  EXPECT_EQ(Parse("9223372036854775807"), INT64_MAX);
}

TEST(TimeArg, InvalidFormsAreRejectedWithExamples) {
  const char* const kInvalid[] = {
      "",
      "   ",
      "yesterday",
      "30x",
      "30M",
      "1.5h",
      "m",
      "-5m",
      "+5m",
      "-1",
      "2026-13-01",
      "2026-00-10",
      "2026-02-30",
      "2026-11-31",
      "2026-1-01",
      "2026-11-25X",
      "2026-11-25T",
      "2026-11-25T25:00:00Z",
      "2026-11-25T10:60:00Z",
      "2026-11-25T10:00:60Z",
      "2026-11-25T10:00:00.Z",
      "2026-11-25T10:00:00.1234567890Z",
      "2026-11-25T10:00:00+1:00",
      "2026-11-25T10:00:00+24:00",
      "2026-11-25T10:00:00Zjunk",
      "2026-11-25T10:00:00 UTC",
      "1969-12-31T23:59:59Z",
      "99999999999999999999",  // int64 overflow
      "9999999999999999w",     // duration overflow
      "99999d",                // before the epoch
  };
  for (const char* text : kInvalid) {
    Result<std::int64_t> r = ParseTimeArg(text, kNow);
    ASSERT_FALSE(r.ok()) << "accepted \"" << text << "\" as " << *r;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << text;
    const std::string& msg = r.status().message();
    EXPECT_NE(msg.find('"' + std::string(text) + '"'), std::string::npos) << msg;
    EXPECT_NE(msg.find("90s"), std::string::npos) << msg;
    EXPECT_NE(msg.find("2026-11-25T10:00:00Z"), std::string::npos) << msg;
    EXPECT_NE(msg.find("1767225600000"), std::string::npos) << msg;
  }
}

TEST(TimeArg, InvalidMessagesNameTheProblem) {
  EXPECT_NE(ParseTimeArg("30x", kNow).status().message().find("unit 'x'"), std::string::npos);
  EXPECT_NE(ParseTimeArg("2026-13-01", kNow).status().message().find("month"), std::string::npos);
  EXPECT_NE(ParseTimeArg("", kNow).status().message().find("empty"), std::string::npos);
}

TEST(TimeArg, FormatTimestampIsUtcWithMilliseconds) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(kNov25Ten + 250), "2026-11-25T10:00:00.250Z");
  EXPECT_EQ(FormatTimestamp(1'767'225'600'000), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(951'782'400'000), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(253'402'300'799'999), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31T23:59:59.999Z");
}

TEST(TimeArg, CivilArithmeticMatchesTimegm) {
  // timegm is fine in a test; the parser avoids it for thread-safety and portability.
  for (int year = 1970; year <= 2200; year += 3) {
    for (int month = 1; month <= 12; ++month) {
      for (int day : {1, 15, 28}) {
        std::tm tm{};
        tm.tm_year = year - 1900;
        tm.tm_mon = month - 1;
        tm.tm_mday = day;
        tm.tm_hour = 13;
        tm.tm_min = 7;
        tm.tm_sec = 9;
        const std::int64_t expected = static_cast<std::int64_t>(timegm(&tm)) * 1000;
        char text[64];
        std::snprintf(text, sizeof(text), "%04d-%02d-%02dT13:07:09Z", year, month, day);
        ASSERT_EQ(Parse(text), expected) << text;
      }
    }
  }
}

TEST(TimeArg, FormatThenParseRoundTrips) {
  std::uint64_t state = 0x9E3779B97F4A7C15ULL;
  constexpr std::uint64_t kMax = 253'402'300'799'999ULL;  // 9999-12-31T23:59:59.999Z
  std::vector<std::int64_t> values = {0, 1, 999, 1000, 86'399'999, 86'400'000, 951'782'400'000};
  values.push_back(kNov25Ten);
  values.push_back(static_cast<std::int64_t>(kMax));
  for (int i = 0; i < 20000; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    values.push_back(static_cast<std::int64_t>((state >> 11) % (kMax + 1)));
  }
  for (std::int64_t ms : values) {
    const std::string text = FormatTimestamp(ms);
    Result<std::int64_t> back = ParseTimeArg(text, kNow);
    ASSERT_TRUE(back.ok()) << text << ": " << back.status().ToString();
    ASSERT_EQ(*back, ms) << text;
  }
}

}  // namespace
}  // namespace vibekit::views
