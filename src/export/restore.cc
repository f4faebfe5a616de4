#include "export/restore.h"

#include <charconv>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include <boost/json.hpp>
#include <sys/stat.h>

#include "common/json.h"
#include "common/json_parse.h"
#include "export/input.h"
#include "export/writers.h"

namespace vibekit::exporting {
namespace json = boost::json;
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool FileExists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// --- One record's fields, from a JSON object or a CSV row --------------------------------------

class Fields {
 public:
  Fields() = default;
  virtual ~Fields() = default;
  Fields(const Fields&) = delete;
  Fields& operator=(const Fields&) = delete;
  virtual Result<std::optional<std::string>> Str(std::string_view key) = 0;
  virtual Result<std::optional<std::int64_t>> Int(std::string_view key) = 0;
  virtual Result<std::optional<bool>> Bool(std::string_view key) = 0;
  // JSON object text (metadata), verbatim.
  virtual Result<std::optional<std::string>> Raw(std::string_view key) = 0;

  Result<std::string> ReqStr(std::string_view key) {
    VK_ASSIGN_OR_RETURN(auto v, Str(key));
    if (!v) return Status::InvalidArgument("\"" + std::string(key) + "\" is missing");
    return std::move(*v);
  }
  Result<std::int64_t> ReqInt(std::string_view key) {
    VK_ASSIGN_OR_RETURN(auto v, Int(key));
    if (!v) return Status::InvalidArgument("\"" + std::string(key) + "\" is missing");
    return *v;
  }
};

class JsonFields final : public Fields {
 public:
  // `text` must outlive this object (the record's raw text, for verbatim metadata).
  JsonFields(const json::object& obj, std::string_view text) : obj_(obj), text_(text) {}

  Result<std::optional<std::string>> Str(std::string_view key) override {
    const json::value* v = obj_.if_contains(key);
    if (v == nullptr || v->is_null()) return std::optional<std::string>();
    if (!v->is_string()) return Status::InvalidArgument(Bad(key, "a string"));
    return std::optional<std::string>(std::string(v->as_string()));
  }
  Result<std::optional<std::int64_t>> Int(std::string_view key) override {
    const json::value* v = obj_.if_contains(key);
    if (v == nullptr || v->is_null()) return std::optional<std::int64_t>();
    if (v->is_int64()) return std::optional<std::int64_t>(v->as_int64());
    return Status::InvalidArgument(Bad(key, "an integer"));
  }
  Result<std::optional<bool>> Bool(std::string_view key) override {
    const json::value* v = obj_.if_contains(key);
    if (v == nullptr || v->is_null()) return std::optional<bool>();
    if (v->is_bool()) return std::optional<bool>(v->as_bool());
    return Status::InvalidArgument(Bad(key, "true or false"));
  }
  Result<std::optional<std::string>> Raw(std::string_view key) override {
    const json::value* v = obj_.if_contains(key);
    if (v == nullptr || v->is_null()) return std::optional<std::string>();
    if (!v->is_object()) return Status::InvalidArgument(Bad(key, "an object"));
    auto raw = RawJsonMember(text_, key);
    if (!raw) return std::optional<std::string>(json::serialize(*v));
    return std::optional<std::string>(std::string(*raw));
  }

 private:
  static std::string Bad(std::string_view key, std::string_view what) {
    return "\"" + std::string(key) + "\" must be " + std::string(what);
  }
  const json::object& obj_;
  std::string_view text_;
};

struct CsvField {
  std::string value;
  bool quoted = false;
};

class CsvFields final : public Fields {
 public:
  CsvFields(const std::unordered_map<std::string, std::size_t>& index,
            const std::vector<CsvField>& row)
      : index_(index), row_(row) {}

