#include "otlp/otlp_protobuf.h"

#include "common/utf8.h"
#include "otlp/otlp_attributes.h"

#include <boost/json.hpp>

#include <bit>
#include <cstdint>
#include <cstring>
#include <map>

namespace vibekit::otlp {
namespace json = boost::json;

namespace {

// How a field's value is written in the JSON mapping.
enum class Kind {
  kString,      // string
  kHex,         // bytes: trace and span ids, lowercase hex
  kBase64,      // bytes: AnyValue.bytesValue
  kBool,        // varint
  kInt32,       // varint: enums, int32, uint32 → JSON number
  kInt64,       // varint int64 → decimal string
  kFixed64,     // fixed64 → decimal string
  kSfixed64,    // sfixed64 → decimal string
  kDouble,      // fixed64 IEEE → number
  kFixed32,     // fixed32 → number
  kMessage,
};

enum class Msg {
  kTraceRequest, kLogsRequest, kMetricsRequest,
  kResourceSpans, kResourceLogs, kResourceMetrics,
  kScopeSpans, kScopeLogs, kScopeMetrics,
  kResource, kScope, kKeyValue, kAnyValue, kArrayValue, kKeyValueList,
  kSpan, kSpanEvent, kStatus, kLogRecord,
  kMetric, kGauge, kSum, kHistogram, kExpHistogram, kSummary,
  kNumberPoint, kHistogramPoint, kExpHistogramPoint, kSummaryPoint,
};

struct Field {
  const char* name;
  Kind kind;
  bool repeated;
  Msg message;  // for kMessage
};

using Schema = std::map<std::uint32_t, Field>;

const Schema& SchemaOf(Msg m) {
  static const std::map<Msg, Schema> schemas = [] {
    std::map<Msg, Schema> s;
    const auto msg = [](const char* n, Msg t, bool rep = false) { return Field{n, Kind::kMessage, rep, t}; };
    const auto val = [](const char* n, Kind k, bool rep = false) { return Field{n, k, rep, Msg::kAnyValue}; };
    s[Msg::kTraceRequest] = {{1, msg("resourceSpans", Msg::kResourceSpans, true)}};
    s[Msg::kLogsRequest] = {{1, msg("resourceLogs", Msg::kResourceLogs, true)}};
    s[Msg::kMetricsRequest] = {{1, msg("resourceMetrics", Msg::kResourceMetrics, true)}};
    s[Msg::kResourceSpans] = {{1, msg("resource", Msg::kResource)},
                              {2, msg("scopeSpans", Msg::kScopeSpans, true)},
                              {3, val("schemaUrl", Kind::kString)}};
    s[Msg::kResourceLogs] = {{1, msg("resource", Msg::kResource)},
                             {2, msg("scopeLogs", Msg::kScopeLogs, true)},
                             {3, val("schemaUrl", Kind::kString)}};
    s[Msg::kResourceMetrics] = {{1, msg("resource", Msg::kResource)},
                                {2, msg("scopeMetrics", Msg::kScopeMetrics, true)},
                                {3, val("schemaUrl", Kind::kString)}};
    s[Msg::kScopeSpans] = {{1, msg("scope", Msg::kScope)}, {2, msg("spans", Msg::kSpan, true)},
                           {3, val("schemaUrl", Kind::kString)}};
    s[Msg::kScopeLogs] = {{1, msg("scope", Msg::kScope)},
                          {2, msg("logRecords", Msg::kLogRecord, true)},
                          {3, val("schemaUrl", Kind::kString)}};
    s[Msg::kScopeMetrics] = {{1, msg("scope", Msg::kScope)},
                             {2, msg("metrics", Msg::kMetric, true)},
                             {3, val("schemaUrl", Kind::kString)}};
    s[Msg::kResource] = {{1, msg("attributes", Msg::kKeyValue, true)},
                         {2, val("droppedAttributesCount", Kind::kInt32)}};
    s[Msg::kScope] = {{1, val("name", Kind::kString)}, {2, val("version", Kind::kString)},
                      {3, msg("attributes", Msg::kKeyValue, true)},
                      {4, val("droppedAttributesCount", Kind::kInt32)}};
    s[Msg::kKeyValue] = {{1, val("key", Kind::kString)}, {2, msg("value", Msg::kAnyValue)}};
    s[Msg::kAnyValue] = {{1, val("stringValue", Kind::kString)},
                         {2, val("boolValue", Kind::kBool)},
                         {3, val("intValue", Kind::kInt64)},
                         {4, val("doubleValue", Kind::kDouble)},
                         {5, msg("arrayValue", Msg::kArrayValue)},
                         {6, msg("kvlistValue", Msg::kKeyValueList)},
                         {7, val("bytesValue", Kind::kBase64)}};
    s[Msg::kArrayValue] = {{1, msg("values", Msg::kAnyValue, true)}};
    s[Msg::kKeyValueList] = {{1, msg("values", Msg::kKeyValue, true)}};
    s[Msg::kSpan] = {{1, val("traceId", Kind::kHex)}, {2, val("spanId", Kind::kHex)},
                     {3, val("traceState", Kind::kString)}, {4, val("parentSpanId", Kind::kHex)},
                     {5, val("name", Kind::kString)}, {6, val("kind", Kind::kInt32)},
                     {7, val("startTimeUnixNano", Kind::kFixed64)},
                     {8, val("endTimeUnixNano", Kind::kFixed64)},
                     {9, msg("attributes", Msg::kKeyValue, true)},
                     {10, val("droppedAttributesCount", Kind::kInt32)},
                     {11, msg("events", Msg::kSpanEvent, true)},
                     {12, val("droppedEventsCount", Kind::kInt32)},
                     {14, val("droppedLinksCount", Kind::kInt32)},
                     {15, msg("status", Msg::kStatus)}, {16, val("flags", Kind::kFixed32)}};
    s[Msg::kSpanEvent] = {{1, val("timeUnixNano", Kind::kFixed64)},
                          {2, val("name", Kind::kString)},
                          {3, msg("attributes", Msg::kKeyValue, true)},
                          {4, val("droppedAttributesCount", Kind::kInt32)}};
    s[Msg::kStatus] = {{2, val("message", Kind::kString)}, {3, val("code", Kind::kInt32)}};
    s[Msg::kLogRecord] = {{1, val("timeUnixNano", Kind::kFixed64)},
                          {11, val("observedTimeUnixNano", Kind::kFixed64)},
                          {2, val("severityNumber", Kind::kInt32)},
                          {3, val("severityText", Kind::kString)},
                          {5, msg("body", Msg::kAnyValue)},
                          {6, msg("attributes", Msg::kKeyValue, true)},
                          {7, val("droppedAttributesCount", Kind::kInt32)},
                          {8, val("flags", Kind::kFixed32)}, {9, val("traceId", Kind::kHex)},
                          {10, val("spanId", Kind::kHex)}, {12, val("eventName", Kind::kString)}};
    s[Msg::kMetric] = {{1, val("name", Kind::kString)}, {2, val("description", Kind::kString)},
                       {3, val("unit", Kind::kString)}, {5, msg("gauge", Msg::kGauge)},
                       {7, msg("sum", Msg::kSum)}, {9, msg("histogram", Msg::kHistogram)},
                       {10, msg("exponentialHistogram", Msg::kExpHistogram)},
                       {11, msg("summary", Msg::kSummary)},
                       {12, msg("metadata", Msg::kKeyValue, true)}};
    s[Msg::kGauge] = {{1, msg("dataPoints", Msg::kNumberPoint, true)}};
    s[Msg::kSum] = {{1, msg("dataPoints", Msg::kNumberPoint, true)},
                    {2, val("aggregationTemporality", Kind::kInt32)},
                    {3, val("isMonotonic", Kind::kBool)}};
    s[Msg::kHistogram] = {{1, msg("dataPoints", Msg::kHistogramPoint, true)},
                          {2, val("aggregationTemporality", Kind::kInt32)}};
    s[Msg::kExpHistogram] = {{1, msg("dataPoints", Msg::kExpHistogramPoint, true)},
                             {2, val("aggregationTemporality", Kind::kInt32)}};
    s[Msg::kSummary] = {{1, msg("dataPoints", Msg::kSummaryPoint, true)}};
    s[Msg::kNumberPoint] = {{7, msg("attributes", Msg::kKeyValue, true)},
                            {2, val("startTimeUnixNano", Kind::kFixed64)},
                            {3, val("timeUnixNano", Kind::kFixed64)},
                            {4, val("asDouble", Kind::kDouble)},
                            {6, val("asInt", Kind::kSfixed64)}, {8, val("flags", Kind::kInt32)}};
    s[Msg::kHistogramPoint] = {{9, msg("attributes", Msg::kKeyValue, true)},
                               {2, val("startTimeUnixNano", Kind::kFixed64)},
                               {3, val("timeUnixNano", Kind::kFixed64)},
                               {4, val("count", Kind::kFixed64)}, {5, val("sum", Kind::kDouble)},
                               {10, val("flags", Kind::kInt32)}, {11, val("min", Kind::kDouble)},
                               {12, val("max", Kind::kDouble)}};
    s[Msg::kExpHistogramPoint] = {{1, msg("attributes", Msg::kKeyValue, true)},
                                  {2, val("startTimeUnixNano", Kind::kFixed64)},
                                  {3, val("timeUnixNano", Kind::kFixed64)},
                                  {4, val("count", Kind::kFixed64)},
                                  {5, val("sum", Kind::kDouble)}, {10, val("flags", Kind::kInt32)},
                                  {12, val("min", Kind::kDouble)}, {13, val("max", Kind::kDouble)}};
    s[Msg::kSummaryPoint] = {{7, msg("attributes", Msg::kKeyValue, true)},
                             {2, val("startTimeUnixNano", Kind::kFixed64)},
                             {3, val("timeUnixNano", Kind::kFixed64)},
                             {4, val("count", Kind::kFixed64)}, {5, val("sum", Kind::kDouble)},
                             {8, val("flags", Kind::kInt32)}};
    return s;
  }();
  return schemas.at(m);
}

const char* MsgName(Msg m) {
  switch (m) {
    case Msg::kTraceRequest: return "ExportTraceServiceRequest";
    case Msg::kLogsRequest: return "ExportLogsServiceRequest";
    case Msg::kMetricsRequest: return "ExportMetricsServiceRequest";
    case Msg::kSpan: return "Span";
    case Msg::kLogRecord: return "LogRecord";
    case Msg::kMetric: return "Metric";
    case Msg::kAnyValue: return "AnyValue";
    case Msg::kKeyValue: return "KeyValue";
    default: return "message";
  }
}

constexpr int kMaxDepth = 64;

class Reader {
 public:
  explicit Reader(std::string_view b) : p_(b.data()), end_(b.data() + b.size()) {}
  bool done() const { return p_ >= end_; }

