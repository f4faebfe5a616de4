#include "cli/progress.h"

#include "store/postgres/pg_store.h"

#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace vibekit::cli {
namespace {

// "850 items", "12.3k items", "512 B", "12.3 MB", each followed by `suffix` ("/s" or "").
std::string Scaled(double v, ProgressUnit unit, const char* suffix) {
  const bool bytes = unit == ProgressUnit::kBytes;
  char buf[64];
  if (v < 999.5) {
    std::snprintf(buf, sizeof buf, "%.0f %s%s", v, bytes ? "B" : "items", suffix);
    return buf;
  }
  static constexpr const char* kBytePrefix[] = {"kB", "MB", "GB", "TB"};
  static constexpr const char* kItemPrefix[] = {"k", "M", "G", "T"};
  int i = 0;
  v /= 1000;
  while (i < 3 && v >= 999.95) {
    v /= 1000;
    ++i;
  }
  if (bytes) {
    std::snprintf(buf, sizeof buf, "%.1f %s%s", v, kBytePrefix[i], suffix);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f%s items%s", v, kItemPrefix[i], suffix);
  }
  return buf;
}

int StderrWidth() {
  winsize ws{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

double SteadySeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void WriteStderr(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

std::int64_t FileSize(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? static_cast<std::int64_t>(st.st_size) : 0;
}

}  // namespace

double ProgressDelaySeconds() {
  const char* raw = std::getenv("VIBEKIT_PROGRESS_AFTER_MS");
  if (raw == nullptr || *raw == '\0') return 1.0;
  errno = 0;
  char* end = nullptr;
  const long long ms = std::strtoll(raw, &end, 10);
  if (errno != 0 || *end != '\0' || ms < 0) return 1.0;
  return static_cast<double>(ms) / 1000.0;
}

std::string DatabaseFilesDetail(const std::string& db_path) {
  // A PostgreSQL database has no files of ours to watch: the spinner and the time only.
  if (store::postgres::IsPostgresUrl(db_path)) return {};
  return "database " + FormatAmount(static_cast<double>(FileSize(db_path)), ProgressUnit::kBytes) +
         ", WAL " + FormatAmount(static_cast<double>(FileSize(db_path + "-wal")), ProgressUnit::kBytes);
}

std::string FormatActivityLine(std::string_view label, double elapsed_s, int frame,
                               std::string_view detail, int width) {
  static constexpr char kSpinner[] = {'|', '/', '-', '\\'};
  const auto max_len = static_cast<std::size_t>(std::max(1, width - 1));
  const auto elapsed = static_cast<long long>(std::max(0.0, std::floor(elapsed_s)));
  char clock[32];
  if (elapsed >= 3600) {
    std::snprintf(clock, sizeof clock, "%lld:%02lld:%02lld", elapsed / 3600, (elapsed / 60) % 60,
                  elapsed % 60);
  } else {
    std::snprintf(clock, sizeof clock, "%lld:%02lld", elapsed / 60, elapsed % 60);
  }
  std::string line = std::string(label) + "  " + kSpinner[((frame % 4) + 4) % 4] + "  " + clock;
  if (!detail.empty()) line += "  " + std::string(detail);
  if (line.size() > max_len) line.resize(max_len);
  return line;
}

std::string FormatAmount(double amount, ProgressUnit unit) {
  amount = std::max(0.0, amount);
  return Scaled(amount, unit, "");
}

std::string FormatRate(double per_second, ProgressUnit unit) {
  if (!(per_second >= 0) || std::isinf(per_second)) {
    return unit == ProgressUnit::kBytes ? "-- B/s" : "-- items/s";
  }
  return Scaled(per_second, unit, "/s");
}

std::string FormatEta(double seconds) {
  if (!(seconds >= 0) || seconds > 99 * 3600.0) return "--:--";
  const auto s = static_cast<long long>(std::ceil(seconds));
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  }
  return buf;
}

std::string FormatProgressLine(std::string_view label, std::int64_t done, std::int64_t total,
                               double elapsed_s, ProgressUnit unit, int width) {
  const auto max_len = static_cast<std::size_t>(std::max(1, width - 1));
  const double rate = elapsed_s > 0 ? static_cast<double>(done) / elapsed_s : -1;
  std::string line;
  if (total <= 0) {
    line = std::string(label) + "  " + FormatAmount(static_cast<double>(done), unit) + "  " +
           FormatRate(rate, unit);
  } else {
    const double fraction = std::clamp(static_cast<double>(done) / static_cast<double>(total), 0.0, 1.0);
    char pct[8];
    std::snprintf(pct, sizeof pct, "%3d%%", static_cast<int>(std::floor(fraction * 100)));
    const double eta = rate > 0 ? static_cast<double>(std::max<std::int64_t>(0, total - done)) / rate : -1;
    const std::string tail = std::string(pct) + "  " + FormatRate(rate, unit) + "  ETA " + FormatEta(eta);
    const std::string head(label);
    // head + " [" + bar + "] " + tail
    const long room = static_cast<long>(max_len) - static_cast<long>(head.size() + tail.size() + 4);
    const long bar = std::min<long>(40, room);
    if (bar >= 5) {
      const auto filled = static_cast<long>(std::floor(fraction * static_cast<double>(bar)));
      line = head + " [" + std::string(static_cast<std::size_t>(filled), '#') +
             std::string(static_cast<std::size_t>(bar - filled), '.') + "] " + tail;
    } else {
      line = head + " " + tail;
    }
  }
  if (line.size() > max_len) line.resize(max_len);
  return line;
}

ProgressReporter::ProgressReporter(Options options, Sink sink, Clock clock)
    : options_(std::move(options)), sink_(std::move(sink)), clock_(std::move(clock)) {
  if (options_.enabled) start_ = clock_();
}

ProgressReporter::~ProgressReporter() { Finish(); }

std::unique_ptr<ProgressReporter> ProgressReporter::ForStderr(std::string label, ProgressUnit unit,
                                                              bool quiet) {
  Options o;
  o.label = std::move(label);
  o.unit = unit;
  o.enabled = !quiet && isatty(STDERR_FILENO) != 0;
  o.width = o.enabled ? StderrWidth() : 80;
  o.show_after_s = ProgressDelaySeconds();
  return std::make_unique<ProgressReporter>(std::move(o), WriteStderr, SteadySeconds);
}

void ProgressReporter::Update(std::int64_t done, std::int64_t total) {
  if (!options_.enabled || finished_) return;
  done_ = done;
  total_ = total;
  const double now = clock_();
  if (now - start_ < options_.show_after_s) return;
  if (drawn_ && now - last_draw_ < options_.min_interval_s) return;
  Draw(now);
}

void ProgressReporter::Finish() {
  if (!options_.enabled || finished_) return;
  finished_ = true;
  if (drawn_) sink_("\r\033[K");
}

void ProgressReporter::Draw(double now) {
  last_draw_ = now;
  drawn_ = true;
  sink_("\r" + FormatProgressLine(options_.label, done_, total_, now - start_, options_.unit,
                                  options_.width) +
        "\033[K");
}

// --- ActivityIndicator ----------------------------------------------------------------------

ActivityIndicator::ActivityIndicator(Options options, Sink sink, Detail detail)
    : options_(std::move(options)), sink_(std::move(sink)), detail_(std::move(detail)) {
  if (options_.enabled) thread_ = std::thread([this] { Run(); });
}

ActivityIndicator::~ActivityIndicator() { Stop(); }

std::unique_ptr<ActivityIndicator> ActivityIndicator::ForStderr(std::string label, bool quiet,
                                                                Detail detail) {
  Options o;
  o.label = std::move(label);
  o.enabled = !quiet && isatty(STDERR_FILENO) != 0;
  o.width = o.enabled ? StderrWidth() : 80;
  o.show_after_s = ProgressDelaySeconds();
  return std::make_unique<ActivityIndicator>(std::move(o), WriteStderr, std::move(detail));
}

void ActivityIndicator::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (drawn_) sink_("\r\033[K");
}

void ActivityIndicator::Run() {
  const auto start = std::chrono::steady_clock::now();
  auto at = [&](double s) {
    return start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                       std::chrono::duration<double>(s));
  };
  std::unique_lock lock(mu_);
  // With no delay the first frame is drawn even if Stop() came first, so what is shown does not
  // depend on thread scheduling.
  if (options_.show_after_s > 0 &&
      cv_.wait_until(lock, at(options_.show_after_s), [this] { return stop_; })) {
    return;
  }
  for (int frame = 0;; ++frame) {
    lock.unlock();
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::string detail = detail_ ? detail_() : std::string();
    sink_("\r" + FormatActivityLine(options_.label, elapsed, frame, detail, options_.width) +
          "\033[K");
    drawn_ = true;
    lock.lock();
    if (cv_.wait_for(lock, std::chrono::duration<double>(options_.interval_s),
                     [this] { return stop_; })) {
      return;
    }
  }
}

}  // namespace vibekit::cli
