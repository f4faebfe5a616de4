#include "ingest/event_body.h"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cstddef>
#include <utility>

#include "common/event_json.h"
#include "common/json_parse.h"
#include "ingest/validation.h"

namespace vibekit::ingest {

namespace json = boost::json;

namespace {

// The arena's first block is sized from the body (documents take about twice their text), up to
// this; a larger body's documents get further blocks.
constexpr std::size_t kMaxArenaBlock = std::size_t{16} << 20;

std::string_view TrimLine(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
    line.remove_suffix(1);
  }
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  return line;
}

}  // namespace

Result<ParsedEventBody> ParseEventBody(std::string_view body, bool ndjson_type,
                                       const LocalStoreConfig& config, std::int64_t now_ms,
                                       const EventCheck& extra) {
  const std::size_t first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return Status::InvalidArgument("empty body: send a JSON array of events or NDJSON");
  }
  ParsedEventBody out;
  // The documents live only while their events are read out of them: one arena for the whole
  // body (freed at once on return) instead of a heap allocation and free per string and object.
  json::monotonic_resource arena(std::min<std::size_t>(body.size() * 2 + 1024, kMaxArenaBlock));
  auto take = [&](std::int64_t index, Result<Event> parsed) {
    if (!parsed.ok()) {
      out.rejected.push_back({index, std::string(parsed.status().message())});
      return;
    }
    Status s = ValidateEvent(*parsed, config, now_ms);
    if (s.ok() && extra) s = extra(*parsed);
    if (!s.ok()) {
      out.rejected.push_back({index, std::string(s.message())});
      return;
    }
    out.valid.push_back(std::move(*parsed));
  };
  if (body[first] == '[' && !ndjson_type) {
    boost::system::error_code ec;
    json::value doc = vibekit::internal::ParseJson(body, ec, &arena);
    if (ec || !doc.is_array()) {
      return Status::InvalidArgument("the body is not a valid JSON array: " +
                                     (ec ? ec.message() : std::string("not an array")));
    }
    const json::array& items = doc.get_array();
    out.valid.reserve(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
      take(static_cast<std::int64_t>(i), internal::EventFromJsonValue(items[i]));
    }
    return out;
  }
  std::int64_t line_no = 0;
  std::int64_t json_lines = 0;
  std::size_t pos = 0;
  while (pos <= body.size()) {
    std::size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    const std::string_view line = TrimLine(body.substr(pos, end - pos));
    const std::int64_t index = line_no++;
    pos = end + 1;
    if (line.empty()) continue;
    boost::system::error_code ec;
    json::value doc = vibekit::internal::ParseJson(line, ec, &arena);
    if (ec) {
      out.rejected.push_back({index, "not valid JSON: " + ec.message()});
      continue;
    }
    ++json_lines;
    take(index, internal::EventFromJsonValue(doc));
  }
  if (json_lines == 0) {
    return Status::InvalidArgument("the body is neither a JSON array of events nor NDJSON");
  }
  return out;
}

}  // namespace vibekit::ingest