  Result<std::optional<std::string>> Str(std::string_view key) override {
    const CsvField* f = Find(key);
    // An empty unquoted field is null; "" (quoted) is the empty string.
    if (f == nullptr || (f->value.empty() && !f->quoted)) return std::optional<std::string>();
    return std::optional<std::string>(f->value);
  }
  Result<std::optional<std::int64_t>> Int(std::string_view key) override {
    const CsvField* f = Find(key);
    if (f == nullptr || (f->value.empty() && !f->quoted)) return std::optional<std::int64_t>();
    std::int64_t v = 0;
    const char* end = f->value.data() + f->value.size();
    auto r = std::from_chars(f->value.data(), end, v);
    if (r.ec != std::errc() || r.ptr != end) {
      return Status::InvalidArgument("\"" + std::string(key) + "\" is not an integer: \"" +
                                     f->value + "\"");
    }
    return std::optional<std::int64_t>(v);
  }
  Result<std::optional<bool>> Bool(std::string_view key) override {
    const CsvField* f = Find(key);
    if (f == nullptr || (f->value.empty() && !f->quoted)) return std::optional<bool>();
    if (f->value == "true") return std::optional<bool>(true);
    if (f->value == "false") return std::optional<bool>(false);
    return Status::InvalidArgument("\"" + std::string(key) + "\" must be true or false");
  }
  Result<std::optional<std::string>> Raw(std::string_view key) override {
    VK_ASSIGN_OR_RETURN(auto v, Str(key));
    if (v) VK_RETURN_IF_ERROR(internal::ValidateJsonObject(*v, key));
    return v;
  }

