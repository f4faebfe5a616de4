#include "export/writers.h"

#include <optional>

#include <boost/json.hpp>

#include "export/text.h"
#include "otlp/otlp_json.h"

namespace vibekit::exporting {
namespace json = boost::json;

std::string_view TableName(Table t) noexcept {
  switch (t) {
    case Table::kSessions:
      return "sessions";
    case Table::kEvents:
      return "events";
    case Table::kErrors:
      return "errors";
  }
  return "events";
}

Result<Table> ParseTable(std::string_view name) {
  if (name == "sessions") return Table::kSessions;
  if (name == "events") return Table::kEvents;
  if (name == "errors") return Table::kErrors;
  return Status::InvalidArgument("unknown table \"" + std::string(name) +
                                 "\" (choose sessions, events or errors)");
}

Result<char> ParseCsvDelimiter(std::string_view text) {
  if (text == "comma" || text == ",") return ',';
  if (text == "semicolon" || text == ";") return ';';
  if (text == "tab" || text == "\t") return '\t';
  if (text.size() != 1) {
    return Status::InvalidArgument("csv delimiter \"" + std::string(text) +
                                   "\" must be comma, semicolon, tab or one character");
  }
  if (text[0] == '"' || text[0] == '\r' || text[0] == '\n') {
    return Status::InvalidArgument("csv delimiter cannot be a quote, CR or LF");
  }
  return text[0];
}

const std::vector<std::string_view>& SessionFields() {
  static const std::vector<std::string_view> f = {
      "id",        "agentType", "mode",       "status",           "startTime",
      "endTime",   "duration",  "eventCount", "streamEventCount", "errorCount",
      "sandboxId", "repoUrl",   "metadata",   "lastEventTime",    "createdAt",
      "updatedAt"};
  return f;
}

const std::vector<std::string_view>& EventFields() {
  static const std::vector<std::string_view> f = {
      "id",         "sessionId", "eventType", "agentType", "mode",      "prompt",
      "streamData", "sandboxId", "repoUrl",   "metadata",  "timestamp", "createdAt"};
  return f;
}

const std::vector<std::string_view>& ErrorFields() {
  static const std::vector<std::string_view> f = {
      "id",      "sessionId", "eventId",  "errorType", "errorMessage", "errorStack",
      "context", "severity",  "resolved", "metadata",  "timestamp",    "createdAt"};
  return f;
}

namespace {

// --- JSON objects (compact; `indent` > 0 puts each field on its own line) -----------------------

class ObjectOut {
 public:
  ObjectOut(std::string& out, int indent) : out_(out), indent_(indent) { out_ += '{'; }
  void Key(std::string_view key) {
    if (!first_) out_ += ',';
    first_ = false;
    if (indent_ > 0) {
      out_ += '\n';
      out_.append(static_cast<std::size_t>(indent_), ' ');
    }
    out_ += '"';
    out_ += key;
    out_ += indent_ > 0 ? "\": " : "\":";
  }
  void Str(std::string_view key, std::string_view v) {
    Key(key);
    AppendJsonString(out_, v);
  }
  void OptStr(std::string_view key, const std::optional<std::string>& v) {
    if (v) Str(key, *v);
  }
  void Int(std::string_view key, std::int64_t v) {
    Key(key);
    AppendInt(out_, v);
  }
  void OptInt(std::string_view key, const std::optional<std::int64_t>& v) {
    if (v) Int(key, *v);
  }
  void Bool(std::string_view key, bool v) {
    Key(key);
    out_ += v ? "true" : "false";
  }
  // Metadata is stored as validated JSON object text: embedded as it is.
  void Raw(std::string_view key, const std::optional<std::string>& v) {
    if (!v) return;
    Key(key);
    out_ += *v;
  }
  void Close() {
    if (indent_ > 0 && !first_) {
      out_ += '\n';
      out_.append(static_cast<std::size_t>(indent_ - 2), ' ');
    }
    out_ += '}';
  }