  bool Varint(std::uint64_t& out) {
    out = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) return false;
      const auto byte = static_cast<std::uint8_t>(*p_++);
      out |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  }
  bool Fixed(std::size_t n, std::uint64_t& out) {
    if (static_cast<std::size_t>(end_ - p_) < n) return false;
    out = 0;
    for (std::size_t i = 0; i < n; ++i) {
      out |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(p_[i])) << (8 * i);
    }
    p_ += n;
    return true;
  }
  bool Bytes(std::string_view& out) {
    std::uint64_t len = 0;
    if (!Varint(len) || len > static_cast<std::uint64_t>(end_ - p_)) return false;
    out = std::string_view(p_, static_cast<std::size_t>(len));
    p_ += len;
    return true;
  }

 private:
  const char* p_;
  const char* end_;
};

std::string Hex(std::string_view b) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(b.size() * 2);
  for (unsigned char c : b) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

Status Bad(Msg m, std::uint32_t field, const std::string& what) {
  return Status::InvalidArgument(std::string("not an OTLP protobuf body: ") + MsgName(m) +
                                 " field " + std::to_string(field) + " " + what);
}

Status Decode(Msg m, std::string_view bytes, int depth, json::object& out);

Status Skip(Reader& r, std::uint32_t wire, Msg m, std::uint32_t field) {
  std::uint64_t v = 0;
  std::string_view b;
  switch (wire) {
    case 0: if (r.Varint(v)) return Status::Ok(); break;
    case 1: if (r.Fixed(8, v)) return Status::Ok(); break;
    case 2: if (r.Bytes(b)) return Status::Ok(); break;
    case 5: if (r.Fixed(4, v)) return Status::Ok(); break;
    default: return Bad(m, field, "has wire type " + std::to_string(wire) + " (groups are not OTLP)");
  }
  return Bad(m, field, "is truncated");
}