 private:
  const CsvField* Find(std::string_view key) const {
    auto it = index_.find(std::string(key));
    return it == index_.end() ? nullptr : &row_[it->second];
  }
  const std::unordered_map<std::string, std::size_t>& index_;
  const std::vector<CsvField>& row_;
};

Result<Session> ReadSession(Fields& f) {
  Session s;
  VK_ASSIGN_OR_RETURN(s.id, f.ReqStr("id"));
  VK_ASSIGN_OR_RETURN(s.agent_type, f.ReqStr("agentType"));
  VK_ASSIGN_OR_RETURN(s.mode, f.Str("mode"));
  VK_ASSIGN_OR_RETURN(std::string status, f.ReqStr("status"));
  VK_ASSIGN_OR_RETURN(s.status, ParseSessionStatus(status));
  VK_ASSIGN_OR_RETURN(s.start_time, f.ReqInt("startTime"));
  VK_ASSIGN_OR_RETURN(s.end_time, f.Int("endTime"));
  VK_ASSIGN_OR_RETURN(s.duration, f.Int("duration"));
  VK_ASSIGN_OR_RETURN(s.event_count, f.ReqInt("eventCount"));
  VK_ASSIGN_OR_RETURN(s.stream_event_count, f.ReqInt("streamEventCount"));
  VK_ASSIGN_OR_RETURN(s.error_count, f.ReqInt("errorCount"));
  VK_ASSIGN_OR_RETURN(s.sandbox_id, f.Str("sandboxId"));
  VK_ASSIGN_OR_RETURN(s.repo_url, f.Str("repoUrl"));
  VK_ASSIGN_OR_RETURN(s.metadata, f.Raw("metadata"));
  VK_ASSIGN_OR_RETURN(s.last_event_time, f.ReqInt("lastEventTime"));
  VK_ASSIGN_OR_RETURN(s.created_at, f.ReqInt("createdAt"));
  VK_ASSIGN_OR_RETURN(s.updated_at, f.ReqInt("updatedAt"));
  return s;
}

Result<Event> ReadEvent(Fields& f) {
  Event e;
  VK_ASSIGN_OR_RETURN(e.id, f.ReqInt("id"));
  VK_ASSIGN_OR_RETURN(e.session_id, f.ReqStr("sessionId"));
  VK_ASSIGN_OR_RETURN(std::string type, f.ReqStr("eventType"));
  VK_ASSIGN_OR_RETURN(e.event_type, ParseEventType(type));
  VK_ASSIGN_OR_RETURN(e.agent_type, f.ReqStr("agentType"));
  VK_ASSIGN_OR_RETURN(e.mode, f.Str("mode"));
  VK_ASSIGN_OR_RETURN(e.prompt, f.Str("prompt"));
  VK_ASSIGN_OR_RETURN(e.stream_data, f.Str("streamData"));
  VK_ASSIGN_OR_RETURN(e.sandbox_id, f.Str("sandboxId"));
  VK_ASSIGN_OR_RETURN(e.repo_url, f.Str("repoUrl"));
  VK_ASSIGN_OR_RETURN(e.metadata, f.Raw("metadata"));
  VK_ASSIGN_OR_RETURN(e.timestamp, f.ReqInt("timestamp"));
  VK_ASSIGN_OR_RETURN(e.created_at, f.ReqInt("createdAt"));
  return e;
}

Result<ErrorRecord> ReadError(Fields& f) {
  ErrorRecord r;
  VK_ASSIGN_OR_RETURN(r.id, f.ReqInt("id"));
  VK_ASSIGN_OR_RETURN(r.session_id, f.ReqStr("sessionId"));
  VK_ASSIGN_OR_RETURN(r.event_id, f.Int("eventId"));
  VK_ASSIGN_OR_RETURN(r.error_type, f.ReqStr("errorType"));
  VK_ASSIGN_OR_RETURN(r.error_message, f.ReqStr("errorMessage"));
  VK_ASSIGN_OR_RETURN(r.error_stack, f.Str("errorStack"));
  VK_ASSIGN_OR_RETURN(r.context, f.Str("context"));
  VK_ASSIGN_OR_RETURN(std::string severity, f.ReqStr("severity"));
  VK_ASSIGN_OR_RETURN(r.severity, ParseErrorSeverity(severity));
  VK_ASSIGN_OR_RETURN(auto resolved, f.Bool("resolved"));
  r.resolved = resolved.value_or(false);
  VK_ASSIGN_OR_RETURN(r.metadata, f.Raw("metadata"));
  VK_ASSIGN_OR_RETURN(r.timestamp, f.ReqInt("timestamp"));
  VK_ASSIGN_OR_RETURN(r.created_at, f.ReqInt("createdAt"));
  return r;
}

Result<json::value> ParseJson(std::string_view text) {
  boost::system::error_code ec;
  json::value v = vibekit::internal::ParseJson(text, ec);
  if (ec) return Status::InvalidArgument("not valid JSON: " + ec.message());
  return v;
}

Status AddRecord(Table table, Fields& f, store::RestoreWriter& w, RestoreResult& result) {
  switch (table) {
    case Table::kSessions: {
      VK_ASSIGN_OR_RETURN(Session s, ReadSession(f));
      ++result.sessions;
      return w.AddSession(s);
    }
    case Table::kEvents: {
      VK_ASSIGN_OR_RETURN(Event e, ReadEvent(f));
      ++result.events;
      return w.AddEvent(e);
    }
    case Table::kErrors: {
      VK_ASSIGN_OR_RETURN(ErrorRecord r, ReadError(f));
      ++result.errors;
      return w.AddError(r);
    }
  }
  return Status::Internal("bad table");
}

// --- ndjson ------------------------------------------------------------------------------------

Status RestoreNdjson(const std::string& path, store::RestoreWriter& w, RestoreResult& result) {
  VK_ASSIGN_OR_RETURN(auto in, InputSource::Open(path));
  LineSource lines(*in);
  std::string line;
  bool header = false;
  while (true) {
    VK_ASSIGN_OR_RETURN(bool more, lines.Next(&line));
    if (!more) break;
    bool blank = true;
    for (char c : line) blank = blank && IsSpace(c);
    if (blank) continue;
    auto at = [&](const Status& st) {
      return Status(st.code(),
                    path + ":" + std::to_string(lines.line_number()) + ": " + st.message());
    };
    auto parsed = ParseJson(line);
    if (!parsed.ok()) return at(parsed.status());
    if (!parsed->is_object()) return at(Status::InvalidArgument("a record must be an object"));
    const json::object& obj = parsed->as_object();
    const json::value* kind = obj.if_contains("recordType");
    const std::string_view type =
        kind != nullptr && kind->is_string() ? std::string_view(kind->as_string()) : "event";
    if (!header) {
      if (type != "export") return at(Status::InvalidArgument("missing the export header line"));
      header = true;
      continue;
    }
    JsonFields fields(obj, line);
    Status st;
    if (type == "session") {
      st = AddRecord(Table::kSessions, fields, w, result);
    } else if (type == "event") {
      st = AddRecord(Table::kEvents, fields, w, result);
    } else if (type == "error") {
      st = AddRecord(Table::kErrors, fields, w, result);
    } else {
      st = Status::InvalidArgument("unknown recordType \"" + std::string(type) + "\"");
    }
    if (!st.ok()) return at(st);
  }
  if (!header) return Status::InvalidArgument(path + ": empty input");
  return Status::Ok();
}

// --- json: scanned one value at a time --------------------------------------------------------

class JsonScanner {
 public:
  explicit JsonScanner(InputSource& in) : in_(in) {}