 private:
  std::string& out_;
  int indent_;
  bool first_ = true;
};

void SessionObject(ObjectOut& o, const Session& s) {
  o.Str("id", s.id);
  o.Str("agentType", s.agent_type);
  o.OptStr("mode", s.mode);
  o.Str("status", SessionStatusName(s.status));
  o.Int("startTime", s.start_time);
  o.OptInt("endTime", s.end_time);
  o.OptInt("duration", s.duration);
  o.Int("eventCount", s.event_count);
  o.Int("streamEventCount", s.stream_event_count);
  o.Int("errorCount", s.error_count);
  o.OptStr("sandboxId", s.sandbox_id);
  o.OptStr("repoUrl", s.repo_url);
  o.Raw("metadata", s.metadata);
  o.Int("lastEventTime", s.last_event_time);
  o.Int("createdAt", s.created_at);
  o.Int("updatedAt", s.updated_at);
}

// The field names and order of EventToJson (so `telemetry import` reads these lines), plus
// createdAt.
void EventObject(ObjectOut& o, const Event& e) {
  o.Int("id", e.id);
  o.Str("sessionId", e.session_id);
  o.Str("eventType", EventTypeName(e.event_type));
  o.Str("agentType", e.agent_type);
  o.OptStr("mode", e.mode);
  o.OptStr("prompt", e.prompt);
  o.OptStr("streamData", e.stream_data);
  o.OptStr("sandboxId", e.sandbox_id);
  o.OptStr("repoUrl", e.repo_url);
  o.Raw("metadata", e.metadata);
  o.Int("timestamp", e.timestamp);
  o.Int("createdAt", e.created_at);
}

void ErrorObject(ObjectOut& o, const ErrorRecord& r) {
  o.Int("id", r.id);
  o.Str("sessionId", r.session_id);
  o.OptInt("eventId", r.event_id);
  o.Str("errorType", r.error_type);
  o.Str("errorMessage", r.error_message);
  o.OptStr("errorStack", r.error_stack);
  o.OptStr("context", r.context);
  o.Str("severity", ErrorSeverityName(r.severity));
  o.Bool("resolved", r.resolved);
  o.Raw("metadata", r.metadata);
  o.Int("timestamp", r.timestamp);
  o.Int("createdAt", r.created_at);
}

json::object FilterJson(const ExportFilter& f, const std::vector<Table>& tables) {
  json::object o;
  o["fromTime"] = f.from_time ? json::value(*f.from_time) : json::value(nullptr);
  o["toTime"] = f.to_time ? json::value(*f.to_time) : json::value(nullptr);
  auto list = [](const std::vector<std::string>& v) {
    json::array a;
    for (const auto& s : v) a.emplace_back(s);
    return a;
  };
  o["sessionIds"] = list(f.session_ids);
  o["agentTypes"] = list(f.agent_types);
  o["eventTypes"] = list(f.event_types);
  json::array t;
  for (Table x : tables) t.emplace_back(TableName(x));
  o["tables"] = std::move(t);
  o["limit"] = f.limit ? json::value(*f.limit) : json::value(nullptr);
  o["offset"] = f.offset;
  return o;
}

json::object CountsJson(const ExportHeader& h) {
  json::object c;
  for (Table t : h.tables) {
    c[TableName(t)] = t == Table::kSessions ? h.sessions
                      : t == Table::kEvents ? h.events
                                            : h.errors;
  }
  c["total"] = h.sessions + h.events + h.errors;
  return c;
}

// Boost.JSON serializes compactly only; the metadata block is small, so indent it here.
void AppendPretty(std::string& out, const json::value& v, int indent) {
  auto pad = [&](int n) { out.append(static_cast<std::size_t>(n), ' '); };
  if (v.is_object()) {
    const json::object& o = v.as_object();
    if (o.empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    bool first = true;
    for (const auto& kv : o) {
      if (!first) out += ",\n";
      first = false;
      pad(indent + 2);
      AppendJsonString(out, std::string_view(kv.key().data(), kv.key().size()));
      out += ": ";
      AppendPretty(out, kv.value(), indent + 2);
    }
    out += '\n';
    pad(indent);
    out += '}';
  } else if (v.is_array()) {
    const json::array& a = v.as_array();
    if (a.empty()) {
      out += "[]";
      return;
    }
    out += "[\n";
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (i > 0) out += ",\n";
      pad(indent + 2);
      AppendPretty(out, a[i], indent + 2);
    }
    out += '\n';
    pad(indent);
    out += ']';
  } else {
    out += json::serialize(v);
  }
}

// --- json: one document -----------------------------------------------------------------------

class JsonWriter final : public RecordWriter {
 public:
  explicit JsonWriter(StreamOpener opener) : opener_(std::move(opener)) {}

