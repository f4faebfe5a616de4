// Progress for long commands: a single line on stderr, redrawn in place ("\r"), with a bar,
// the percentage, the rate (items/s or MB/s) and the ETA:
//
//   importing [##########..........]  50%  12.3 MB/s  ETA 0:04
//
// When the total is unknown (e.g. stdin) there is no bar, percentage or ETA, only the amount
// done and the rate. Nothing at all is written when the reporter is disabled, which is what
// ForStderr() does when stderr is not a terminal (pipes, files, CI logs) or --quiet is given.
// The clock and the sink are injectable so the formatting can be tested.
//
// Work of unknown size done in one blocking call (VACUUM, ANALYZE, a purge) gets an
// ActivityIndicator instead: a spinner, the elapsed time and a detail the caller measures (the
// sizes of the database files), redrawn by a background thread, never a made-up percentage.
//
// Both appear only once the work has run for ProgressDelaySeconds() (1 s; the environment
// variable VIBEKIT_PROGRESS_AFTER_MS overrides it, e.g. 0 in tests), so quick commands print
// nothing extra.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace vibekit::cli {

enum class ProgressUnit { kItems, kBytes };

// "0 B", "999 B", "1.5 kB", "12.3 MB", "4.0 GB" (decimal units, like the rate).
std::string FormatAmount(double amount, ProgressUnit unit);
// "850 items/s", "12.3k items/s", "1.5M items/s"; bytes: "512 B/s", "1.5 kB/s", "12.3 MB/s".
std::string FormatRate(double per_second, ProgressUnit unit);
// "0:07", "12:34", "1:02:03"; "--:--" when unknown (negative, infinite or absurdly large).
std::string FormatEta(double seconds);

// One progress line (no "\r", no escape codes), at most `width` - 1 columns so it never wraps.
// `total` <= 0 means unknown. `elapsed_s` <= 0 means no rate yet.
std::string FormatProgressLine(std::string_view label, std::int64_t done, std::int64_t total,
                               double elapsed_s, ProgressUnit unit, int width);

// "vacuuming  |  0:03  database 48.2 MB, WAL 12.3 MB" (`frame` picks the spinner character out
// of "|/-\\"; `detail` may be empty), at most `width` - 1 columns.
std::string FormatActivityLine(std::string_view label, double elapsed_s, int frame,
                               std::string_view detail, int width);

// Seconds a command runs before progress appears: VIBEKIT_PROGRESS_AFTER_MS / 1000 when set to a
// whole number >= 0, else 1.
double ProgressDelaySeconds();

// "database 48.2 MB, WAL 12.3 MB": the current sizes of `db_path` and its -wal file (a missing
// WAL is 0 B).
std::string DatabaseFilesDetail(const std::string& db_path);

class ProgressReporter {
 public:
  using Sink = std::function<void(std::string_view)>;
  using Clock = std::function<double()>;  // monotonic seconds

  struct Options {
    std::string label;
    ProgressUnit unit = ProgressUnit::kItems;
    bool enabled = false;         // false: nothing is ever written
    int width = 80;               // terminal columns
    double min_interval_s = 0.1;  // redraws at most this often (the first and Finish always draw)
    double show_after_s = 0;      // nothing is drawn before this much time has passed
  };

  ProgressReporter(Options options, Sink sink, Clock clock);
  ~ProgressReporter();  // Finish()es

  // A reporter on stderr: enabled only when stderr is a TTY and `quiet` is false; width from
  // the terminal (80 when unknown); steady clock; shown after ProgressDelaySeconds().
  static std::unique_ptr<ProgressReporter> ForStderr(std::string label, ProgressUnit unit,
                                                     bool quiet);

  // Sets the amount done (and the total, 0 = unknown) and redraws if the last redraw is old
  // enough.
  void Update(std::int64_t done, std::int64_t total);
  // Clears the line (when anything was drawn); later updates draw nothing.
  void Finish();

  bool enabled() const { return options_.enabled; }

 private:
  void Draw(double now);

  Options options_;
  Sink sink_;
  Clock clock_;
  double start_ = 0;
  double last_draw_ = 0;
  bool drawn_ = false;
  bool finished_ = false;
  std::int64_t done_ = 0;
  std::int64_t total_ = 0;
};

// A spinner line for one blocking call of unknown length. A background thread redraws it every
// `interval_s` (from `show_after_s` on) until Stop() or destruction, which clear the line.
// Nothing is drawn, and no thread started, when disabled.
class ActivityIndicator {
 public:
  using Sink = std::function<void(std::string_view)>;
  using Detail = std::function<std::string()>;  // called on the drawing thread

  struct Options {
    std::string label;
    bool enabled = false;
    int width = 80;
    double show_after_s = 1.0;
    double interval_s = 0.1;
  };

  ActivityIndicator(Options options, Sink sink, Detail detail);
  ~ActivityIndicator();  // Stop()s
  ActivityIndicator(const ActivityIndicator&) = delete;
  ActivityIndicator& operator=(const ActivityIndicator&) = delete;

  // On stderr: enabled only when stderr is a TTY and `quiet` is false, shown after
  // ProgressDelaySeconds().
  static std::unique_ptr<ActivityIndicator> ForStderr(std::string label, bool quiet, Detail detail);

  // Stops the thread and clears the line if anything was drawn. Idempotent.
  void Stop();

  bool enabled() const { return options_.enabled; }

 private:
  void Run();

  const Options options_;
  Sink sink_;
  Detail detail_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  bool drawn_ = false;  // only touched by the drawing thread, read after join
  std::thread thread_;
};

}  // namespace vibekit::cli