Status Decode(Msg m, std::string_view bytes, int depth, json::object& out) {
  if (depth > kMaxDepth) return Bad(m, 0, "nests deeper than 64 levels");
  const Schema& schema = SchemaOf(m);
  Reader r(bytes);
  while (!r.done()) {
    std::uint64_t tag = 0;
    if (!r.Varint(tag)) return Bad(m, 0, "has a truncated tag");
    const auto field = static_cast<std::uint32_t>(tag >> 3);
    const auto wire = static_cast<std::uint32_t>(tag & 7);
    if (field == 0) return Bad(m, 0, "has field number 0");
    auto it = schema.find(field);
    if (it == schema.end()) {
      VK_RETURN_IF_ERROR(Skip(r, wire, m, field));
      continue;
    }
    const Field& f = it->second;
    json::value value;
    std::uint64_t v = 0;
    std::string_view b;
    const auto expect = [&](std::uint32_t w) {
      return wire == w ? Status::Ok()
                       : Bad(m, field, std::string("(") + f.name + ") has wire type " +
                                           std::to_string(wire) + ", expected " + std::to_string(w));
    };
    switch (f.kind) {
      case Kind::kString:
      case Kind::kHex:
      case Kind::kBase64:
      case Kind::kMessage:
        VK_RETURN_IF_ERROR(expect(2));
        if (!r.Bytes(b)) return Bad(m, field, std::string("(") + f.name + ") is truncated");
        if (f.kind == Kind::kString) {
          // proto3 strings are UTF-8; the JSON we hand on must be too (protobuf's own parsers
          // reject such a message as well).
          if (const std::size_t at = vibekit::internal::FindInvalidUtf8(b); at != b.size()) {
            return Bad(m, field, std::string("(") + f.name + ") is not valid UTF-8 at byte " +
                                     std::to_string(at));
          }
          value = json::string(b);
        } else if (f.kind == Kind::kHex) {
          value = Hex(b);
        } else if (f.kind == Kind::kBase64) {
          value = internal::Base64(b);
        } else {
          json::object sub;
          VK_RETURN_IF_ERROR(Decode(f.message, b, depth + 1, sub));
          value = std::move(sub);
        }
        break;
      case Kind::kBool:
      case Kind::kInt32:
      case Kind::kInt64:
        VK_RETURN_IF_ERROR(expect(0));
        if (!r.Varint(v)) return Bad(m, field, std::string("(") + f.name + ") is truncated");
        if (f.kind == Kind::kBool) value = v != 0;
        else if (f.kind == Kind::kInt32) value = static_cast<std::int64_t>(static_cast<std::int32_t>(v));
        else value = std::to_string(static_cast<std::int64_t>(v));
        break;
      case Kind::kFixed64:
      case Kind::kSfixed64:
      case Kind::kDouble:
        VK_RETURN_IF_ERROR(expect(1));
        if (!r.Fixed(8, v)) return Bad(m, field, std::string("(") + f.name + ") is truncated");
        if (f.kind == Kind::kFixed64) value = std::to_string(v);
        else if (f.kind == Kind::kSfixed64) value = std::to_string(static_cast<std::int64_t>(v));
        else {
          const double d = std::bit_cast<double>(v);
          value = d;  // non-finite values are not representable in JSON; written as null below
          if (d != d || d - d != 0) value = nullptr;
        }
        break;
      case Kind::kFixed32:
        VK_RETURN_IF_ERROR(expect(5));
        if (!r.Fixed(4, v)) return Bad(m, field, std::string("(") + f.name + ") is truncated");
        value = static_cast<std::int64_t>(v);
        break;
    }
    if (value.is_null()) continue;
    if (f.repeated) {
      json::value& slot = out[f.name];
      if (!slot.is_array()) slot = json::array();
      slot.get_array().push_back(std::move(value));
    } else if (f.kind == Kind::kMessage && out.contains(f.name) && out[f.name].is_object() &&
               value.is_object()) {
      // A singular message seen twice is merged (protobuf rule).
      for (auto& [k, v2] : value.get_object()) out[f.name].get_object()[k] = std::move(v2);
    } else {
      out[f.name] = std::move(value);
    }
  }
  return Status::Ok();
}