  Status Begin(const ExportHeader& h) override {
    pretty_ = h.pretty;
    VK_ASSIGN_OR_RETURN(out_, opener_(nullptr));
    json::object meta;
    meta["formatVersion"] = 1;
    meta["generator"] = "vibekit 0.1.0";
    meta["format"] = h.format;
    meta["exportedAt"] = h.exported_at_ms;
    meta["filter"] = FilterJson(h.filter, h.tables);
    meta["counts"] = CountsJson(h);
    std::string& b = out_->buffer();
    if (pretty_) {
      b += "{\n  \"metadata\": ";
      AppendPretty(b, meta, 2);
    } else {
      b += "{\"metadata\":";
      b += json::serialize(meta);
    }
    return out_->MaybeFlush();
  }
  Status BeginTable(Table t) override {
    std::string& b = out_->buffer();
    b += pretty_ ? ",\n  \"" : ",\"";
    b += TableName(t);
    b += pretty_ ? "\": [" : "\":[";
    first_ = true;
    return Status::Ok();
  }
  Status EndTable(Table /*t*/) override {
    std::string& b = out_->buffer();
    if (pretty_ && !first_) b += "\n  ";
    b += ']';
    return out_->MaybeFlush();
  }
  Status WriteSession(const Session& s) override {
    ObjectOut o = Open();
    SessionObject(o, s);
    o.Close();
    return out_->MaybeFlush();
  }
  Status WriteEvent(const Event& e) override {
    ObjectOut o = Open();
    EventObject(o, e);
    o.Close();
    return out_->MaybeFlush();
  }
  Status WriteError(const ErrorRecord& r) override {
    ObjectOut o = Open();
    ErrorObject(o, r);
    o.Close();
    return out_->MaybeFlush();
  }
  Status End() override {
    out_->buffer() += pretty_ ? "\n}\n" : "}\n";
    return out_->Flush();
  }

 private:
  ObjectOut Open() {
    std::string& b = out_->buffer();
    if (!first_) b += ',';
    first_ = false;
    if (pretty_) b += "\n    ";
    return ObjectOut(b, pretty_ ? 6 : 0);
  }

  StreamOpener opener_;
  BufferedWriter* out_ = nullptr;
  bool pretty_ = false;
  bool first_ = true;
};

// --- ndjson: a header line, then one record per line (deterministic: no export time) ---------

class NdjsonWriter final : public RecordWriter {
 public:
  explicit NdjsonWriter(StreamOpener opener) : opener_(std::move(opener)) {}

  Status Begin(const ExportHeader& h) override {
    VK_ASSIGN_OR_RETURN(out_, opener_(nullptr));
    json::object head;
    head["recordType"] = "export";
    head["formatVersion"] = 1;
    json::array t;
    for (Table x : h.tables) t.emplace_back(TableName(x));
    head["tables"] = std::move(t);
    head["counts"] = CountsJson(h);
    out_->buffer() += json::serialize(head);
    out_->buffer() += '\n';
    return out_->MaybeFlush();
  }
  Status BeginTable(Table /*t*/) override { return Status::Ok(); }
  Status EndTable(Table /*t*/) override { return Status::Ok(); }
  Status WriteSession(const Session& s) override {
    AppendSessionJson(out_->buffer(), s);
    out_->buffer() += '\n';
    return out_->MaybeFlush();
  }
  Status WriteEvent(const Event& e) override {
    AppendEventJson(out_->buffer(), e);
    out_->buffer() += '\n';
    return out_->MaybeFlush();
  }
  Status WriteError(const ErrorRecord& r) override {
    AppendErrorJson(out_->buffer(), r);
    out_->buffer() += '\n';
    return out_->MaybeFlush();
  }
  Status End() override { return out_->Flush(); }

