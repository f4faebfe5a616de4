#include "otlp/otlp_decode.h"

#include "otlp/otlp_attributes.h"

namespace vibekit::otlp {
namespace json = boost::json;
using namespace internal;  // NOLINT(google-build-using-namespace): this file's vocabulary

namespace {

Status DecodeRequest(const json::value& doc, const std::string& path, DecodedTrace& out) {
  VK_ASSIGN_OR_RETURN(const json::object* root, ObjectOf(doc, path));
  VK_ASSIGN_OR_RETURN(const json::array* resource_spans, ArrayAt(*root, "resourceSpans", path));
  if (resource_spans == nullptr) return Bad(path, "has no resourceSpans");
  for (std::size_t r = 0; r < resource_spans->size(); ++r) {
    const std::string rp = path + ".resourceSpans[" + std::to_string(r) + "]";
    VK_ASSIGN_OR_RETURN(const json::object* rs, ObjectOf((*resource_spans)[r], rp));
    VK_ASSIGN_OR_RETURN(const json::array* scope_spans, ArrayAt(*rs, "scopeSpans", rp));
    if (scope_spans == nullptr) continue;
    for (std::size_t s = 0; s < scope_spans->size(); ++s) {
      const std::string sp = rp + ".scopeSpans[" + std::to_string(s) + "]";
      VK_ASSIGN_OR_RETURN(const json::object* ss, ObjectOf((*scope_spans)[s], sp));
      VK_ASSIGN_OR_RETURN(const json::array* spans, ArrayAt(*ss, "spans", sp));
      if (spans == nullptr) continue;
      for (std::size_t i = 0; i < spans->size(); ++i) {
        const std::string at = sp + ".spans[" + std::to_string(i) + "]";
        VK_ASSIGN_OR_RETURN(const json::object* span, ObjectOf((*spans)[i], at));
        ++out.spans;
        VK_ASSIGN_OR_RETURN(json::object attrs, AttributesOf(*span, at));
        SpanDefaults d;
        std::optional<std::string> sid = StringAttr(attrs, "gen_ai.conversation.id");
        if (!sid || sid->empty()) {
          // Not a span of an agent session: only ours (or GenAI ones) carry events we can read.
          const json::value* evs = span->if_contains("events");
          if (evs != nullptr && evs->is_array()) {
            out.skipped_span_events += static_cast<std::int64_t>(evs->get_array().size());
          }
          continue;
        }
        d.session_id = std::move(*sid);
        d.agent_type = StringAttr(attrs, "gen_ai.agent.name").value_or("unknown");
        const json::value* parent = span->if_contains("parentSpanId");
        const bool root_span =
            parent == nullptr || (parent->is_string() && parent->get_string().empty());
        if (root_span) d.mode = StringAttr(attrs, "vibekit.mode");
        VK_RETURN_IF_ERROR(DecodeVibekitSpanEvents(*span, d, at, out.events, out.skipped_span_events));
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Result<DecodedTrace> DecodeTraceRequest(std::string_view text) {
  DecodedTrace out;
  Status st = ForEachJsonDocument(text, [&](const json::value& doc, const std::string& path) {
    return DecodeRequest(doc, path, out);
  });
  if (!st.ok()) return Status::InvalidArgument("not an OTLP trace request: " + st.message());
  return out;
}

}  // namespace vibekit::otlp
