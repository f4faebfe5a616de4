// `vibekit serve` and `vibekit dashboard`: the HTTP API (docs/API.md) over the database until
// SIGINT or SIGTERM, then a clean shutdown: stop accepting, answer the requests in progress,
// flush and close the database. `dashboard` adds the dashboard listener (web assets built with
// `node web/build.mjs` when they are missing or older than web/src) and opens a browser.
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "cli/commands.h"
#include "server/server.h"

namespace vibekit::cli {
namespace {

namespace fs = std::filesystem;

struct ServeArgs {
  int dashboard_port = 4001;
  bool no_build = false;
  bool no_open = false;
  std::string web_dir;
  int port = 4000;
  std::string host = "127.0.0.1";
  std::string token;
  std::size_t max_body_bytes = 8 * 1024 * 1024;
  double rate_limit = 2000;
  std::string cors_origin;
};

// Blocks SIGINT and SIGTERM in this thread (and every thread started after), so they are only
// taken by WaitForStopSignal.
sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int WaitForStopSignal(const sigset_t& set) {
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  return sig;
}

// The directory of this executable (for <exe>/../share/vibekit/web), empty when unknown.
fs::path ExecutableDir() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return {};
  buf[n] = '\0';
  return fs::path(buf).parent_path();
}

// Newest modification time of any file under `dir`.
fs::file_time_type NewestUnder(const fs::path& dir) {
  fs::file_time_type newest{};
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file(ec)) newest = std::max(newest, it->last_write_time(ec));
  }
  return newest;
}

// Finds the web assets (docs/API.md "Web assets") and builds them from the source tree when
// that is where they come from and they are missing or stale. Messages go to stderr.
std::string ResolveWebDir(const ServeArgs& args, bool quiet) {
  std::error_code ec;
  if (!args.web_dir.empty()) return args.web_dir;
  if (const char* env = std::getenv("VIBEKIT_WEB_DIR"); env != nullptr && *env != '\0') return env;
  const fs::path installed = ExecutableDir() / ".." / "share" / "vibekit" / "web";
  if (fs::is_directory(installed, ec)) return installed.string();
#ifdef VIBEKIT_SOURCE_WEB_DIR
  const fs::path web = VIBEKIT_SOURCE_WEB_DIR;
  const fs::path dist = web / "dist";
  const fs::path src = web / "src";
  const fs::path script = web / "build.mjs";
  if (!args.no_build && fs::is_directory(src, ec)) {
    const bool missing = !fs::is_directory(dist, ec);
    const bool stale = !missing && NewestUnder(src) > NewestUnder(dist);
    if (missing || stale) {
      if (!fs::exists(script, ec)) {
        std::fprintf(stderr,
                     "vibekit: %s does not exist, so the dashboard's assets cannot be built; "
                     "serving what %s holds\n",
                     script.c_str(), dist.c_str());
      } else {
        if (!quiet) std::fprintf(stderr, "vibekit: building the dashboard (node %s)\n", script.c_str());
        const std::string cmd = std::string(VIBEKIT_NODE) + " '" + script.string() + "' >&2";
        const int rc = std::system(cmd.c_str());
        if (rc != 0) {
          std::fprintf(stderr, "vibekit: building the dashboard failed (exit %d); serving what "
                       "%s holds\n", rc, dist.c_str());
        }
      }
    }
  }
  return dist.string();
#else
  return {};
#endif
}

