#include "cli/progress.h"

#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace vibekit::cli {
namespace {

TEST(ProgressFormat, RateScalesUnits) {
  EXPECT_EQ(FormatRate(850, ProgressUnit::kItems), "850 items/s");
  EXPECT_EQ(FormatRate(12'345, ProgressUnit::kItems), "12.3k items/s");
  EXPECT_EQ(FormatRate(1'500'000, ProgressUnit::kItems), "1.5M items/s");
  EXPECT_EQ(FormatRate(512, ProgressUnit::kBytes), "512 B/s");
  EXPECT_EQ(FormatRate(1'500, ProgressUnit::kBytes), "1.5 kB/s");
  EXPECT_EQ(FormatRate(12'300'000, ProgressUnit::kBytes), "12.3 MB/s");
  EXPECT_EQ(FormatRate(999'999, ProgressUnit::kBytes), "1.0 MB/s") << "no 1000.0 kB/s";
  EXPECT_EQ(FormatRate(-1, ProgressUnit::kBytes), "-- B/s");
  EXPECT_EQ(FormatRate(std::numeric_limits<double>::infinity(), ProgressUnit::kItems), "-- items/s");
  EXPECT_EQ(FormatAmount(4'000'000'000, ProgressUnit::kBytes), "4.0 GB");
  EXPECT_EQ(FormatAmount(0, ProgressUnit::kBytes), "0 B");
}

TEST(ProgressFormat, Eta) {
  EXPECT_EQ(FormatEta(0), "0:00");
  EXPECT_EQ(FormatEta(6.2), "0:07") << "rounds up";
  EXPECT_EQ(FormatEta(754), "12:34");
  EXPECT_EQ(FormatEta(3723), "1:02:03");
  EXPECT_EQ(FormatEta(-1), "--:--");
  EXPECT_EQ(FormatEta(std::nan("")), "--:--");
  EXPECT_EQ(FormatEta(1e12), "--:--");
}

TEST(ProgressFormat, LineWithKnownTotal) {
  const std::string line =
      FormatProgressLine("importing", 50, 100, 5.0, ProgressUnit::kBytes, 80);
  EXPECT_EQ(line, "importing [" + std::string(20, '#') + std::string(20, '.') +
                      "]  50%  10 B/s  ETA 0:05");
  const std::string done = FormatProgressLine("importing", 100, 100, 2.0, ProgressUnit::kItems, 80);
  EXPECT_NE(done.find("[" + std::string(40, '#') + "] 100%  50 items/s  ETA 0:00"),
            std::string::npos)
      << done;
}

TEST(ProgressFormat, LineWithUnknownTotalHasNoBarNorEta) {
  const std::string line =
      FormatProgressLine("importing", 1'500'000, 0, 5.0, ProgressUnit::kBytes, 80);
  EXPECT_EQ(line, "importing  1.5 MB  300.0 kB/s");
  EXPECT_EQ(FormatProgressLine("importing", 0, 0, 0, ProgressUnit::kBytes, 80),
            "importing  0 B  -- B/s");
}

TEST(ProgressFormat, LineFitsTheTerminalWidth) {
  for (int width : {10, 20, 30, 40, 50, 60, 80, 120, 200}) {
    const std::string line =
        FormatProgressLine("importing", 123'456, 1'000'000, 3.0, ProgressUnit::kBytes, width);
    EXPECT_LE(line.size(), static_cast<std::size_t>(width - 1)) << width << ": " << line;
    EXPECT_EQ(line.rfind("importing", 0), 0U) << line;
  }
  // Wide terminals: the bar stops at 40 cells; narrow ones shrink it, then drop it.
  const std::string wide = FormatProgressLine("x", 1, 2, 1.0, ProgressUnit::kItems, 200);
  EXPECT_NE(wide.find("[" + std::string(20, '#') + std::string(20, '.') + "]"), std::string::npos);
  const std::string narrow = FormatProgressLine("x", 1, 2, 1.0, ProgressUnit::kItems, 45);
  EXPECT_NE(narrow.find("[#"), std::string::npos) << narrow;
  EXPECT_EQ(narrow.size(), 44U) << narrow;
  const std::string tiny = FormatProgressLine("x", 1, 2, 1.0, ProgressUnit::kItems, 30);
  EXPECT_EQ(tiny.find('['), std::string::npos) << tiny;
  EXPECT_NE(tiny.find("50%"), std::string::npos) << tiny;
}

struct Fake {
  double now = 100.0;
  std::vector<std::string> writes;
  ProgressReporter Make(bool enabled, int width = 80) {
    ProgressReporter::Options o;
    o.label = "importing";
    o.unit = ProgressUnit::kBytes;
    o.enabled = enabled;
    o.width = width;
    return ProgressReporter(o, [this](std::string_view s) { writes.emplace_back(s); },
                            [this] { return now; });
  }
};

TEST(ProgressReporter, RedrawsOneLineInPlaceThrottledAndClearsIt) {
  Fake f;
  {
    ProgressReporter p = f.Make(true);
    f.now = 102.0;
    p.Update(1'000'000, 4'000'000);  // 500 kB/s, 3 MB to go: 6 s
    ASSERT_EQ(f.writes.size(), 1U);
    EXPECT_EQ(f.writes[0].rfind("\rimporting [##########", 0), 0U) << f.writes[0];
    EXPECT_NE(f.writes[0].find(" 25%  500.0 kB/s  ETA 0:06\033[K"), std::string::npos)
        << f.writes[0];
    EXPECT_EQ(f.writes[0].find('\n'), std::string::npos) << "one line, redrawn in place";
    f.now = 102.05;
    p.Update(1'100'000, 4'000'000);
    EXPECT_EQ(f.writes.size(), 1U) << "throttled";
    f.now = 104.0;
    p.Update(2'000'000, 4'000'000);
    ASSERT_EQ(f.writes.size(), 2U);
    EXPECT_NE(f.writes[1].find(" 50%  500.0 kB/s  ETA 0:04"), std::string::npos) << f.writes[1];
    p.Finish();
    ASSERT_EQ(f.writes.size(), 3U);
    EXPECT_EQ(f.writes[2], "\r\033[K");
    p.Update(3'000'000, 4'000'000);
  }
  EXPECT_EQ(f.writes.size(), 3U) << "nothing after Finish, nor from the destructor";
}

TEST(ProgressReporter, UnknownTotalShowsAmountAndRate) {
  Fake f;
  ProgressReporter p = f.Make(true);
  f.now = 104.0;
  p.Update(2'000'000, 0);
  ASSERT_EQ(f.writes.size(), 1U);
  EXPECT_EQ(f.writes[0], "\rimporting  2.0 MB  500.0 kB/s\033[K");
}

TEST(ProgressReporter, DisabledPrintsNothing) {
  Fake f;
  {
    ProgressReporter p = f.Make(false);
    f.now = 101;
    p.Update(1, 2);
    f.now = 200;
    p.Update(2, 2);
    p.Finish();
  }
  EXPECT_TRUE(f.writes.empty());
}

TEST(ProgressReporter, ForStderrIsSilentWhenStderrIsNotATerminal) {
  std::fflush(stderr);
  char path[] = "/tmp/vibekit_progress_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const int saved = dup(STDERR_FILENO);
  ASSERT_GE(saved, 0);
  ASSERT_GE(dup2(fd, STDERR_FILENO), 0);
  bool enabled = true;
  {
    auto p = ProgressReporter::ForStderr("importing", ProgressUnit::kBytes, /*quiet=*/false);
    enabled = p->enabled();
    p->Update(10, 100);
    p->Update(100, 100);
    p->Finish();
  }
  std::fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  const off_t size = lseek(fd, 0, SEEK_END);
  close(fd);
  unlink(path);
  EXPECT_FALSE(enabled);
  EXPECT_EQ(size, 0) << "a file on stderr gets no progress line";
}

TEST(ProgressReporter, DrawsNothingBeforeTheDelay) {
  Fake f;
  ProgressReporter::Options o;
  o.label = "importing";
  o.enabled = true;
  o.show_after_s = 1.0;
  ProgressReporter p(o, [&f](std::string_view s) { f.writes.emplace_back(s); },
                     [&f] { return f.now; });
  f.now = 100.5;
  p.Update(10, 100);
  EXPECT_TRUE(f.writes.empty()) << "0.5 s in";
  f.now = 101.0;
  p.Update(20, 100);
  ASSERT_EQ(f.writes.size(), 1U);
  EXPECT_NE(f.writes[0].find(" 20%"), std::string::npos) << f.writes[0];
}

TEST(ProgressReporter, QuickWorkLeavesNoTrace) {
  Fake f;
  ProgressReporter::Options o;
  o.label = "importing";
  o.enabled = true;
  o.show_after_s = 1.0;
  {
    ProgressReporter p(o, [&f](std::string_view s) { f.writes.emplace_back(s); },
                       [&f] { return f.now; });
    p.Update(100, 100);
    p.Finish();
  }
  EXPECT_TRUE(f.writes.empty()) << "nothing drawn, so nothing to clear";
}

TEST(ProgressFormat, ActivityLineHasSpinnerElapsedAndDetailButNoPercentage) {
  EXPECT_EQ(FormatActivityLine("vacuuming", 3.7, 0, "database 48.2 MB, WAL 0 B", 80),
            "vacuuming  |  0:03  database 48.2 MB, WAL 0 B");
  EXPECT_EQ(FormatActivityLine("vacuuming", 75, 1, "", 80), "vacuuming  /  1:15");
  EXPECT_EQ(FormatActivityLine("x", 3725, 2, "", 80), "x  -  1:02:05");
  EXPECT_EQ(FormatActivityLine("x", 0, 3, "", 80), "x  \\  0:00");
  EXPECT_EQ(FormatActivityLine("x", 0, 4, "", 80), "x  |  0:00") << "frames cycle";
  const std::string cut = FormatActivityLine("vacuuming", 1, 0, std::string(100, 'd'), 40);
  EXPECT_EQ(cut.size(), 39U) << "never wraps";
}

TEST(ProgressFormat, DelayComesFromTheEnvironment) {
  unsetenv("VIBEKIT_PROGRESS_AFTER_MS");
  EXPECT_EQ(ProgressDelaySeconds(), 1.0);
  setenv("VIBEKIT_PROGRESS_AFTER_MS", "0", 1);
  EXPECT_EQ(ProgressDelaySeconds(), 0.0);
  setenv("VIBEKIT_PROGRESS_AFTER_MS", "2500", 1);
  EXPECT_EQ(ProgressDelaySeconds(), 2.5);
  setenv("VIBEKIT_PROGRESS_AFTER_MS", "soon", 1);
  EXPECT_EQ(ProgressDelaySeconds(), 1.0) << "not a number: the default";
  setenv("VIBEKIT_PROGRESS_AFTER_MS", "-5", 1);
  EXPECT_EQ(ProgressDelaySeconds(), 1.0);
  unsetenv("VIBEKIT_PROGRESS_AFTER_MS");
}

TEST(ActivityIndicator, RedrawsUntilStoppedThenClearsTheLine) {
  std::mutex mu;
  std::vector<std::string> writes;
  ActivityIndicator::Options o;
  o.label = "vacuuming";
  o.enabled = true;
  o.show_after_s = 0;
  o.interval_s = 0.01;
  int details = 0;
  ActivityIndicator a(
      o,
      [&](std::string_view s) {
        std::lock_guard lock(mu);
        writes.emplace_back(s);
      },
      [&] { return "n=" + std::to_string(++details); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  a.Stop();
  a.Stop();  // idempotent
  std::lock_guard lock(mu);
  ASSERT_GE(writes.size(), 3U);
  EXPECT_EQ(writes[0], "\rvacuuming  |  0:00  n=1\033[K");
  EXPECT_EQ(writes[1], "\rvacuuming  /  0:00  n=2\033[K");
  EXPECT_EQ(writes.back(), "\r\033[K");
}

TEST(ActivityIndicator, NothingBeforeTheDelayNorWhenDisabled) {
  std::vector<std::string> writes;
  auto sink = [&](std::string_view s) { writes.emplace_back(s); };
  ActivityIndicator::Options o;
  o.label = "vacuuming";
  o.enabled = true;
  o.show_after_s = 30;
  {
    ActivityIndicator a(o, sink, nullptr);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }  // the destructor stops it
  EXPECT_TRUE(writes.empty());
  o.enabled = false;
  o.show_after_s = 0;
  {
    ActivityIndicator a(o, sink, nullptr);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(writes.empty());
}

TEST(ProgressFormat, DatabaseFilesDetailReportsBothSizes) {
  char path[] = "/tmp/vibekit_files_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, std::string(1500, 'x').data(), 1500), 1500);
  close(fd);
  EXPECT_EQ(DatabaseFilesDetail(path), "database 1.5 kB, WAL 0 B");
  unlink(path);
}

}  // namespace
}  // namespace vibekit::cli