void PutVarint(std::string& out, std::uint64_t v) {
  do {
    const auto byte = static_cast<unsigned char>(v & 0x7f);
    v >>= 7;
    out.push_back(static_cast<char>(v ? byte | 0x80 : byte));
  } while (v);
}

}  // namespace

std::string PartialSuccessProtobuf(std::int64_t rejected, std::string_view error_message) {
  if (rejected <= 0 && error_message.empty()) return {};
  std::string inner;
  if (rejected > 0) {
    inner.push_back('\x08');  // field 1, varint
    PutVarint(inner, static_cast<std::uint64_t>(rejected));
  }
  if (!error_message.empty()) {
    inner.push_back('\x12');  // field 2, length-delimited
    PutVarint(inner, error_message.size());
    inner.append(error_message);
  }
  std::string out(1, '\x0a');  // field 1, length-delimited
  PutVarint(out, inner.size());
  return out + inner;
}

Result<std::string> OtlpProtobufToJson(OtlpSignal signal, std::string_view bytes) {
  try {
    const Msg root = signal == OtlpSignal::kTraces ? Msg::kTraceRequest
                     : signal == OtlpSignal::kLogs ? Msg::kLogsRequest
                                                   : Msg::kMetricsRequest;
    json::object out;
    VK_RETURN_IF_ERROR(Decode(root, bytes, 0, out));
    return json::serialize(out);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("OTLP protobuf decoder: ") + e.what());
  }
}

}  // namespace vibekit::otlp
