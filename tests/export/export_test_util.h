// Helpers of the export tests: a service filled with known events, file and process helpers,
// and a strict RFC 4180 parser (independent of the exporter's code).
#pragma once

#include <cstdint>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "vibekit/export.h"
#include "vibekit/telemetry_service.h"

#include "common/sha256.h"
#include "testing/test_util.h"

namespace vibekit::testing {

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::string Sha256HexOfString(const std::string& s) { return internal::Sha256::HexOf(s); }

inline bool Exists(const std::string& path) { return std::ifstream(path).good(); }

// Runs `cmd` with /bin/sh, returns {exit code, stdout}.
inline std::pair<int, std::string> Shell(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, out};
  char buf[65536];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

// Strict RFC 4180: every field either unquoted (no quote, delimiter, CR or LF inside) or quoted
// (quotes doubled, followed by a delimiter or CRLF); every record ends with CRLF; every record
// has as many fields as the header. Fails the test (and returns false) otherwise.
struct CsvCell {
  std::string value;
  bool quoted = false;
};
using CsvTable = std::vector<std::vector<CsvCell>>;

inline bool ParseStrictCsv(const std::string& text, char delim, CsvTable* out) {
  out->clear();
  std::size_t i = 0;
  std::vector<CsvCell> row;
  CsvCell cell;
  auto fail = [&](const std::string& why) {
    ADD_FAILURE() << "malformed CSV at byte " << i << " (record " << out->size() + 1
                  << "): " << why;
    return false;
  };
  while (i < text.size()) {
    if (text[i] == '"') {
      cell.quoted = true;
      ++i;
      while (true) {
        if (i >= text.size()) return fail("input ends inside quotes");
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            cell.value += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        cell.value += text[i++];
      }
      if (i < text.size() && text[i] != delim && text[i] != '\r') {
        return fail("text after closing quote");
      }
    } else {
      while (i < text.size() && text[i] != delim && text[i] != '\r') {
        if (text[i] == '"' || text[i] == '\n') return fail("quote or LF in unquoted field");
        cell.value += text[i++];
      }
    }
    if (i >= text.size()) return fail("record does not end with CRLF");
    if (text[i] == delim) {
      row.push_back(std::move(cell));
      cell = CsvCell{};
      ++i;
      continue;
    }
    if (i + 1 >= text.size() || text[i + 1] != '\n') return fail("CR without LF");
    i += 2;
    row.push_back(std::move(cell));
    cell = CsvCell{};
    if (!out->empty() && row.size() != out->front().size()) {
      return fail("record has " + std::to_string(row.size()) + " fields, header " +
                  std::to_string(out->front().size()));
    }
    out->push_back(std::move(row));
    row.clear();
  }
  return true;
}

// A service on `dir`/name.db with a known mix: 3 agents, sessions with start/stream/end and
// errors, texts with quotes, commas, semicolons, tabs, CR/LF, unicode, long (compressed) stream
// data. Times start at kT0 and step 1000 ms per event.
inline constexpr std::int64_t kT0 = 1767225600000;

inline std::unique_ptr<TelemetryService> OpenService(const std::string& db) {
  auto s = std::make_unique<TelemetryService>(TestConfig(db));
  EXPECT_OK(s->Initialize());
  return s;
}

inline void FillKnownData(TelemetryService& s, int sessions = 12) {
  const char* agents[] = {"claude", "codex", "gemini"};
  std::int64_t t = kT0;
  for (int i = 0; i < sessions; ++i) {
    const std::string id = "sess-" + std::to_string(i);
    const std::string agent = agents[i % 3];
    TrackStartParams st;
    st.session_id = id;
    st.agent_type = agent;
    st.mode = i % 2 == 0 ? std::optional<std::string>("code") : std::nullopt;
    st.prompt = "fix \"the\" bug, then; run\ttests\r\nplease é ✓ #" + std::to_string(i);
    st.repo_url = "https://example.com/r" + std::to_string(i);
    st.metadata = R"({"n": )" + std::to_string(i) + R"(, "nested": {"a": [1, 2.5, "x"]}})";
    st.timestamp = t += 1000;
    EXPECT_OK(s.TrackStart(st));
    for (int k = 0; k < 4; ++k) {
      TrackStreamParams sp;
      sp.session_id = id;
      sp.agent_type = agent;
      sp.stream_data = k == 3 ? std::string(2000, 'a' + static_cast<char>(i % 26)) + "\n\"end\""
                              : "chunk " + std::to_string(k) + ", \"q\"\n";
      sp.timestamp = t += 1000;
      EXPECT_OK(s.TrackStream(sp));
    }
    if (i % 4 == 1) {
      TrackErrorParams ep;
      ep.session_id = id;
      ep.agent_type = agent;
      ep.error = "rate limited, \"429\"";
      ep.error_type = "RateLimitError";
      ep.stack = "at line 1\nat line 2";
      ep.severity = ErrorSeverity::kHigh;
      ep.timestamp = t += 1000;
      EXPECT_OK(s.TrackError(ep));
    }
    if (i % 5 != 4) {
      TrackEndParams en;
      en.session_id = id;
      en.agent_type = agent;
      en.metadata = R"({"status":"success","tokens":)" + std::to_string(100 * i) + "}";
      en.timestamp = t += 1000;
      EXPECT_OK(s.TrackEnd(en));
    }
  }
}

}  // namespace vibekit::testing
