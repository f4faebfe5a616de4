#include "cli/analytics_live.h"

#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include "views/time_arg.h"
#include "vibekit/analytics.h"
#include "vibekit/clock.h"

namespace vibekit::cli {
namespace {
namespace json = boost::json;

// SIGINT/SIGTERM end a monitor or the dashboard cleanly (terminal restored, exit 0).
std::atomic<bool> g_stop{false};
extern "C" void OnStopSignal(int) { g_stop.store(true); }

class StopSignals {
 public:
  StopSignals() {
    g_stop.store(false);
    struct sigaction sa {};
    sa.sa_handler = OnStopSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

// Sleeps up to `ms`, waking early on a stop signal; with `keys`, also returns when 'q' or 'Q' is
// read from standard input (which must then be in non-canonical mode).
bool WaitOrStop(std::int64_t ms, bool keys) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!g_stop.load()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          until - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) return false;
    const int slice = static_cast<int>(std::min<std::int64_t>(left, 100));
    if (keys) {
      pollfd p{STDIN_FILENO, POLLIN, 0};
      if (poll(&p, 1, slice) > 0) {
        char c = 0;
        const ssize_t n = read(STDIN_FILENO, &c, 1);
        if (n == 1 && (c == 'q' || c == 'Q')) return true;
        if (n == 0) keys = false;  // end of input: only signals and the interval remain
      }
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(slice));
    }
  }
  return true;
}

std::optional<std::int64_t> ParseInterval(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i == 0 || i > 9) return std::nullopt;
  const std::int64_t n = std::stoll(text.substr(0, i));
  const std::string unit = text.substr(i);
  std::int64_t ms = 0;
  if (unit == "ms") {
    ms = n;
  } else if (unit == "s" || unit.empty()) {
    ms = n * 1000;
  } else if (unit == "m") {
    ms = n * 60000;
  } else if (unit == "h") {
    ms = n * 3'600'000;
  } else {
    return std::nullopt;
  }
  if (ms < 100) return std::nullopt;
  return ms;
}

std::string_view SeverityText(AlertSeverity s) {
  switch (s) {
    case AlertSeverity::kLow: return "low";
    case AlertSeverity::kMedium: return "medium";
    case AlertSeverity::kHigh: return "high";
    case AlertSeverity::kCritical: return "critical";
  }
  return "medium";
}