 private:
  StreamOpener opener_;
  BufferedWriter* out_ = nullptr;
};

// --- csv: one file per table, header row, RFC 4180 ---------------------------------------------

class CsvWriter final : public RecordWriter {
 public:
  explicit CsvWriter(StreamOpener opener) : opener_(std::move(opener)) {}

  Status Begin(const ExportHeader& h) override {
    delim_ = h.csv_delimiter;
    return Status::Ok();
  }
  Status BeginTable(Table t) override {
    VK_ASSIGN_OR_RETURN(out_, opener_(&t));
    const auto& fields = t == Table::kSessions ? SessionFields()
                         : t == Table::kEvents ? EventFields()
                                               : ErrorFields();
    std::string& b = out_->buffer();
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) b += delim_;
      b += fields[i];
    }
    b += "\r\n";
    return out_->MaybeFlush();
  }
  Status EndTable(Table /*t*/) override { return out_->Flush(); }
  Status WriteSession(const Session& s) override {
    Str(s.id, true);
    Str(s.agent_type);
    Opt(s.mode);
    Str(SessionStatusName(s.status));
    Int(s.start_time);
    OptInt(s.end_time);
    OptInt(s.duration);
    Int(s.event_count);
    Int(s.stream_event_count);
    Int(s.error_count);
    Opt(s.sandbox_id);
    Opt(s.repo_url);
    Opt(s.metadata);
    Int(s.last_event_time);
    Int(s.created_at);
    Int(s.updated_at);
    return EndRow();
  }
  Status WriteEvent(const Event& e) override {
    Int(e.id, true);
    Str(e.session_id);
    Str(EventTypeName(e.event_type));
    Str(e.agent_type);
    Opt(e.mode);
    Opt(e.prompt);
    Opt(e.stream_data);
    Opt(e.sandbox_id);
    Opt(e.repo_url);
    Opt(e.metadata);
    Int(e.timestamp);
    Int(e.created_at);
    return EndRow();
  }
  Status WriteError(const ErrorRecord& r) override {
    Int(r.id, true);
    Str(r.session_id);
    OptInt(r.event_id);
    Str(r.error_type);
    Str(r.error_message);
    Opt(r.error_stack);
    Opt(r.context);
    Str(ErrorSeverityName(r.severity));
    Str(r.resolved ? "true" : "false");
    Opt(r.metadata);
    Int(r.timestamp);
    Int(r.created_at);
    return EndRow();
  }
  Status End() override { return Status::Ok(); }

 private:
  void Sep(bool first) {
    if (!first) out_->buffer() += delim_;
  }
  void Str(std::string_view v, bool first = false) {
    Sep(first);
    AppendCsvField(out_->buffer(), v, delim_);
  }
  void Opt(const std::optional<std::string>& v) {
    Sep(false);
    if (v) AppendCsvField(out_->buffer(), *v, delim_);  // null: an empty unquoted field
  }
  void Int(std::int64_t v, bool first = false) {
    Sep(first);
    AppendInt(out_->buffer(), v);
  }
  void OptInt(const std::optional<std::int64_t>& v) {
    Sep(false);
    if (v) AppendInt(out_->buffer(), *v);
  }
  Status EndRow() {
    out_->buffer() += "\r\n";
    return out_->MaybeFlush();
  }

  StreamOpener opener_;
  BufferedWriter* out_ = nullptr;
  char delim_ = ',';
};

