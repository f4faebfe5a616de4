// Load benchmark of the HTTP server over loopback, with our own client (libcurl keep-alive
// handles, one per connection thread; a Beast WebSocket client for the WebSocket run). Prints
// one JSON object:
//   library_events_per_s   InsertEventBatch(100) + FlushBuffers from C threads (the same
//                          durability as POST /api/events), straight into the library
//   http_events_per_s      POST /api/events with batches of 100 from C connections (answered
//                          after commit), and its ratio to the library's rate
//   http_cpu_us_per_event  CPU time of the whole process (client, server, writer: every thread)
//                          during that ingest, per event; http_cores_busy = that CPU over the
//                          wall time, cpu_bound_events_per_s_2_cores = 2 cores / CPU per event;
//                          http_client_cpu_us_per_event = of it, the load generator's POST
//                          threads (libcurl, their socket calls), and
//                          server_bound_events_per_s_2_cores = 2 cores / the rest (the server's
//                          CPU per event: what 2 cores would carry with the client elsewhere);
//                          http_writer_busy = the writer thread's CPU over that wall time,
//                          http_text_index_busy = the text index thread's (SQLite)
//   parse_cpu_us_per_event ParseEventBody (JSON + validation) of the same bodies on one thread
//   dashboard_ms           p50/p99/max of GET /api/dashboard polled every 50 ms during that ingest
//   http_wal_max_mb        the database's WAL file at its largest, sampled at each of those polls
//   ws_events_per_s        the same ingest with W WebSocket clients connected and subscribed to
//                          events, sessions and metrics as the dashboard is (the events preview;
//                          --ws-full: every event), reading everything, ratio to none
//   ws_cpu_us_per_event    the whole process's CPU per event during that ingest; of it
//                          ws_hub_cpu_us_per_event the server's WebSocket thread (vk-websocket)
//                          and ws_crowd_cpu_us_per_event the bench's own client thread (reading
//                          and unmasking every message), both from /proc/self/task/*/schedstat,
//                          and ws_writer_cpu_us_per_event the writer thread (which also keeps
//                          each commit's share of the open window for the hub)
// --rounds N repeats library / HTTP / HTTP+WebSocket (fresh databases) and prints medians and
// the per-round ratios (the machine is shared and noisy). --control adds to each round the
// WebSocket run with 0 clients, run right before the one with clients in even rounds and right
// after it in odd ones: control_vs_none is what ws_vs_none reads when the clients cost nothing,
// i.e. the spread of two runs of the same thing on this machine; ws_vs_control compares the two
// runs that differ only by the clients, and control_cpu_us_per_event is the control's CPU per
// event (ws_cpu_us_per_event minus it: what the clients cost the process, theirs included).
// --workload seeded (default): the seeded generator's events (src/workload: ~690 bytes of JSON
// each, prose/code/tool output that the text index tokenizes); --workload small: one session per
// batch, ~150-byte events with one short line of text. MB/s counts the request bodies' bytes.
#include <curl/curl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <atomic>
#include <optional>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/event_json.h"
#include "common/steady_ms.h"
#include "common/sys.h"
#include "ingest/event_body.h"
#include "server/server.h"
#include "vibekit/telemetry_service.h"
#include "workload/workload.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr const char* kPostThreadName = "bench-post";  // the load generator's POST threads

struct Args {
  int batches_per_connection = 200;
  int connections = 8;
  int batch = 100;
  int ws_clients = 200;
  std::string dir = "server-bench";
  std::string workload = "seeded";
  int rounds = 3;
  bool ws_full = false;  // the clients subscribe to every event, not the preview
  bool control = false;  // each round also runs the WebSocket run with 0 clients
};

vibekit::TelemetryConfig Config(const std::string& path) {
  vibekit::TelemetryConfig c;
  c.apply_environment = false;
  c.local_store.db_path = path;
  return c;
}