json::value Opt(const std::optional<double>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

// Nearest rank, lower convention (as docs/ANALYTICS.md): the value of rank floor(q · (n − 1)).
std::optional<double> Quantile(std::vector<std::int64_t>& v, double q) {
  if (v.empty()) return std::nullopt;
  const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return static_cast<double>(v[k]);
}

json::object SnapshotJson(const DashboardMetrics& d) {
  return {{"generatedAt", d.generated_at},
          {"windowMinutes", d.window_minutes},
          {"events", d.events},
          {"activeSessions", d.active_sessions},
          {"throughputPerMin", d.throughput_per_min},
          {"errorRatePct", d.error_rate_pct},
          {"responseTimeP50Ms", Opt(d.response_time_p50_ms)},
          {"responseTimeP95Ms", Opt(d.response_time_p95_ms)}};
}

json::object AlertJson(const char* kind, const AlertEvent& a) {
  json::object o{{"type", kind},
                 {"id", a.id},
                 {"metric", a.metric},
                 {"value", a.value},
                 {"threshold", a.threshold},
                 {"direction", a.direction == AlertDirection::kAbove ? "above" : "below"},
                 {"severity", SeverityText(a.severity)},
                 {"firedAt", a.fired_at_ms},
                 {"message", a.message}};
  o["resolvedAt"] = a.resolved_at_ms ? json::value(*a.resolved_at_ms) : json::value(nullptr);
  return o;
}

// --threshold metric:value[:above|below[:severity]]
bool ParseThreshold(const std::string& text, std::string* metric, double* value,
                    AlertDirection* dir, AlertSeverity* sev) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t colon = text.find(':', start);
    parts.push_back(text.substr(start, colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (parts.size() < 2 || parts.size() > 4 || parts[0].empty()) return false;
  *metric = parts[0];
  try {
    std::size_t used = 0;
    *value = std::stod(parts[1], &used);
    if (used != parts[1].size()) return false;
  } catch (const std::exception&) {
    return false;
  }
  *dir = *metric == "throughput" ? AlertDirection::kBelow : AlertDirection::kAbove;
  if (parts.size() >= 3) {
    if (parts[2] == "above") {
      *dir = AlertDirection::kAbove;
    } else if (parts[2] == "below") {
      *dir = AlertDirection::kBelow;
    } else {
      return false;
    }
  }
  *sev = AlertSeverity::kHigh;
  if (parts.size() == 4) {
    const std::map<std::string, AlertSeverity> names = {{"low", AlertSeverity::kLow},
                                                        {"medium", AlertSeverity::kMedium},
                                                        {"high", AlertSeverity::kHigh},
                                                        {"critical", AlertSeverity::kCritical}};
    auto it = names.find(parts[3]);
    if (it == names.end()) return false;
    *sev = it->second;
  }
  return true;
}

// One frame of the dashboard as text lines (no escapes).
std::vector<std::string> Frame(const DashboardMetrics& d, const std::vector<AlertEvent>& active,
                               std::int64_t interval_ms) {
  std::vector<std::string> lines;
  char buf[256];
  lines.push_back("VibeKit telemetry  " + FormatTimestamp(d.generated_at) + "  (every " +
                  std::to_string(interval_ms / 1000) + " s, q or Ctrl-C quits)");
  lines.push_back("");
  std::snprintf(buf, sizeof buf, "events (last %lld min)   %lld",
                static_cast<long long>(d.window_minutes), static_cast<long long>(d.events));
  lines.push_back(buf);
  std::snprintf(buf, sizeof buf, "active sessions         %lld",
                static_cast<long long>(d.active_sessions));
  lines.push_back(buf);
  std::snprintf(buf, sizeof buf, "throughput              %.1f events/min", d.throughput_per_min);
  lines.push_back(buf);
  std::snprintf(buf, sizeof buf, "error rate              %.2f %%", d.error_rate_pct);
  lines.push_back(buf);
  if (d.response_time_p50_ms) {
    std::snprintf(buf, sizeof buf, "response time           p50 %.0f ms  p95 %.0f ms",
                  *d.response_time_p50_ms, d.response_time_p95_ms.value_or(0));
  } else {
    std::snprintf(buf, sizeof buf, "response time           -");
  }
  lines.push_back(buf);
  // Throughput per minute as a bar line, oldest left.
  static const char* kBars[] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  auto it = d.series.find("throughput");
  if (it != d.series.end()) {
    double top = 0;
    for (const MetricPoint& p : it->second) top = std::max(top, p.value.value_or(0));
    std::string bars;
    for (const MetricPoint& p : it->second) {
      const double v = p.value.value_or(0);
      const int level = top <= 0 ? 0 : static_cast<int>(v / top * 8 + 0.5);
      bars += kBars[std::clamp(level, 0, 8)];
    }
    lines.push_back("");
    std::snprintf(buf, sizeof buf, "events/min (max %.0f)", top);
    lines.push_back(buf);
    lines.push_back(bars);
  }
  lines.push_back("");
  if (active.empty()) {
    lines.push_back("alerts                  none");
  } else {
    for (const AlertEvent& a : active) {
      lines.push_back("ALERT [" + std::string(SeverityText(a.severity)) + "] " + a.message);
    }
  }
  return lines;
}

// Raw-ish terminal for the dashboard: no echo, keys without Enter, the alternate screen, the
// cursor hidden; everything restored when it goes out of scope (also on errors).
class TerminalSession {
 public:
  TerminalSession() {
    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_) == 0) {
      termios raw = saved_;
      raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);  // ISIG stays: Ctrl-C is SIGINT
      raw.c_cc[VMIN] = 0;
      raw.c_cc[VTIME] = 0;
      restore_ = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
    std::fputs("\x1b[?1049h\x1b[?25l", stdout);
    std::fflush(stdout);
  }
  ~TerminalSession() {
    std::fputs("\x1b[?25h\x1b[?1049l", stdout);
    std::fflush(stdout);
    if (restore_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  TerminalSession(const TerminalSession&) = delete;
  TerminalSession& operator=(const TerminalSession&) = delete;
  bool keys() const { return restore_; }

 private:
  termios saved_{};
  bool restore_ = false;
};

}  // namespace

void RegisterAnalyticsLiveCommands(CLI::App& analytics, const GlobalOptions& global,
                                   Runner& run) {
  // --- sessions ---
  struct SessionArgs {
    std::string agent, since, until, status;
  };
  auto sa = std::make_shared<SessionArgs>();
  CLI::App* ses = analytics.add_subcommand(
      "sessions", "Session outcomes and durations by agent (sessions started in the range)");
  ses->add_option("--agent", sa->agent, "Only this agent type");
  ses->add_option("--since", sa->since, "Started from: 30m, 24h, 7d, ISO 8601 or epoch ms");
  ses->add_option("--until", sa->until, "Started until (inclusive; default: now)");
  ses->add_option("--status", sa->status, "Only sessions now active|completed|failed|timeout");
  ses->footer("Examples:\n  vibekit telemetry analytics sessions --agent claude --since 7d "
              "--format json");
  ses->callback([&global, &run, sa] {
    run = [&global, sa]() -> int {
      SessionQueryFilter f;
      if (!ParseTimeFlag("--since", sa->since, &f.from_time)) return kExitUsage;
      if (!ParseTimeFlag("--until", sa->until, &f.to_time)) return kExitUsage;
      if (f.from_time && f.to_time && *f.from_time > *f.to_time) {
        return UsageError("--since is after --until");
      }
      if (!sa->status.empty()) {
        const std::map<std::string, SessionStatus> names = {
            {"active", SessionStatus::kActive}, {"completed", SessionStatus::kCompleted},
            {"failed", SessionStatus::kFailed}, {"timeout", SessionStatus::kTimeout}};
        auto it = names.find(sa->status);
        if (it == names.end()) {
          return UsageError("--status must be active, completed, failed or timeout (got \"" +
                            sa->status + "\")");
        }
        f.status = it->second;
      }
      if (!sa->agent.empty()) f.agent_type = sa->agent;
      auto service = OpenService(global, /*must_exist=*/true);
      if (!service) return kExitFailure;
      struct Group {
        std::int64_t sessions = 0, active = 0, completed = 0, failed = 0, timeout = 0;
        std::int64_t events = 0, errors = 0;
        std::vector<std::int64_t> durations;
      };
      std::map<std::string, Group> groups;
      f.limit = 5000;
      f.order = SortOrder::kAsc;
      for (f.offset = 0;; f.offset += f.limit) {
        auto page = service->QuerySessions(f);
        if (!page.ok()) {
          (void)service->Shutdown();
          return FailStatus("reading sessions", page.status(), global);
        }
        for (const Session& s : *page) {
          for (Group* g : {&groups[s.agent_type], &groups["(all)"]}) {
            ++g->sessions;
            g->events += s.event_count;
            g->errors += s.error_count;
            switch (s.status) {
              case SessionStatus::kActive: ++g->active; break;
              case SessionStatus::kCompleted: ++g->completed; break;
              case SessionStatus::kFailed: ++g->failed; break;
              case SessionStatus::kTimeout: ++g->timeout; break;
            }
            if (s.status != SessionStatus::kActive && s.duration) {
              g->durations.push_back(*s.duration);
            }
          }
        }
        if (static_cast<std::int64_t>(page->size()) < f.limit) break;
      }
      (void)service->Shutdown();
      Records records;
      records.columns = {"agent",  "sessions", "active", "completed", "failed",
                         "timeout", "successRatePct", "durationP50Ms", "durationP95Ms",
                         "errors"};
      for (auto& [agent, g] : groups) {
        const std::int64_t over = g.completed + g.failed + g.timeout;
        json::object row{{"agent", agent},
                         {"sessions", g.sessions},
                         {"active", g.active},
                         {"completed", g.completed},
                         {"failed", g.failed},
                         {"timeout", g.timeout},
                         {"events", g.events},
                         {"errors", g.errors}};
        row["successRatePct"] =
            over == 0 ? json::value(nullptr)
                      : json::value(100.0 * static_cast<double>(g.completed) /
                                    static_cast<double>(over));
        row["durationP50Ms"] = Opt(Quantile(g.durations, 0.5));
        row["durationP95Ms"] = Opt(Quantile(g.durations, 0.95));
        records.rows.push_back(std::move(row));
      }
      if (groups.size() == 2) records.rows.erase(records.rows.begin());  // (all) = the one agent
      Print(records, MakeOutput(global), stdout);
      return kExitOk;
    };
  });

  // --- performance ---
  struct PerfArgs {
    bool monitor = false;
    bool alerts = false;
    std::string interval = "60s";
    std::vector<std::string> thresholds;
    int iterations = 0;
  };
  auto pa = std::make_shared<PerfArgs>();
  CLI::App* perf = analytics.add_subcommand(
      "performance", "Last-hour performance snapshot, or monitor it and print alerts as they fire");
  perf->add_flag("--monitor", pa->monitor, "Check every --interval until Ctrl-C");
  perf->add_option("--interval", pa->interval, "Monitoring interval: 500ms, 10s, 1m (default 60s)");
  perf->add_flag("--alerts", pa->alerts, "While monitoring, print alerts and resolutions");
  perf->add_option("--threshold", pa->thresholds,
                   "metric:value[:above|below[:severity]], repeatable (defaults: "
                   "response_time:5000, error_rate:5, throughput:10:below, disk_usage:80)");
  perf->add_option("--iterations", pa->iterations, "Stop after this many checks (0 = until Ctrl-C)")
      ->check(CLI::NonNegativeNumber);
  perf->footer("Examples:\n  vibekit telemetry analytics performance\n"
               "  vibekit telemetry analytics performance --monitor --interval 60s --alerts "
               "--threshold response_time:5000");
  perf->callback([&global, &run, pa] {
    run = [&global, pa]() -> int {
      const std::optional<std::int64_t> interval = ParseInterval(pa->interval);
      if (!interval) {
        return UsageError("--interval must be a duration of at least 100ms such as 10s or 1m "
                          "(got \"" + pa->interval + "\")");
      }
      struct Rule {
        std::string metric;
        double value;
        AlertDirection dir;
        AlertSeverity sev;
      };
      std::vector<Rule> rules;
      for (const std::string& t : pa->thresholds) {
        Rule r;
        if (!ParseThreshold(t, &r.metric, &r.value, &r.dir, &r.sev)) {
          return UsageError("--threshold must be metric:value[:above|below[:severity]] (got \"" +
                            t + "\")");
        }
        rules.push_back(std::move(r));
      }
      if ((pa->alerts || !rules.empty() || pa->iterations > 0) && !pa->monitor) {
        return UsageError("--alerts, --threshold and --iterations go with --monitor");
      }
      auto service = OpenService(global, /*must_exist=*/true);
      if (!service) return kExitFailure;
      const OutputOptions out = MakeOutput(global);
      int code = kExitOk;
      {
        AnalyticsService a(*service);
        for (const Rule& r : rules) {
          Status st = a.SetAlertThreshold(r.metric, r.value, r.dir, r.sev);
          if (!st.ok()) {
            code = UsageError(st.message());
            break;
          }
        }
        if (code == kExitOk && !pa->monitor) {
          auto d = a.GetDashboardMetrics();
          if (!d.ok()) {
            code = Fail("cannot compute the performance snapshot: " + d.status().message());
          } else {
            PrintObject(SnapshotJson(*d), out, stdout);
          }
        } else if (code == kExitOk) {
          StopSignals signals;
          std::mutex print_mu;
          // Alerts as lines: NDJSON objects for json/ndjson, one readable line otherwise.
          auto print_alert = [&](const char* kind, const AlertEvent& e) {
            std::lock_guard lock(print_mu);
            if (out.format == Format::kJson || out.format == Format::kNdjson) {
              std::fprintf(stdout, "%s\n", json::serialize(AlertJson(kind, e)).c_str());
            } else {
              std::fprintf(stdout, "%s %s [%s] #%lld %s\n", FormatTimestamp(e.fired_at_ms).c_str(),
                           std::string(kind) == "alert" ? "ALERT" : "RESOLVED",
                           std::string(SeverityText(e.severity)).c_str(),
                           static_cast<long long>(e.id), e.message.c_str());
            }
            std::fflush(stdout);
          };
          if (pa->alerts) {
            a.OnAlert([&](const AlertEvent& e) { print_alert("alert", e); });
            a.OnResolved([&](const AlertEvent& e) { print_alert("resolved", e); });
          }
          for (int n = 0; !g_stop.load(); ++n) {
            Status st = a.CheckAlertsNow();
            if (!st.ok()) std::fprintf(stderr, "vibekit: check failed: %s\n", st.ToString().c_str());
            if (!pa->alerts) {
              auto d = a.GetDashboardMetrics();
              if (d.ok()) {
                std::lock_guard lock(print_mu);
                std::fprintf(stdout, "%s\n", json::serialize(SnapshotJson(*d)).c_str());
                std::fflush(stdout);
              }
            }
            if (pa->iterations > 0 && n + 1 >= pa->iterations) break;
            if (WaitOrStop(*interval, false)) break;
          }
          a.WaitForAlertWebhook(5000);
        }
      }
      (void)service->Shutdown();
      return code;
    };
  });

  // --- dashboard ---
  struct DashArgs {
    std::string interval = "2s";
    int iterations = 0;
  };
  auto da = std::make_shared<DashArgs>();
  CLI::App* dash = analytics.add_subcommand(
      "dashboard", "Live terminal view of the last hour, refreshed in place (q or Ctrl-C quits)");
  dash->add_option("--interval", da->interval, "Refresh interval (default 2s)");
  dash->add_option("--iterations", da->iterations, "Stop after this many frames (0 = until q)")
      ->check(CLI::NonNegativeNumber);
  dash->footer("Without a terminal on standard output, one frame is printed as plain text.");
  dash->callback([&global, &run, da] {
    run = [&global, da]() -> int {
      const std::optional<std::int64_t> interval = ParseInterval(da->interval);
      if (!interval) {
        return UsageError("--interval must be a duration of at least 100ms such as 2s (got \"" +
                          da->interval + "\")");
      }
      auto service = OpenService(global, /*must_exist=*/true);
      if (!service) return kExitFailure;
      int code = kExitOk;
      {
        AnalyticsService a(*service);
        auto frame = [&]() -> Result<std::vector<std::string>> {
          Status st = a.CheckAlertsNow();
          if (!st.ok()) return st;
          VK_ASSIGN_OR_RETURN(DashboardMetrics d, a.GetDashboardMetrics());
          return Frame(d, a.ActiveAlerts(), *interval);
        };
        if (!isatty(STDOUT_FILENO)) {
          auto lines = frame();
          if (!lines.ok()) {
            code = Fail("cannot compute the dashboard: " + lines.status().message());
          } else {
            for (const std::string& l : *lines) std::printf("%s\n", l.c_str());
          }
        } else {
          StopSignals signals;
          TerminalSession term;
          for (int n = 0; !g_stop.load(); ++n) {
            auto lines = frame();
            std::string text = "\x1b[H\x1b[2J";  // home, clear: redraw in place
            if (lines.ok()) {
              for (const std::string& l : *lines) text += l + "\r\n";
            } else {
              text += "cannot compute the dashboard: " + lines.status().message() + "\r\n";
            }
            std::fputs(text.c_str(), stdout);
            std::fflush(stdout);
            if (da->iterations > 0 && n + 1 >= da->iterations) break;
            if (WaitOrStop(*interval, term.keys())) break;
          }
        }
      }
      (void)service->Shutdown();
      return code;
    };
  });
}

}  // namespace vibekit::cli