// otlp: one OTLP/JSON ExportTraceServiceRequest, one root span (trace) per session. Rows come
// grouped by session (FormatSpec::by_session): a session, its events, its errors, the next
// session. Only one session's rows are held; each span is encoded straight into the output
// buffer, which is flushed as it fills. Tables do not apply and pretty printing is not offered.
class OtlpWriter final : public RecordWriter {
 public:
  explicit OtlpWriter(StreamOpener opener) : opener_(std::move(opener)) {}

  Status Begin(const ExportHeader& /*header*/) override {
    VK_ASSIGN_OR_RETURN(out_, opener_(nullptr));
    request_.emplace(out_->buffer());
    request_->Begin();
    return out_->MaybeFlush();
  }
  Status BeginTable(Table /*t*/) override { return Status::Ok(); }
  Status EndTable(Table /*t*/) override { return Status::Ok(); }
  Status WriteSession(const Session& s) override {
    VK_RETURN_IF_ERROR(WritePending());
    session_ = s;
    pending_ = true;
    return Status::Ok();
  }
  Status WriteEvent(const Event& e) override {
    if (!pending_ || e.session_id != session_.id) return OutOfGroup("event");
    events_.push_back(e);
    return Status::Ok();
  }
  Status WriteError(const ErrorRecord& r) override {
    if (!pending_ || r.session_id != session_.id) return OutOfGroup("error");
    errors_.push_back(r);
    return Status::Ok();
  }
  Status End() override {
    VK_RETURN_IF_ERROR(WritePending());
    request_->Finish();
    return out_->Flush();
  }

 private:
  static Status OutOfGroup(std::string_view what) {
    return Status::Internal("otlp export: " + std::string(what) +
                            " row outside its session's group");
  }
  Status WritePending() {
    if (!pending_) return Status::Ok();
    request_->SessionSpan(session_, events_, errors_);
    events_.clear();  // capacity kept for the next session
    errors_.clear();
    pending_ = false;
    return out_->MaybeFlush();
  }

  StreamOpener opener_;
  BufferedWriter* out_ = nullptr;
  std::optional<otlp::TraceRequestWriter> request_;  // appends to out_->buffer()
  Session session_;
  std::vector<Event> events_;
  std::vector<ErrorRecord> errors_;
  bool pending_ = false;
};

}  // namespace

void AppendSessionJson(std::string& out, const Session& s) {
  out += "{\"recordType\":\"session\"";
  // ObjectOut opens its own brace: write the fields after the discriminator by hand.
  std::string body;
  ObjectOut o(body, 0);
  SessionObject(o, s);
  o.Close();
  out += ',';
  out.append(body, 1, std::string::npos);
}

void AppendEventJson(std::string& out, const Event& e) {
  ObjectOut o(out, 0);
  EventObject(o, e);
  o.Close();
}

void AppendErrorJson(std::string& out, const ErrorRecord& r) {
  out += "{\"recordType\":\"error\"";
  std::string body;
  ObjectOut o(body, 0);
  ErrorObject(o, r);
  o.Close();
  out += ',';
  out.append(body, 1, std::string::npos);
}

const std::vector<FormatSpec>& Formats() {
  static const std::vector<FormatSpec> formats = {
      {"json", false,
       [](StreamOpener o) -> std::unique_ptr<RecordWriter> {
         return std::make_unique<JsonWriter>(std::move(o));
       }},
      {"ndjson", false,
       [](StreamOpener o) -> std::unique_ptr<RecordWriter> {
         return std::make_unique<NdjsonWriter>(std::move(o));
       }},
      {"csv", true,
       [](StreamOpener o) -> std::unique_ptr<RecordWriter> {
         return std::make_unique<CsvWriter>(std::move(o));
       }},
      {"otlp", false,
       [](StreamOpener o) -> std::unique_ptr<RecordWriter> {
         return std::make_unique<OtlpWriter>(std::move(o));
       },
       /*by_session=*/true},
  };
  return formats;
}

const FormatSpec* FindFormat(std::string_view name) {
  for (const FormatSpec& f : Formats()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

}  // namespace vibekit::exporting
