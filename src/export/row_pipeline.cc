#include "export/row_pipeline.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <string>
#include <utility>

#include "common/privacy.h"
#include "common/sys.h"

namespace vibekit::exporting {

RowPipeline::RowPipeline(store::ScanVisitor& downstream, Options options)
    : downstream_(downstream),
      options_{std::max<std::size_t>(options.chunk_rows, 1),
               std::max<std::size_t>(options.max_chunks, 2), options.privacy} {
  resume_free_ = std::max<std::size_t>(1, (options_.max_chunks - 1) / 2);
  current_ = std::make_unique<Chunk>();
  for (std::size_t i = 1; i < options_.max_chunks; ++i) free_.push_back(std::make_unique<Chunk>());
  thread_ = std::thread([this] {
    internal::NameThisThread("vk-export-rows");
    Run();
  });
}

RowPipeline::~RowPipeline() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    queued_.clear();  // abandoned: the export failed or was not finished
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status RowPipeline::OnCounts(const store::ScanCounts& counts) {
  // Before any row, so stage 2 is idle; the hand-over's mutex publishes what this wrote.
  return downstream_.OnCounts(counts);
}

template <typename Row>
Row& RowPipeline::NextSlot(std::vector<Row>& rows, std::size_t& used) {
  if (used == rows.size()) rows.emplace_back();
  return rows[used++];  // assigned by copy, which keeps the slot's string capacity
}

Status RowPipeline::Added(Kind kind) {
  current_->order.push_back(kind);
  return current_->order.size() >= options_.chunk_rows ? HandOver() : Status::Ok();
}

Status RowPipeline::OnSession(const Session& session) {
  NextSlot(current_->sessions, current_->n_sessions) = session;
  return Added(Kind::kSession);
}
Status RowPipeline::OnEvent(const Event& event) { return OnStoredEvent(event, {}); }
Status RowPipeline::OnError(const ErrorRecord& error) {
  NextSlot(current_->errors, current_->n_errors) = error;
  return Added(Kind::kError);
}

Event& RowPipeline::NextEventSlot(store::StoredTexts encoded) {
  Chunk& c = *current_;
  if (c.encoded.size() <= c.n_events) {
    c.encoded.resize(c.n_events + 1);
    c.prepared.resize(c.n_events + 1);
  }
  c.encoded[c.n_events] = encoded;
  c.prepared[c.n_events] = 0;
  return NextSlot(c.events, c.n_events);
}

Status RowPipeline::EventAdded(Event& slot, store::StoredTexts encoded) {
  if (queued_count_.load(std::memory_order_relaxed) + 2 >= options_.max_chunks &&
      (encoded.prompt || encoded.stream_data ||
       (options_.privacy != nullptr && !encoded.privacy_applied))) {
    // Stage 2 is behind: every other chunk waits for it, so stage 1 has time to prepare.
    VK_RETURN_IF_ERROR(Prepare(slot, encoded, stage1_decoded_));
    current_->prepared[current_->n_events - 1] = 1;
    ++stage1_prepared_events_;
  }
  return Added(Kind::kEvent);
}

Status RowPipeline::OnStoredEvent(const Event& event, store::StoredTexts encoded) {
  Event& slot = NextEventSlot(encoded);
  slot = event;  // assigned by copy, which keeps the slot's string capacity
  return EventAdded(slot, encoded);
}

Status RowPipeline::TakeStoredEvent(Event& event, store::StoredTexts encoded) {
  Event& slot = NextEventSlot(encoded);
  std::swap(slot, event);  // the caller reads its next row into the slot's old strings
  return EventAdded(slot, encoded);
}

Status RowPipeline::Prepare(Event& event, const store::StoredTexts& encoded,
                            std::string& buffer) const {
  const auto decode = [&buffer](std::optional<std::string>& text) -> Status {
    VK_RETURN_IF_ERROR(store::DecodeStoredText(*text, &buffer));
    text->swap(buffer);
    return Status::Ok();
  };
  if (encoded.prompt) VK_RETURN_IF_ERROR(decode(event.prompt));
  if (encoded.stream_data) VK_RETURN_IF_ERROR(decode(event.stream_data));
  // Stored through the same settings (the store's privacy range): applying them again would
  // change nothing.
  if (!encoded.privacy_applied) ApplyPrivacy(event);
  return Status::Ok();
}

template <typename Row>
void RowPipeline::ApplyPrivacy(Row& row) const {
  if (options_.privacy != nullptr) options_.privacy->ApplyOutgoingIfChanged(row);
}

Status RowPipeline::HandOver() {
  std::unique_lock lock(mu_);
  if (free_.empty()) {
    // Blocked: resume once half the chunks are free, so that on a busy machine each wake-up
    // (which may wait for a time slice) is worth many chunks.
    cv_.wait(lock, [this] { return free_.size() >= resume_free_ || !error_.ok(); });
  }
  if (!error_.ok()) return error_;
  queued_.push_back(std::move(current_));
  queued_count_.store(queued_.size(), std::memory_order_relaxed);
  current_ = std::move(free_.back());
  free_.pop_back();
  ++handed_over_;
  if (queued_.size() == 1) cv_.notify_all();  // stage 2 waits only when nothing is queued
  return Status::Ok();
}

Status RowPipeline::Finish() {
  if (current_ != nullptr && !current_->order.empty()) VK_RETURN_IF_ERROR(HandOver());
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return (queued_.empty() && !busy_) || !error_.ok(); });
  return error_;
}

