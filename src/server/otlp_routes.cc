#include "server/otlp_routes.h"

#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "vibekit/clock.h"
#include "ingest/validation.h"
#include "otlp/otlp_protobuf.h"
#include "otlp/otlp_receive.h"

namespace vibekit::server {
namespace {
namespace json = boost::json;

// Sessions this server started recently, so two requests racing for a new session (the
// agent's logs and metrics exporters) add one start event, not two. Bounded: cleared when full
// (the store answers for the older ones).
class RecentSessions {
 public:
  bool Contains(std::string_view id) {
    std::lock_guard lock(mu_);
    return ids_.count(std::string(id)) > 0;
  }
  void Add(const std::vector<std::string>& ids) {
    std::lock_guard lock(mu_);
    if (ids_.size() + ids.size() > kMax) ids_.clear();
    ids_.insert(ids.begin(), ids.end());
  }

 private:
  static constexpr std::size_t kMax = 100000;
  std::mutex mu_;
  std::unordered_set<std::string> ids_;
};

Response Receive(const ApiContext& ctx, RecentSessions& recent, otlp::OtlpSignal signal,
                 Request& req) {
  std::string_view type = req.Header("content-type");
  if (const auto semi = type.find(';'); semi != std::string_view::npos) type = type.substr(0, semi);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  const bool protobuf = type == "application/x-protobuf" || type == "application/protobuf";
  if (!protobuf && !type.empty() && type != "application/json") {
    return ErrorResponse(415, "unsupported Content-Type " + std::string(type) +
                                  "; OTLP/HTTP bodies are application/json or "
                                  "application/x-protobuf");
  }
  std::string transcoded;
  if (protobuf) {
    Result<std::string> text = otlp::OtlpProtobufToJson(signal, req.body);
    if (!text.ok()) return StatusResponse(text.status());
    transcoded = std::move(*text);
  }
  const std::string& body = protobuf ? transcoded : req.body;
  // Serialises the "is it new?" decision with the submit, so concurrent requests about one new
  // session give it one start event.
  static std::mutex start_mu;
  std::unique_lock start_lock(start_mu);
  auto known = [&](std::string_view id) {
    if (recent.Contains(id)) return true;
    return ctx.service->GetSession(id).ok();
  };
  Result<otlp::ReceivedBatch> batch = otlp::ReceiveOtlpJson(signal, body, known);
  if (!batch.ok()) return StatusResponse(batch.status());

  const LocalStoreConfig& store_config = ctx.service->config().local_store;
  const std::int64_t now = SystemClock().NowMs();
  std::vector<Event> valid;
  valid.reserve(batch->events.size());
  std::int64_t rejected = batch->rejected;
  std::string message = batch->error_message;
  std::int64_t invalid = 0;
  std::string first_invalid;
  for (Event& e : batch->events) {
    Status s = ingest::ValidateEvent(e, store_config, now);
    if (s.ok()) s = ctx.service->ValidateEvent(e);  // the database's validation rules too
    if (!s.ok()) {
      if (invalid++ == 0) first_invalid = s.message();
      continue;
    }
    valid.push_back(std::move(e));
  }
  if (invalid > 0) {
    rejected += invalid;
    message += std::string(message.empty() ? "" : "; ") + std::to_string(invalid) +
               " records refused by validation: " + first_invalid;
  }
  double wait_s = 0;
  const auto accepted = static_cast<std::int64_t>(valid.size());
  if (!valid.empty()) {
    Status s = ctx.service->InsertValidatedBatch(std::move(valid));  // validated just above
    if (!s.ok()) return StatusResponse(s);
    recent.Add(batch->started_sessions);
    start_lock.unlock();
    const auto t0 = std::chrono::steady_clock::now();
    s = ctx.service->FlushBuffers();
    wait_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!s.ok()) return StatusResponse(s.WithContext("the OTLP records were not committed"));
  }
  ctx.metrics->RecordIngest(accepted, rejected, wait_s);
  // The answer uses the request's encoding (OTLP/HTTP); the protobuf ExportXServiceResponse
  // is written by hand: field 1 partial_success { field 1 rejected (int64), field 2 message }.
  Response r;
  if (protobuf) {
    r.content_type = "application/x-protobuf";
    r.body = otlp::PartialSuccessProtobuf(rejected, message);
  } else {
    r.body = otlp::PartialSuccessJson(signal, rejected, message);
  }
  return r;
}

}  // namespace

void AddOtlpRoutes(Router& router, const ApiContext& context) {
  const ApiContext* ctx = &context;
  auto recent = std::make_shared<RecentSessions>();
  router.Add("POST", "/v1/traces", [ctx, recent](Request& r) {
    return Receive(*ctx, *recent, otlp::OtlpSignal::kTraces, r);
  });
  router.Add("POST", "/v1/logs", [ctx, recent](Request& r) {
    return Receive(*ctx, *recent, otlp::OtlpSignal::kLogs, r);
  });
  router.Add("POST", "/v1/metrics", [ctx, recent](Request& r) {
    return Receive(*ctx, *recent, otlp::OtlpSignal::kMetrics, r);
  });
}

}  // namespace vibekit::server