  // Skips whitespace; the next character (0 at the end).
  Result<char> Peek() {
    while (true) {
      while (pos_ < buf_.size() && IsSpace(buf_[pos_])) ++pos_;
      if (pos_ < buf_.size()) return buf_[pos_];
      VK_ASSIGN_OR_RETURN(bool more, Fill());
      if (!more) return '\0';
    }
  }
  Status Expect(char c) {
    VK_ASSIGN_OR_RETURN(char got, Peek());
    if (got != c) {
      return got == '\0' ? Truncated()
                         : Status::InvalidArgument(std::string("expected '") + c + "' at byte " +
                                                   std::to_string(consumed_ + pos_));
    }
    ++pos_;
    return Status::Ok();
  }
  // The raw text of the next value (valid until the next call).
  Result<std::string_view> Value() {
    VK_ASSIGN_OR_RETURN(char c, Peek());
    if (c == '\0') return Truncated();
    Compact();
    while (true) {
      const std::size_t end = JsonValueEnd(buf_, pos_);
      if (end != std::string_view::npos) {
        std::string_view v(buf_.data() + pos_, end - pos_);
        pos_ = end;
        return v;
      }
      VK_ASSIGN_OR_RETURN(bool more, Fill());
      if (!more) return Truncated();
    }
  }

 private:
  Status Truncated() const {
    return Status::InvalidArgument("truncated JSON: the input ends inside the document");
  }
  void Compact() {
    if (pos_ > (1 << 16)) {
      consumed_ += pos_;
      buf_.erase(0, pos_);
      pos_ = 0;
    }
  }
  Result<bool> Fill() {
    VK_ASSIGN_OR_RETURN(std::size_t n, in_.Read(&buf_));
    return n > 0;
  }