// Batch `b` of connection `c`: one session per batch (start, streams, end), ~120 bytes of output
// per stream event.
std::vector<vibekit::Event> MakeBatch(int c, int b, int n, std::int64_t t0) {
  std::vector<vibekit::Event> out;
  const std::string session = "bench-" + std::to_string(c) + "-" + std::to_string(b);
  for (int i = 0; i < n; ++i) {
    vibekit::Event e;
    e.session_id = session;
    e.agent_type = c % 2 == 0 ? "claude" : "codex";
    e.mode = "agent";
    e.event_type = i == 0 ? vibekit::EventType::kStart
                          : (i == n - 1 ? vibekit::EventType::kEnd : vibekit::EventType::kStream);
    if (i == 0) e.prompt = "Refactor the parser and add tests for the edge cases";
    if (e.event_type == vibekit::EventType::kStream) {
      e.stream_data = "line " + std::to_string(i) +
                      ": the parser now handles nested quotes and escaped separators correctly";
    }
    e.timestamp = t0 + b * 1000 + i;
    out.push_back(std::move(e));
  }
  return out;
}

std::string ToJson(const std::vector<vibekit::Event>& events) {
  std::string s = "[";
  for (std::size_t i = 0; i < events.size(); ++i) {
    const vibekit::Event& e = events[i];
    if (i) s += ',';
    s += R"({"sessionId":")" + e.session_id + R"(","eventType":")" +
         std::string(vibekit::EventTypeName(e.event_type)) + R"(","agentType":")" + e.agent_type +
         R"(","mode":"agent","timestamp":)" + std::to_string(e.timestamp);
    if (e.prompt) s += R"(,"prompt":")" + *e.prompt + "\"";
    if (e.stream_data) s += R"(,"streamData":")" + *e.stream_data + "\"";
    s += "}";
  }
  return s + "]";
}

// The batches of every connection, as events (library) and as request bodies (HTTP).
struct Work {
  std::vector<std::vector<std::vector<vibekit::Event>>> events;  // [connection][batch]
  std::vector<std::vector<std::string>> bodies;                  // [connection][batch]
  double body_bytes = 0;
};

Work MakeWork(const Args& a) {
  Work w;
  w.events.resize(a.connections);
  w.bodies.resize(a.connections);
  const std::int64_t t0 = 1764000000000;
  if (a.workload == "small") {
    for (int c = 0; c < a.connections; ++c) {
      for (int b = 0; b < a.batches_per_connection; ++b) {
        w.events[c].push_back(MakeBatch(c, b, a.batch, t0));
      }
    }
  } else {
    // Consecutive batches of the generator's stream go to the connections in turn.
    vibekit::workload::WorkloadOptions o;
    o.total_events = static_cast<std::int64_t>(a.connections) * a.batches_per_connection * a.batch;
    vibekit::workload::Generator g(o);
    for (int b = 0; b < a.batches_per_connection; ++b) {
      for (int c = 0; c < a.connections; ++c) {
        std::vector<vibekit::Event> batch(static_cast<std::size_t>(a.batch));
        for (vibekit::Event& e : batch) g.Next(&e);
        w.events[c].push_back(std::move(batch));
      }
    }
  }
  for (int c = 0; c < a.connections; ++c) {
    for (const auto& batch : w.events[c]) {
      std::string body;
      if (a.workload == "small") {
        body = ToJson(batch);
      } else {
        body = "[";
        for (std::size_t i = 0; i < batch.size(); ++i) {
          if (i) body += ',';
          body += vibekit::internal::EventToJson(batch[i]);
        }
        body += "]";
      }
      w.body_bytes += static_cast<double>(body.size());
      w.bodies[c].push_back(std::move(body));
    }
  }
  return w;
}