void RowPipeline::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || !queued_.empty(); });
    if (queued_.empty()) return;  // stopped
    std::unique_ptr<Chunk> chunk = std::move(queued_.front());
    queued_.pop_front();
    queued_count_.store(queued_.size(), std::memory_order_relaxed);
    busy_ = true;
    const bool failed = !error_.ok();
    lock.unlock();
    Status st = failed ? Status::Ok() : Deliver(*chunk);
    chunk->Clear();
    lock.lock();
    busy_ = false;
    if (!st.ok() && error_.ok()) error_ = std::move(st);
    free_.push_back(std::move(chunk));
    // Stage 1 waits for resume_free_ free chunks; Finish for an empty queue.
    if (free_.size() == resume_free_ || queued_.empty() || !error_.ok()) cv_.notify_all();
  }
}

Status RowPipeline::Deliver(Chunk& chunk) {
  try {
    std::size_t s = 0, e = 0, r = 0;
    for (const Kind kind : chunk.order) {
      switch (kind) {
        case Kind::kSession: {
          Session& session = chunk.sessions[s++];
          ApplyPrivacy(session);
          VK_RETURN_IF_ERROR(downstream_.OnSession(session));
          break;
        }
        case Kind::kEvent: {
          Event& event = chunk.events[e];
          if (chunk.prepared[e] == 0) VK_RETURN_IF_ERROR(Prepare(event, chunk.encoded[e], decoded_));
          ++e;
          VK_RETURN_IF_ERROR(downstream_.OnEvent(event));
          break;
        }
        case Kind::kError: {
          ErrorRecord& error = chunk.errors[r++];
          ApplyPrivacy(error);
          VK_RETURN_IF_ERROR(downstream_.OnError(error));
          break;
        }
      }
    }
    return Status::Ok();
  } catch (const std::exception& ex) {
    return Status::Internal(std::string("export formatting: ") + ex.what());
  } catch (...) {
    return Status::Internal("export formatting: unexpected exception");
  }
}

namespace {
std::atomic<PipelineMode> g_mode{PipelineMode::kAuto};
}  // namespace

bool UsePipeline() noexcept {
  switch (g_mode.load()) {
    case PipelineMode::kOn:
      return true;
    case PipelineMode::kOff:
      return false;
    case PipelineMode::kAuto:
      break;
  }
  return std::thread::hardware_concurrency() >= 2;
}

void SetPipelineModeForTesting(PipelineMode mode) noexcept { g_mode.store(mode); }

}  // namespace vibekit::exporting