  InputSource& in_;
  std::string buf_;
  std::size_t pos_ = 0;
  std::size_t consumed_ = 0;
};

Status RestoreJson(const std::string& path, store::RestoreWriter& w, RestoreResult& result) {
  VK_ASSIGN_OR_RETURN(auto in, InputSource::Open(path));
  JsonScanner scan(*in);
  auto in_file = [&path](const Status& st) { return st.WithContext(path); };
  VK_RETURN_IF_ERROR(in_file(scan.Expect('{')));
  bool first = true;
  bool metadata = false;
  while (true) {
    VK_ASSIGN_OR_RETURN(char c, scan.Peek());
    if (c == '}') break;
    if (!first) VK_RETURN_IF_ERROR(in_file(scan.Expect(',')));
    first = false;
    VK_ASSIGN_OR_RETURN(std::string_view key_text, scan.Value());
    VK_ASSIGN_OR_RETURN(json::value key, ParseJson(key_text));
    if (!key.is_string()) return in_file(Status::InvalidArgument("expected a member name"));
    const std::string name(key.as_string());
    VK_RETURN_IF_ERROR(in_file(scan.Expect(':')));
    if (name == "metadata") {
      VK_ASSIGN_OR_RETURN(std::string_view raw, scan.Value());
      auto meta = ParseJson(raw);
      if (!meta.ok()) return in_file(meta.status());
      const json::value* version =
          meta->is_object() ? meta->as_object().if_contains("formatVersion") : nullptr;
      if (version == nullptr || !version->is_int64() || version->as_int64() != 1) {
        return in_file(
            Status::InvalidArgument("unsupported export (metadata.formatVersion is "
                                    "not 1)"));
      }
      metadata = true;
      continue;
    }
    auto table = ParseTable(name);
    if (!table.ok()) {
      VK_ASSIGN_OR_RETURN(std::string_view skipped, scan.Value());  // unknown member: ignored
      (void)skipped;
      continue;
    }
    VK_RETURN_IF_ERROR(in_file(scan.Expect('[')));
    std::int64_t index = 0;
    while (true) {
      VK_ASSIGN_OR_RETURN(char d, scan.Peek());
      if (d == ']') {
        VK_RETURN_IF_ERROR(scan.Expect(']'));
        break;
      }
      if (index > 0) VK_RETURN_IF_ERROR(in_file(scan.Expect(',')));
      VK_ASSIGN_OR_RETURN(std::string_view raw, scan.Value());
      auto at = [&](const Status& st) {
        return st.WithContext(path + ": " + name + "[" + std::to_string(index) + "]");
      };
      auto parsed = ParseJson(raw);
      if (!parsed.ok()) return at(parsed.status());
      if (!parsed->is_object()) return at(Status::InvalidArgument("a record must be an object"));
      JsonFields fields(parsed->as_object(), raw);
      VK_RETURN_IF_ERROR(at(AddRecord(*table, fields, w, result)));
      ++index;
    }
  }
  VK_RETURN_IF_ERROR(in_file(scan.Expect('}')));
  VK_ASSIGN_OR_RETURN(char rest, scan.Peek());
  if (rest != '\0') return in_file(Status::InvalidArgument("data after the JSON document"));
  if (!metadata) return in_file(Status::InvalidArgument("no \"metadata\" member"));
  return Status::Ok();
}

// --- csv ---------------------------------------------------------------------------------------

// RFC 4180 records, strictly: a quote inside an unquoted field, or anything but a delimiter or a
// line end after a closing quote, is an error; so is end of input inside a quoted field.
class CsvReader {
 public:
  CsvReader(InputSource& in, char delimiter) : in_(in), delim_(delimiter) {}

  Result<bool> Next(std::vector<CsvField>* row) {
    row->clear();
    VK_ASSIGN_OR_RETURN(bool any, Ensure());
    if (!any) return false;
    ++record_;
    CsvField field;
    while (true) {
      VK_ASSIGN_OR_RETURN(bool have, Ensure());
      if (!have) {  // end of input ends the last record
        row->push_back(std::move(field));
        return true;
      }
      const char c = buf_[pos_];
      if (c == '"' && field.value.empty() && !field.quoted) {
        ++pos_;
        field.quoted = true;
        VK_RETURN_IF_ERROR(ReadQuoted(&field.value));
        VK_ASSIGN_OR_RETURN(bool after, Ensure());
        if (!after) continue;
        const char n = buf_[pos_];
        if (n != delim_ && n != '\r' && n != '\n') return Malformed("text after a closing quote");
        continue;
      }
      if (c == '"') return Malformed("a quote inside an unquoted field");
      if (c == delim_) {
        ++pos_;
        row->push_back(std::move(field));
        field = CsvField{};
        continue;
      }
      if (c == '\r' || c == '\n') {
        ++pos_;
        if (c == '\r') {
          VK_ASSIGN_OR_RETURN(bool lf, Ensure());
          if (lf && buf_[pos_] == '\n') ++pos_;
        }
        row->push_back(std::move(field));
        return true;
      }
      if (field.quoted) return Malformed("text after a closing quote");
      field.value += c;
      ++pos_;
    }
  }
  std::int64_t record() const { return record_; }

 private:
  Status Malformed(const std::string& what) const {
    return Status::InvalidArgument("malformed CSV at record " + std::to_string(record_) + ": " +
                                   what);
  }
  Result<bool> Ensure() {
    if (pos_ < buf_.size()) return true;
    buf_.clear();
    pos_ = 0;
    VK_ASSIGN_OR_RETURN(std::size_t n, in_.Read(&buf_));
    return n > 0;
  }
  Status ReadQuoted(std::string* out) {
    while (true) {
      VK_ASSIGN_OR_RETURN(bool have, Ensure());
      if (!have) return Malformed("the input ends inside a quoted field");
      const std::size_t q = buf_.find('"', pos_);
      if (q == std::string::npos) {
        out->append(buf_, pos_, std::string::npos);
        pos_ = buf_.size();
        continue;
      }
      out->append(buf_, pos_, q - pos_);
      pos_ = q + 1;
      VK_ASSIGN_OR_RETURN(bool next, Ensure());
      if (next && buf_[pos_] == '"') {  // a doubled quote
        *out += '"';
        ++pos_;
        continue;
      }
      return Status::Ok();
    }
  }

