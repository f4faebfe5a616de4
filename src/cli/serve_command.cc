// `vibekit serve`: the HTTP API (docs/API.md) over the database until SIGINT or SIGTERM, then a
// clean shutdown: stop accepting, answer the requests in progress, flush and close the database.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "server/server.h"

namespace vibekit::cli {
namespace {

struct ServeArgs {
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

}  // namespace

void RegisterServeCommand(CLI::App& app, const GlobalOptions& global, Runner& run) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve the HTTP API and /metrics over the database");
  cmd->add_option("--port", args->port, "TCP port (0: any free port)")->check(CLI::Range(0, 65535));
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
  cmd->footer(
      "Prints \"VibeKit server: http://HOST:PORT\" once listening; SIGINT/SIGTERM stop it after\n"
      "answering the requests in progress and committing everything.\n"
      "Examples:\n  vibekit serve\n  vibekit serve --port 0 --db /tmp/t.db\n"
      "  vibekit serve --host 0.0.0.0 --token \"$(openssl rand -hex 16)\"");
  cmd->callback([&global, &run, args] {
    run = [&global, args]() -> int {
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
      auto started = server::TelemetryServer::Start(*service, options);
      if (!started.ok()) {
        (void)service->Shutdown();
        return started.status().IsValidationError() ? UsageError(started.status().message())
                                                    : Fail(started.status().message());
      }
      std::unique_ptr<server::TelemetryServer> srv = std::move(*started);
      std::printf("VibeKit server: %s\n", srv->url().c_str());
      std::fflush(stdout);
      const int sig = WaitForStopSignal(signals);
      if (!global.quiet) {
        std::fprintf(stderr, "vibekit: %s received, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
      }
      srv->Stop();
      srv.reset();
      s = service->Shutdown();
      if (!s.ok()) return FailStatus("flushing on shutdown", s, global);
      return kExitOk;
    };
  });
}

}  // namespace vibekit::cli
