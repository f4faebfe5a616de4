#include "views/time_arg.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "vibekit/status.h"

namespace vibekit::views {
namespace {

constexpr std::int64_t kMsPerSecond = 1000;
constexpr std::int64_t kMsPerMinute = 60 * kMsPerSecond;
constexpr std::int64_t kMsPerHour = 60 * kMsPerMinute;
constexpr std::int64_t kMsPerDay = 24 * kMsPerHour;
constexpr std::int64_t kMsPerWeek = 7 * kMsPerDay;

// Every error names all accepted forms, so a user who typed "yesterday" learns what works
// without reading the docs.
constexpr std::string_view kExpected =
    "expected a duration back from now (90s, 30m, 24h, 7d, 2w), an ISO 8601 time "
    "(2026-11-25, 2026-11-25T10:00:00Z, 2026-11-25T10:00:00.250+01:00, 2026-11-25 10:00:00) "
    "or epoch milliseconds (1767225600000)";

Status Invalid(std::string_view text, std::string_view reason) {
  std::string msg = "invalid time \"";
  msg.append(text);
  msg.append("\": ");
  msg.append(reason);
  msg.append("; ");
  msg.append(kExpected);
  return Status::InvalidArgument(std::move(msg));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

// Decimal digits to int64; nullopt on overflow (callers check the characters are digits).
std::optional<std::int64_t> ParseDigits(std::string_view s) {
  std::int64_t value = 0;
  for (char c : s) {
    if (__builtin_mul_overflow(value, 10, &value)) return std::nullopt;
    if (__builtin_add_overflow(value, c - '0', &value)) return std::nullopt;
  }
  return value;
}

// Two or four fixed digits at `pos`; -1 when any is not a digit.
int FixedDigits(std::string_view s, std::size_t pos, std::size_t count) {
  if (pos + count > s.size()) return -1;
  int value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (!IsDigit(s[i])) return -1;
    value = value * 10 + (s[i] - '0');
  }
  return value;
}

// Howard Hinnant's days_from_civil: exact proleptic Gregorian arithmetic with no dependence on
// the C library's time zone state (timegm is neither standard nor guaranteed thread-safe).
std::int64_t DaysFromCivil(std::int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct Civil {
  std::int64_t year;
  int month;
  int day;
};

Civil CivilFromDays(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

// "<digits><unit>": how far back from `now_ms`.
Result<std::int64_t> ParseDuration(std::string_view original, std::string_view text,
                                   std::int64_t now_ms) {
  const char unit = text.back();
  std::int64_t unit_ms = 0;
  switch (unit) {
    case 's':
      unit_ms = kMsPerSecond;
      break;
    case 'm':
      unit_ms = kMsPerMinute;
      break;
    case 'h':
      unit_ms = kMsPerHour;
      break;
    case 'd':
      unit_ms = kMsPerDay;
      break;
    case 'w':
      unit_ms = kMsPerWeek;
      break;
    default: {
      std::string reason = "unknown unit '";
      reason.push_back(unit);
      reason.append("' (use s, m, h, d or w)");
      return Invalid(original, reason);
    }
  }
  const std::optional<std::int64_t> count = ParseDigits(text.substr(0, text.size() - 1));
  std::int64_t back_ms = 0;
  std::int64_t result = 0;
  if (!count || __builtin_mul_overflow(*count, unit_ms, &back_ms) ||
      __builtin_sub_overflow(now_ms, back_ms, &result)) {
    return Invalid(original, "duration is too large");
  }
  if (result < 0) return Invalid(original, "duration reaches before 1970-01-01T00:00:00Z");
  return result;
}

// "YYYY-MM-DD" [("T" | "t" | " ") "hh:mm" [":ss" ["." fraction]] ["Z" | "z" | ±hh[:]mm | ±hh]].
Result<std::int64_t> ParseIso(std::string_view original, std::string_view s) {
  const int year = FixedDigits(s, 0, 4);
  const int month = FixedDigits(s, 5, 2);
  const int day = FixedDigits(s, 8, 2);
  if (year < 0 || month < 0 || day < 0 || s.size() < 10 || s[4] != '-' || s[7] != '-') {
    return Invalid(original, "the date must be written YYYY-MM-DD");
  }
  if (month < 1 || month > 12) return Invalid(original, "month is out of range (01-12)");
  if (day < 1 || day > DaysInMonth(year, month)) {
    return Invalid(original, "day is out of range for the month");
  }
  std::int64_t ms = DaysFromCivil(year, month, day) * kMsPerDay;
  if (s.size() == 10) {
    if (ms < 0) return Invalid(original, "the time is before 1970-01-01T00:00:00Z");
    return ms;
  }

  std::size_t pos = 10;
  if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') {
    return Invalid(original, "the date must be followed by 'T' or a space and hh:mm:ss");
  }
  ++pos;
  const int hour = FixedDigits(s, pos, 2);
  const int minute = FixedDigits(s, pos + 3, 2);
  if (hour < 0 || minute < 0 || s[pos + 2] != ':') {
    return Invalid(original, "the time of day must be written hh:mm or hh:mm:ss");
  }
  pos += 5;
  int second = 0;
  std::int64_t fraction_ms = 0;
  if (pos < s.size() && s[pos] == ':') {
    second = FixedDigits(s, pos + 1, 2);
    if (second < 0) return Invalid(original, "the seconds must be two digits");
    pos += 3;
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      ++pos;
      const std::size_t start = pos;
      while (pos < s.size() && IsDigit(s[pos])) ++pos;
      const std::size_t digits = pos - start;
      if (digits == 0 || digits > 9) {
        return Invalid(original, "fractional seconds must have 1 to 9 digits");
      }
      // Milliseconds are the store's resolution: extra digits are truncated, missing ones are 0.
      for (std::size_t i = 0; i < 3; ++i) {
        fraction_ms = fraction_ms * 10 + (i < digits ? s[start + i] - '0' : 0);
      }
    }
  }
  if (hour > 23 || minute > 59 || second > 59) {
    return Invalid(original, "the time of day is out of range");
  }

  std::int64_t offset_ms = 0;
  if (pos < s.size()) {
    const char c = s[pos];
    if ((c == 'Z' || c == 'z') && pos + 1 == s.size()) {
      pos = s.size();
    } else if (c == '+' || c == '-') {
      const std::string_view zone = s.substr(pos + 1);
      int off_h = -1;
      int off_m = 0;
      if (zone.size() == 2) {
        off_h = FixedDigits(zone, 0, 2);
      } else if (zone.size() == 4) {
        off_h = FixedDigits(zone, 0, 2);
        off_m = FixedDigits(zone, 2, 2);
      } else if (zone.size() == 5 && zone[2] == ':') {
        off_h = FixedDigits(zone, 0, 2);
        off_m = FixedDigits(zone, 3, 2);
      }
      if (off_h < 0 || off_m < 0 || off_h > 23 || off_m > 59) {
        return Invalid(original, "the UTC offset must be written +hh:mm or -hh:mm");
      }
      offset_ms = (off_h * kMsPerHour + off_m * kMsPerMinute) * (c == '-' ? -1 : 1);
      pos = s.size();
    } else {
      return Invalid(original, "unexpected text after the time (use Z or an offset like +01:00)");
    }
  }
  ms += hour * kMsPerHour + minute * kMsPerMinute + second * kMsPerSecond + fraction_ms;
  // Local time = UTC + offset, so UTC = local - offset.
  ms -= offset_ms;
  if (ms < 0) return Invalid(original, "the time is before 1970-01-01T00:00:00Z");
  return ms;
}

}  // namespace

Result<std::int64_t> ParseTimeArg(std::string_view text, std::int64_t now_ms) {
  const std::string_view original = text;
  // Shell quoting often leaves stray spaces; they carry no meaning.
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (text.empty()) return Invalid(original, "the value is empty");
  if (text.front() == '-' || text.front() == '+') {
    return Invalid(original, "signed values are not accepted");
  }

  if (AllDigits(text)) {
    // Always milliseconds, even with 10 digits: guessing seconds would make "1767225600" mean
    // two different instants depending on its length.
    const std::optional<std::int64_t> ms = ParseDigits(text);
    if (!ms) return Invalid(original, "epoch milliseconds out of range");
    return *ms;
  }
  if (text.size() >= 5 && FixedDigits(text, 0, 4) >= 0 && text[4] == '-') {
    return ParseIso(original, text);
  }
  if (text.size() >= 2 && AllDigits(text.substr(0, text.size() - 1))) {
    return ParseDuration(original, text, now_ms);
  }
  return Invalid(original, "not a recognised time");
}

std::string FormatTimestamp(std::int64_t ms) {
  // Floor division so instants before the epoch still get a 0..999 millisecond part.
  std::int64_t days = ms / kMsPerDay;
  std::int64_t rem = ms % kMsPerDay;
  if (rem < 0) {
    rem += kMsPerDay;
    --days;
  }
  const Civil civil = CivilFromDays(days);
  const int hour = static_cast<int>(rem / kMsPerHour);
  const int minute = static_cast<int>(rem / kMsPerMinute % 60);
  const int second = static_cast<int>(rem / kMsPerSecond % 60);
  const int milli = static_cast<int>(rem % kMsPerSecond);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ",
                static_cast<long long>(civil.year), civil.month, civil.day, hour, minute, second,
                milli);
  return buf;
}

}  // namespace vibekit::views