void OpenBrowser(const std::string& url) {
  const char* display = std::getenv("DISPLAY");
  const char* wayland = std::getenv("WAYLAND_DISPLAY");
  if ((display == nullptr || *display == '\0') && (wayland == nullptr || *wayland == '\0')) return;
  const pid_t pid = fork();
  if (pid == 0) {
    // A grandchild runs xdg-open, so nothing is left to reap.
    if (fork() == 0) {
      execlp("xdg-open", "xdg-open", url.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    _exit(0);
  }
  if (pid > 0) {
    int status = 0;
    waitpid(pid, &status, 0);
  }
}

int RunServer(const GlobalOptions& global, const ServeArgs& args_in, bool dashboard) {
  const ServeArgs* args = &args_in;
  const sigset_t signals = BlockStopSignals();
  TelemetryConfig config = MakeConfig(global);
  // A long-running process: the timeout sweep and live delivery run as in an application.
  const TelemetryConfig defaults;
  config.local_store.timeout_check_interval_ms =
      defaults.local_store.timeout_check_interval_ms;
  config.delivery.run_worker = defaults.delivery.run_worker;
  auto service = std::make_unique<TelemetryService>(config);
  Status s = service->Initialize();
  if (!s.ok()) return Fail("cannot open " + config.local_store.db_path + ": " + s.message());
  server::ServerOptions options;
  options.host = args->host;
  options.port = args->port;
  options.token = args->token;
  options.max_body_bytes = args->max_body_bytes;
  options.rate_limit_per_s = args->rate_limit;
  options.cors_origin = args->cors_origin;
  if (dashboard) {
    options.dashboard_port = args->dashboard_port;
    options.web_dir = ResolveWebDir(*args, global.quiet);
  }
  auto started = server::TelemetryServer::Start(*service, options);
  if (!started.ok()) {
    (void)service->Shutdown();
    return started.status().IsValidationError() ? UsageError(started.status().message())
                                                : Fail(started.status().message());
  }
  std::unique_ptr<server::TelemetryServer> srv = std::move(*started);
  std::printf("VibeKit server: %s\n", srv->url().c_str());
  if (dashboard) {
    std::printf("VibeKit dashboard: %s\n", srv->dashboard_url().c_str());
    if (!srv->has_web_assets()) {
      std::fprintf(stderr, "vibekit: no dashboard assets at %s; the dashboard port answers "
                   "404 until they are built (node web/build.mjs)\n",
                   options.web_dir.empty() ? "(none found)" : options.web_dir.c_str());
    }
  }
  std::fflush(stdout);
  if (dashboard && !args->no_open) {
    OpenBrowser(srv->dashboard_url() + (args->token.empty() ? "" : "#token=" + args->token));
  }
  const int sig = WaitForStopSignal(signals);
  if (!global.quiet) {
    std::fprintf(stderr, "vibekit: %s received, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  }
  srv->Stop();
  srv.reset();
  s = service->Shutdown();
  if (!s.ok()) return FailStatus("flushing on shutdown", s, global);
  return kExitOk;
}

void AddServerOptions(CLI::App* cmd, ServeArgs* args) {
  cmd->add_option("--port", args->port, "TCP port of the API (0: any free port)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--host", args->host,
                  "Address to listen on (other than loopback only with --token)");
  cmd->add_option("--token", args->token,
                  "Bearer token clients must send (Authorization: Bearer T)")
      ->envname("VIBEKIT_TOKEN");
  cmd->add_option("--max-body-bytes", args->max_body_bytes, "Largest request body (413 above)")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 32));
  cmd->add_option("--rate-limit", args->rate_limit,
                  "Requests per second per client IP (429 above; 0: no limit)")
      ->check(CLI::Range(0.0, 1e9));
  cmd->add_option("--cors-origin", args->cors_origin,
                  "Origin allowed to call the API from a browser (no CORS headers otherwise)");
}

}  // namespace

void RegisterServeCommand(CLI::App& app, const GlobalOptions& global, Runner& run) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve the HTTP API and /metrics over the database");
  AddServerOptions(cmd, args.get());
  cmd->footer(
      "Prints \"VibeKit server: http://HOST:PORT\" once listening; SIGINT/SIGTERM stop it after\n"
      "answering the requests in progress and committing everything.\n"
      "Examples:\n  vibekit serve\n  vibekit serve --port 0 --db /tmp/t.db\n"
      "  vibekit serve --host 0.0.0.0 --token \"$(openssl rand -hex 16)\"");
  cmd->callback([&global, &run, args] {
    run = [&global, args]() -> int { return RunServer(global, *args, /*dashboard=*/false); };
  });
}

void RegisterDashboardCommand(CLI::App& app, const GlobalOptions& global, Runner& run) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "dashboard", "Serve the API and the browser dashboard, and open it");
  AddServerOptions(cmd, args.get());
  cmd->add_option("--dashboard-port", args->dashboard_port,
                  "TCP port of the dashboard (0: any free port)")
      ->check(CLI::Range(0, 65535));
  cmd->add_flag("--no-build", args->no_build, "Do not build the web assets, serve what exists");
  cmd->add_flag("--no-open", args->no_open, "Do not open a browser");
  cmd->add_option("--web-dir", args->web_dir,
                  "Web assets (default: $VIBEKIT_WEB_DIR, <exe>/../share/vibekit/web, or the "
                  "source tree's web/dist)");
  cmd->footer(
      "Prints \"VibeKit server: http://HOST:PORT\" and \"VibeKit dashboard: http://HOST:PORT/\"\n"
      "once listening; opens the browser only when DISPLAY or WAYLAND_DISPLAY is set.\n"
      "Examples:\n  vibekit dashboard\n  vibekit dashboard --port 0 --dashboard-port 0 --no-open");
  cmd->callback([&global, &run, args] {
    run = [&global, args]() -> int { return RunServer(global, *args, /*dashboard=*/true); };
  });
}

}  // namespace vibekit::cli