double LibraryRate(const Args& a, const Work& w, const std::string& path) {
  vibekit::TelemetryService service(Config(path));
  if (!service.Initialize().ok()) return 0;
  auto work = w.events;
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < a.connections; ++c) {
    threads.emplace_back([&, c] {
      for (auto& batch : work[c]) {
        if (!service.InsertEventBatch(batch).ok() || !service.FlushBuffers().ok()) {
          std::fprintf(stderr, "library ingest failed\n");
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const double s = std::chrono::duration<double>(Clock::now() - start).count();
  (void)service.Shutdown();
  return static_cast<double>(a.connections) * a.batches_per_connection * a.batch / s;
}

// CPU seconds used so far by this process's threads named `name` (schedstat: nanoseconds on the
// CPU, exact where /proc/PID/stat counts 10 ms ticks); threads that ended are not counted.
double NamedThreadsCpuSeconds(const std::string& name) {
  double total = 0;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream comm(task.path() / "comm");
    std::string n;
    if (!std::getline(comm, n) || n != name) continue;
    std::ifstream stat(task.path() / "schedstat");
    double ns = 0;
    if (stat >> ns) total += ns / 1e9;
  }
  return total;
}

size_t Sink(char*, size_t size, size_t n, void* user) {
  (void)user;
  return size * n;
}

// CPU microseconds per event of reading the request bodies into events (ParseEventBody: JSON,
// validation), on one thread, as the server does for each POST before the batch is queued.
double ParseCpuUsPerEvent(const Work& w) {
  vibekit::LocalStoreConfig config;
  std::int64_t events = 0;
  const double start = vibekit::internal::ThreadCpuSeconds();
  for (const auto& bodies : w.bodies) {
    for (const std::string& body : bodies) {
      auto parsed = vibekit::ingest::ParseEventBody(body, false, config, 1764000000000, {});
      if (parsed.ok()) events += static_cast<std::int64_t>(parsed->valid.size());
    }
  }
  const double cpu = vibekit::internal::ThreadCpuSeconds() - start;
  return events > 0 ? cpu * 1e6 / static_cast<double>(events) : 0;
}

struct IngestResult {
  double events_per_s = 0;
  double seconds = 0;           // wall time of the ingest
  double cpu_us_per_event = 0;  // the whole process's CPU during the ingest, per event
  double cores_busy = 0;        // that CPU time over the wall time
  double client_cpu_us_per_event = 0;  // of it, the load generator's POST threads (libcurl)
  std::vector<double> dashboard_ms;
  double wal_max_mb = 0;  // the database's WAL file at its largest, sampled with the dashboard
  int failures = 0;
};

// `wal_path`: the served database's WAL, sampled with each dashboard request ("" = none).
IngestResult HttpIngest(const Args& a, const Work& w, const std::string& url,
                        bool poll_dashboard, const std::string& wal_path = "") {
  const auto& bodies = w.bodies;
  IngestResult result;
  std::atomic<int> failures{0};
  std::atomic<bool> done{false};
  std::thread poller;
  if (poll_dashboard) {
    poller = std::thread([&] {
      CURL* h = curl_easy_init();
      std::string body;
      curl_easy_setopt(h, CURLOPT_URL, (url + "/api/dashboard").c_str());
      curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, Sink);
      curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
      while (!done.load()) {
        if (!wal_path.empty()) {
          result.wal_max_mb = std::max(
              result.wal_max_mb, static_cast<double>(vibekit::internal::FileSizeBytes(wal_path)) / 1e6);
        }
        const auto s = Clock::now();
        long code = 0;
        if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        if (code == 200) {
          result.dashboard_ms.push_back(
              std::chrono::duration<double, std::milli>(Clock::now() - s).count());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      curl_easy_cleanup(h);
    });
  }
  const auto start = Clock::now();
  const double cpu_start = vibekit::internal::ProcessCpuSeconds();
  std::atomic<double> client_cpu{0};  // the POST threads', each added as it ends
  std::vector<std::thread> threads;
  for (int c = 0; c < a.connections; ++c) {
    threads.emplace_back([&, c] {
      vibekit::internal::NameThisThread(kPostThreadName);
      CURL* h = curl_easy_init();
      std::string sink;
      curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
      headers = curl_slist_append(headers, "Expect:");
      curl_easy_setopt(h, CURLOPT_URL, (url + "/api/events").c_str());
      curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
      curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, Sink);
      curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
      for (const std::string& body : bodies[c]) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
        long code = 0;
        if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        if (code != 200) failures.fetch_add(1);
      }
      curl_slist_free_all(headers);
      curl_easy_cleanup(h);
      double cpu = client_cpu.load();
      const double mine = vibekit::internal::ThreadCpuSeconds();
      while (!client_cpu.compare_exchange_weak(cpu, cpu + mine)) {
      }
    });
  }
  for (auto& t : threads) t.join();
  const double s = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu = vibekit::internal::ProcessCpuSeconds() - cpu_start;
  done.store(true);
  if (poller.joinable()) poller.join();
  const double events = static_cast<double>(a.connections) * a.batches_per_connection * a.batch;
  result.events_per_s = events / s;
  result.seconds = s;
  result.cpu_us_per_event = cpu * 1e6 / events;
  result.client_cpu_us_per_event = client_cpu.load() * 1e6 / events;
  result.cores_busy = cpu / s;
  result.failures = failures.load();
  return result;
}

// W WebSocket clients on one thread, subscribed to events (the preview, or with `full` every
// event), sessions and metrics, reading all.
class WsCrowd {
 public:
  WsCrowd(const std::string& url, int n, bool full) {
    const std::string subscribe =
        std::string(R"({"type":"subscribe","channels":["events","sessions","metrics"])") +
        (full ? R"(,"full":true})" : "}");
    const std::string hostport = url.substr(7);
    const std::size_t colon = hostport.rfind(':');
    tcp::resolver resolver(ioc_);
    auto endpoints = resolver.resolve(hostport.substr(0, colon), hostport.substr(colon + 1));
    for (int i = 0; i < n; ++i) {
      auto c = std::make_unique<Client>(ioc_);
      asio::connect(c->ws.next_layer(), endpoints.begin(), endpoints.end());
      c->ws.handshake(hostport, "/ws");
      c->ws.write(asio::buffer(subscribe));
      clients_.push_back(std::move(c));
    }
    for (auto& c : clients_) Read(*c);
    thread_ = std::thread([this] {
      vibekit::internal::NameThisThread(kThreadName);
      ioc_.run();
    });
  }
  ~WsCrowd() {
    ioc_.stop();
    thread_.join();
  }
  static constexpr const char* kThreadName = "bench-ws-crowd";
  std::int64_t messages() const { return messages_.load(); }
  std::int64_t bytes() const { return bytes_.load(); }

 private:
  struct Client {
    explicit Client(asio::io_context& ioc) : ws(ioc) {}
    websocket::stream<tcp::socket> ws;
    beast::flat_buffer buffer;
  };
  void Read(Client& c) {
    c.ws.async_read(c.buffer, [this, &c](beast::error_code ec, std::size_t) {
      if (ec) return;
      bytes_.fetch_add(static_cast<std::int64_t>(c.buffer.size()));
      c.buffer.consume(c.buffer.size());
      messages_.fetch_add(1);
      Read(c);
    });
  }
  asio::io_context ioc_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::thread thread_;
  std::atomic<std::int64_t> messages_{0};
  std::atomic<std::int64_t> bytes_{0};
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

struct Served {
  std::unique_ptr<vibekit::TelemetryService> service;
  std::unique_ptr<vibekit::server::TelemetryServer> server;
};

Served Serve(const std::string& path) {
  Served s;
  s.service = std::make_unique<vibekit::TelemetryService>(Config(path));
  if (!s.service->Initialize().ok()) return s;
  vibekit::server::ServerOptions o;
  o.port = 0;
  o.rate_limit_per_s = 0;  // one client IP sends everything
  auto r = vibekit::server::TelemetryServer::Start(*s.service, o);
  if (r.ok()) s.server = std::move(*r);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  CLI::App app{"HTTP server load benchmark (JSON on stdout)"};
  app.add_option("--batches", a.batches_per_connection, "Batches per connection");
  app.add_option("--connections", a.connections, "Concurrent HTTP connections");
  app.add_option("--batch", a.batch, "Events per POST");
  app.add_option("--ws-clients", a.ws_clients, "WebSocket clients in the last run");
  app.add_flag("--ws-full", a.ws_full,
               "WebSocket clients subscribe to every event (default: the events preview)");
  app.add_flag("--control", a.control,
               "Each round also runs the WebSocket run with 0 clients (control_vs_none)");
  app.add_option("--dir", a.dir, "Directory for the databases (emptied)");
  app.add_option("--workload", a.workload, "seeded (~690-byte events) or small (~150 bytes)")
      ->check(CLI::IsMember({"seeded", "small"}));
  app.add_option("--rounds", a.rounds, "Rounds of library / HTTP / HTTP with WebSocket clients")
      ->check(CLI::Range(1, 100));
  CLI11_PARSE(app, argc, argv);
  std::filesystem::remove_all(a.dir);
  std::filesystem::create_directories(a.dir);
  curl_global_init(CURL_GLOBAL_DEFAULT);

  const Work work = MakeWork(a);
  // Rounds of: library, HTTP without WebSocket clients (dashboard polled), HTTP with them, each
  // into a fresh database. The machine is shared: the figures are medians over the rounds and
  // the ratios are taken within each round (the runs of one round are seconds apart).
  std::vector<double> library, http, with_ws, http_vs_library, ws_vs_none, dashboard_ms;
  std::vector<double> control_vs_none, ws_vs_control, control_cpu_us;  // --control
  std::vector<double> ws_cpu_us, ws_hub_cpu_us, ws_crowd_cpu_us, ws_writer_cpu_us;
  std::vector<double> control_writer_cpu_us;
  std::vector<double> commit_events;  // events per write transaction under the HTTP load
  std::vector<double> http_cpu_us, http_cores, parse_cpu_us, writer_busy, text_busy;
  std::vector<double> http_client_cpu_us;
  double wal_max_mb = 0;
  std::int64_t ws_messages = 0;
  std::int64_t ws_bytes = 0;
  std::int64_t ws_dropped = 0;
  int failures = 0;
  const int total = a.connections * a.batches_per_connection * a.batch;  // events per run
  for (int round = 0; round < a.rounds; ++round) {
    const std::string tag = std::to_string(round);
    library.push_back(LibraryRate(a, work, a.dir + "/library" + tag + ".db"));
    parse_cpu_us.push_back(ParseCpuUsPerEvent(work));
    {
      Served s = Serve(a.dir + "/http" + tag + ".db");
      if (!s.server) return 1;
      const vibekit::PerformanceMetrics m0 = s.service->GetPerformanceMetrics();
      IngestResult r = HttpIngest(a, work, s.server->url(), /*poll_dashboard=*/true,
                                  a.dir + "/http" + tag + ".db-wal");
      s.server->Stop();
      const vibekit::PerformanceMetrics m = s.service->GetPerformanceMetrics();
      // The writer's and the text index thread's CPU over the ingest's wall time (their clocks
      // are read at each commit and step).
      writer_busy.push_back((m.writer_cpu_seconds - m0.writer_cpu_seconds) / r.seconds);
      text_busy.push_back((m.text_index_cpu_seconds - m0.text_index_cpu_seconds) / r.seconds);
      commit_events.push_back(m.total_flushes > 0 ? static_cast<double>(m.events_written) /
                                                        static_cast<double>(m.total_flushes)
                                                  : 0);
      (void)s.service->Shutdown();
      http.push_back(r.events_per_s);
      http_cpu_us.push_back(r.cpu_us_per_event);
      http_client_cpu_us.push_back(r.client_cpu_us_per_event);
      http_cores.push_back(r.cores_busy);
      failures += r.failures;
      dashboard_ms.insert(dashboard_ms.end(), r.dashboard_ms.begin(), r.dashboard_ms.end());
      wal_max_mb = std::max(wal_max_mb, r.wal_max_mb);
    }
    // HTTP ingest with `clients` WebSocket clients connected (dashboard not polled).
    struct WsRun {
      double events_per_s = 0;
      double cpu_us_per_event = 0;  // the whole process
      double hub_cpu_us_per_event = 0;
      double crowd_cpu_us_per_event = 0;
      double writer_cpu_us_per_event = 0;
    };
    auto with_clients = [&](const std::string& name, int clients) -> std::optional<WsRun> {
      Served s = Serve(a.dir + "/" + name + tag + ".db");
      if (!s.server) return std::nullopt;
      IngestResult r;
      double hub = 0, crowd_cpu = 0;
      const vibekit::PerformanceMetrics m0 = s.service->GetPerformanceMetrics();
      {
        WsCrowd crowd(s.server->url(), clients, a.ws_full);
        const double hub0 = NamedThreadsCpuSeconds("vk-websocket");
        const double crowd0 = NamedThreadsCpuSeconds(WsCrowd::kThreadName);
        r = HttpIngest(a, work, s.server->url(), /*poll_dashboard=*/false);
        hub = NamedThreadsCpuSeconds("vk-websocket") - hub0;
        crowd_cpu = NamedThreadsCpuSeconds(WsCrowd::kThreadName) - crowd0;
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        ws_messages += crowd.messages();
        ws_bytes += crowd.bytes();
      }
      ws_dropped += s.server->metrics().dropped_messages();
      s.server->Stop();
      const vibekit::PerformanceMetrics m1 = s.service->GetPerformanceMetrics();
      (void)s.service->Shutdown();
      failures += r.failures;
      return WsRun{r.events_per_s, r.cpu_us_per_event, hub * 1e6 / total,
                   crowd_cpu * 1e6 / total,
                   (m1.writer_cpu_seconds - m0.writer_cpu_seconds) * 1e6 / total};
    };
    // The control (0 clients) runs next to the run with clients, before it in even rounds and
    // after it in odd ones, so that neither always has the fresher machine.
    std::optional<WsRun> ws, none;
    if (a.control && round % 2 == 0 && !(none = with_clients("control", 0))) return 1;
    if (!(ws = with_clients("ws", a.ws_clients))) return 1;
    if (a.control && round % 2 == 1 && !(none = with_clients("control", 0))) return 1;
    with_ws.push_back(ws->events_per_s);
    ws_cpu_us.push_back(ws->cpu_us_per_event);
    ws_hub_cpu_us.push_back(ws->hub_cpu_us_per_event);
    ws_crowd_cpu_us.push_back(ws->crowd_cpu_us_per_event);
    ws_writer_cpu_us.push_back(ws->writer_cpu_us_per_event);
    if (none) {
      control_vs_none.push_back(http.back() > 0 ? none->events_per_s / http.back() : 0);
      ws_vs_control.push_back(none->events_per_s > 0 ? ws->events_per_s / none->events_per_s : 0);
      control_cpu_us.push_back(none->cpu_us_per_event);
      control_writer_cpu_us.push_back(none->writer_cpu_us_per_event);
    }
    http_vs_library.push_back(library.back() > 0 ? http.back() / library.back() : 0);
    ws_vs_none.push_back(http.back() > 0 ? with_ws.back() / http.back() : 0);
  }
  auto median = [](std::vector<double> v) { return Percentile(std::move(v), 50); };
  auto list = [](const std::vector<double>& v, const char* fmt) {
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i) {
      char b[32];
      std::snprintf(b, sizeof b, fmt, v[i]);
      out += (i ? "," : "") + std::string(b);
    }
    return out + "]";
  };
  std::string control;
  if (a.control) {
    char m[200];
    std::snprintf(m, sizeof m,
                  "\"control_vs_none\":%.3f,\"ws_vs_control\":%.3f,\"control_cpu_us_per_event\":%.1f,"
                  "\"control_writer_cpu_us_per_event\":%.2f,",
                  median(control_vs_none), median(ws_vs_control), median(control_cpu_us),
                  median(control_writer_cpu_us));
    control = m + std::string("\"control_vs_none_rounds\":") + list(control_vs_none, "%.3f") +
              ",\"ws_vs_control_rounds\":" + list(ws_vs_control, "%.3f") +
              ",\"control_cpu_us_per_event_rounds\":" + list(control_cpu_us, "%.1f") + ",";
  }
  std::printf(
      "{\"workload\":\"%s\",\"events\":%d,\"connections\":%d,\"batch\":%d,\"rounds\":%d,"
      "\"body_bytes_per_event\":%.0f,\"library_events_per_s\":%.0f,\"http_events_per_s\":%.0f,"
      "\"http_mb_per_s\":%.2f,\"http_vs_library\":%.3f,\"http_vs_library_rounds\":%s,"
      "\"http_events_per_commit\":%.0f,\"http_cpu_us_per_event\":%.1f,\"http_cores_busy\":%.2f,"
      "\"http_writer_busy\":%.2f,\"http_text_index_busy\":%.2f,"
      "\"cpu_bound_events_per_s_2_cores\":%.0f,\"http_client_cpu_us_per_event\":%.1f,"
      "\"server_bound_events_per_s_2_cores\":%.0f,\"parse_cpu_us_per_event\":%.2f,"
      "\"dashboard_ms\":{\"samples\":%zu,\"p50\":%.2f,\"p99\":%.2f,\"max\":%.2f},"
      "\"http_wal_max_mb\":%.1f,\"ws_clients\":%d,\"ws_full\":%s,\"ws_events_per_s\":%.0f,\"ws_vs_none\":%.3f,"
      "\"ws_vs_none_rounds\":%s,\"ws_cpu_us_per_event\":%.1f,\"ws_cpu_us_per_event_rounds\":%s,"
      "\"ws_hub_cpu_us_per_event\":%.2f,\"ws_crowd_cpu_us_per_event\":%.2f,"
      "\"ws_writer_cpu_us_per_event\":%.2f,%s"
      "\"ws_messages_received\":%lld,\"ws_mb_received\":%.1f,\"ws_dropped\":%lld,"
      "\"failures\":%d}\n",
      a.workload.c_str(), total, a.connections, a.batch, a.rounds, work.body_bytes / total,
      median(library), median(http), median(http) * work.body_bytes / total / 1e6,
      median(http_vs_library), list(http_vs_library, "%.3f").c_str(), median(commit_events),
      median(http_cpu_us), median(http_cores), median(writer_busy), median(text_busy),
      median(http_cpu_us) > 0 ? 2e6 / median(http_cpu_us) : 0.0, median(http_client_cpu_us),
      median(http_cpu_us) > median(http_client_cpu_us)
          ? 2e6 / (median(http_cpu_us) - median(http_client_cpu_us))
          : 0.0,
      median(parse_cpu_us),
      dashboard_ms.size(),
      Percentile(dashboard_ms, 50), Percentile(dashboard_ms, 99), Percentile(dashboard_ms, 100),
      wal_max_mb, a.ws_clients, a.ws_full ? "true" : "false", median(with_ws), median(ws_vs_none),
      list(ws_vs_none, "%.3f").c_str(), median(ws_cpu_us), list(ws_cpu_us, "%.1f").c_str(),
      median(ws_hub_cpu_us), median(ws_crowd_cpu_us), median(ws_writer_cpu_us), control.c_str(),
      static_cast<long long>(ws_messages), static_cast<double>(ws_bytes) / 1e6,
      static_cast<long long>(ws_dropped), failures);
  return failures == 0 ? 0 : 1;
}