  InputSource& in_;
  char delim_;
  std::string buf_;
  std::size_t pos_ = 0;
  std::int64_t record_ = 0;
};

// The table whose header `line` is, and its delimiter (the first byte that cannot be part of a
// field name).
std::optional<std::pair<Table, char>> CsvHeader(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::size_t i = 0;
  while (i < line.size() && std::isalpha(static_cast<unsigned char>(line[i]))) ++i;
  if (i == 0 || i >= line.size()) return std::nullopt;
  const char delim = line[i];
  for (Table t : {Table::kSessions, Table::kEvents, Table::kErrors}) {
    const auto& fields = t == Table::kSessions ? SessionFields()
                         : t == Table::kEvents ? EventFields()
                                               : ErrorFields();
    std::string expected;
    for (std::size_t k = 0; k < fields.size(); ++k) {
      if (k > 0) expected += delim;
      expected += fields[k];
    }
    if (line == expected) return std::make_pair(t, delim);
  }
  return std::nullopt;
}

Result<std::string> FirstLine(const std::string& path) {
  VK_ASSIGN_OR_RETURN(auto in, InputSource::Open(path));
  LineSource lines(*in);
  std::string line;
  VK_ASSIGN_OR_RETURN(bool more, lines.Next(&line));
  if (!more) return std::string();
  return line;
}

Status RestoreCsvFile(const std::string& path, store::RestoreWriter& w, RestoreResult& result) {
  VK_ASSIGN_OR_RETURN(std::string first, FirstLine(path));
  auto header = CsvHeader(first);
  if (!header) {
    return Status::InvalidArgument(path + ": not a VibeKit CSV export (unknown header row)");
  }
  const auto [table, delim] = *header;
  const auto& names = table == Table::kSessions ? SessionFields()
                      : table == Table::kEvents ? EventFields()
                                                : ErrorFields();
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < names.size(); ++i) index.emplace(std::string(names[i]), i);
  VK_ASSIGN_OR_RETURN(auto in, InputSource::Open(path));
  CsvReader reader(*in, delim);
  std::vector<CsvField> row;
  VK_ASSIGN_OR_RETURN(bool has_header, reader.Next(&row));
  (void)has_header;
  while (true) {
    auto more = reader.Next(&row);
    if (!more.ok()) return more.status().WithContext(path);
    if (!*more) break;
    if (row.size() != names.size()) {
      return Status::InvalidArgument(path + ": record " + std::to_string(reader.record()) +
                                     " has " + std::to_string(row.size()) + " fields, the header " +
                                     std::to_string(names.size()));
    }
    CsvFields fields(index, row);
    VK_RETURN_IF_ERROR(AddRecord(table, fields, w, result)
                           .WithContext(path + ": record " + std::to_string(reader.record())));
  }
  return Status::Ok();
}

// The files of a csv restore: `path` itself, or the per-table files of the set it names.
std::vector<std::string> CsvFiles(const std::string& path) {
  if (FileExists(path)) return {path};
  std::vector<std::string> files;
  for (std::string_view table : {"sessions", "events", "errors"}) {
    for (std::string_view ext : {"", ".gz", ".br", ".zst"}) {
      const std::string candidate = PerTablePath(path, table, ext);
      if (FileExists(candidate)) {
        files.push_back(candidate);
        break;
      }
    }
  }
  return files;
}

}  // namespace

std::string PerTablePath(const std::string& path, std::string_view table,
                         std::string_view compression_extension) {
  std::string stem = path;
  auto strip = [&stem](std::string_view suffix) {
    if (!suffix.empty() && stem.size() > suffix.size() &&
        stem.compare(stem.size() - suffix.size(), suffix.size(), suffix) == 0) {
      stem.resize(stem.size() - suffix.size());
      return true;
    }
    return false;
  };
  for (std::string_view ext : {".gz", ".br", ".zst"}) {
    if (strip(ext)) break;
  }
  strip(".csv");
  return stem + "." + std::string(table) + ".csv" + std::string(compression_extension);
}

Result<ExportInputKind> DetectInputKind(const std::string& path) {
  if (path == "-") {
    return Status::InvalidArgument("standard input cannot be inspected; save it to a file");
  }
  std::vector<std::string> csv = CsvFiles(path);
  if (csv.empty()) return Status::NotFound("cannot read \"" + path + "\": no such file");
  VK_ASSIGN_OR_RETURN(auto in, InputSource::Open(csv.front()));
  std::string head;
  while (head.size() < (1 << 16)) {
    VK_ASSIGN_OR_RETURN(std::size_t n, in->Read(&head));
    if (n == 0) break;
  }
  std::size_t i = 0;
  if (head.compare(0, 3, "\xef\xbb\xbf") == 0) i = 3;
  while (i < head.size() && IsSpace(head[i])) ++i;
  if (i >= head.size()) return Status::InvalidArgument("\"" + path + "\" is empty");
  if (head[i] == '{') {
    std::size_t j = i + 1;
    while (j < head.size() && IsSpace(head[j])) ++j;
    if (head.compare(j, 10, "\"metadata\"") == 0) return ExportInputKind::kJsonExport;
    // OTLP/JSON: our requests start with "resourceSpans"; others may have it further on.
    if (head.compare(j, 15, "\"resourceSpans\"") == 0) return ExportInputKind::kOtlpJson;
    const std::size_t nl = head.find('\n', i);
    const std::string_view line(head.data() + i, (nl == std::string::npos ? head.size() : nl) - i);
    auto v = ParseJson(line);
    if (v.ok() && v->is_object()) {
      const json::object& o = v->as_object();
      const json::value* t = o.if_contains("recordType");
      if (t != nullptr && t->is_string() && t->as_string() == "export") {
        return ExportInputKind::kNdjsonExport;
      }
      if (o.contains("resourceSpans")) return ExportInputKind::kOtlpJson;
      if (o.contains("sessionId") || o.contains("eventType")) {
        return ExportInputKind::kEventNdjson;
      }
    }
    return Status::InvalidArgument("\"" + path +
                                   "\" is not a VibeKit export or event NDJSON "
                                   "(first record not recognised)");
  }
  const std::size_t nl = head.find('\n', i);
  if (CsvHeader(
          std::string_view(head.data() + i, (nl == std::string::npos ? head.size() : nl) - i))) {
    return ExportInputKind::kCsvExport;
  }
  return Status::InvalidArgument("\"" + path +
                                 "\" is not a VibeKit export (json, ndjson or "
                                 "csv) or event NDJSON");
}

Status RestoreInto(const std::string& path, ExportInputKind kind, store::RestoreWriter& writer,
                   RestoreResult& result) {
  result.kind = kind;
  try {
    switch (kind) {
      case ExportInputKind::kJsonExport:
        return RestoreJson(path, writer, result);
      case ExportInputKind::kNdjsonExport:
        return RestoreNdjson(path, writer, result);
      case ExportInputKind::kCsvExport: {
        std::vector<std::string> files = CsvFiles(path);
        if (files.empty()) return Status::NotFound("cannot read \"" + path + "\"");
        for (const std::string& f : files) VK_RETURN_IF_ERROR(RestoreCsvFile(f, writer, result));
        return Status::Ok();
      }
      case ExportInputKind::kEventNdjson:
        return Status::InvalidArgument("plain event NDJSON is imported as events, not restored");
      case ExportInputKind::kOtlpJson:
        return Status::InvalidArgument("OTLP/JSON is imported as events, not restored");
    }
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("cannot read the export: ") + e.what());
  }
  return Status::Internal("bad input kind");
}

}  // namespace vibekit::exporting
