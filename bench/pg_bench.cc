// PostgreSQL ingest: events/s through the library (TelemetryService on a postgres:// URL, the
// workload's events tracked from several threads, then FlushBuffers: everything committed)
// against COPY of the same rows measured in the same run:
//   bare_copy          COPY into a plain table with the same columns (no keys, no indexes);
//   copy_into_schema   COPY into our telemetry_events (its keys, indexes, text index, jsonb),
//                      sessions copied first;
//   library            the real path (session merge, rollups, per-batch transactions);
//   two_servers        (--servers-bin) two `vibekit serve` processes on one schema, --threads
//                      clients POSTing batches of 100 (each client's sessions to one server;
//                      answered after commit), until every event is acknowledged.
// Each path writes into its own fresh schema of the database at --url. JSON on stdout.
//   vibekit_pg_bench --url postgresql:///db?host=/tmp/pg [--events 200000] [--threads 8]
#include <CLI/CLI.hpp>
#include <curl/curl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>
#include <unistd.h>

#include "common/event_json.h"
#include "store/postgres/pg_conn.h"
#include "store/postgres/pg_schema.h"
#include "store/postgres/pg_store.h"
#include "vibekit/telemetry_service.h"
#include "workload/workload.h"

namespace {

using vibekit::Event;
using vibekit::store::postgres::AppendCopyText;

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string WithSchema(const std::string& url, const std::string& schema) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
         schema;
}

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "vibekit_pg_bench: %s\n", why.c_str());
  std::exit(1);
}

void Exec(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  const auto st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    Die("SQL failed: " + sql + ": " + PQresultErrorMessage(r));
  }
  PQclear(r);
}

void CopyRows(PGconn* c, const std::string& copy_sql, const std::string& data) {
  PGresult* r = PQexec(c, copy_sql.c_str());
  if (PQresultStatus(r) != PGRES_COPY_IN) Die("COPY failed: " + std::string(PQerrorMessage(c)));
  PQclear(r);
  if (PQputCopyData(c, data.data(), static_cast<int>(data.size())) != 1 ||
      PQputCopyEnd(c, nullptr) != 1) {
    Die("COPY data failed: " + std::string(PQerrorMessage(c)));
  }
  while (PGresult* res = PQgetResult(c)) {
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
      Die("COPY failed: " + std::string(PQresultErrorMessage(res)));
    }
    PQclear(res);
  }
}

void Field(std::string& out, const std::optional<std::string>& v) {
  if (v) {
    AppendCopyText(out, *v);
  } else {
    out += "\\N";
  }
}

// The events as COPY rows (the columns ApplyBatch sends), in chunks of `chunk` rows.
std::vector<std::string> CopyChunks(const std::vector<Event>& all, std::size_t chunk,
                                    bool with_search) {
  std::vector<std::string> out;
  std::string cur;
  std::size_t n = 0;
  std::int64_t id = 1;
  for (const Event& e : all) {
    cur += std::to_string(id++);
    cur += '\t';
    AppendCopyText(cur, e.session_id);
    cur += '\t';
    cur += vibekit::EventTypeName(e.event_type);
    cur += '\t';
    AppendCopyText(cur, e.agent_type);
    cur += '\t';
    Field(cur, e.mode);
    cur += '\t';
    Field(cur, e.prompt);
    cur += '\t';
    Field(cur, e.stream_data);
    cur += '\t';
    Field(cur, e.sandbox_id);
    cur += '\t';
    Field(cur, e.repo_url);
    cur += '\t';
    Field(cur, e.metadata);
    cur += '\t';
    cur += std::to_string(e.timestamp);
    cur += "\t1";
    if (with_search) {  // our schema's text index column, as the store computes it
      cur += '\t';
      vibekit::store::postgres::AppendSearchVector(cur, e.prompt, e.stream_data);
    }
    cur += '\n';
    if (++n == chunk) {
      out.push_back(std::move(cur));
      cur.clear();
      n = 0;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

constexpr const char* kCopyEvents =
    "COPY telemetry_events (id, session_id, event_type, agent_type, mode, prompt, stream_data, "
    "sandbox_id, repo_url, metadata, timestamp, created_at) FROM STDIN";
constexpr const char* kCopyEventsWithSearch =
    "COPY telemetry_events (id, session_id, event_type, agent_type, mode, prompt, stream_data, "
    "sandbox_id, repo_url, metadata, timestamp, created_at, search) FROM STDIN";

struct Serve {
  pid_t pid = -1;
  std::string url;
};

Serve StartServe(const std::string& bin, const std::string& db) {
  int fds[2];
  if (pipe(fds) != 0) Die("pipe failed");
  Serve s;
  s.pid = fork();
  if (s.pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execl(bin.c_str(), bin.c_str(), "serve", "--port", "0", "--db", db.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  FILE* out = fdopen(fds[0], "r");
  char line[512];
  if (std::fgets(line, sizeof line, out) != nullptr) {
    std::string text(line);
    const std::string prefix = "VibeKit server: ";
    if (text.rfind(prefix, 0) == 0) {
      s.url = text.substr(prefix.size());
      while (!s.url.empty() && (s.url.back() == '\n' || s.url.back() == '\r')) s.url.pop_back();
    }
  }
  std::fclose(out);
  if (s.url.empty()) Die("vibekit serve did not start on " + db);
  return s;
}

std::size_t CurlSink(char*, std::size_t size, std::size_t n, void*) { return size * n; }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"PostgreSQL ingest: library vs COPY (JSON)"};
  std::string url;
  std::int64_t events = 200000;
  int threads = 8;
  std::size_t chunk = 5000;
  app.add_option("--url", url, "postgres:// URL of a database to write into (fresh schemas)");
  app.add_option("--events", events, "Events per path");
  app.add_option("--threads", threads, "Threads tracking events through the library");
  app.add_option("--copy-rows", chunk, "Rows per COPY statement");
  std::string serve_bin;
  app.add_option("--servers-bin", serve_bin,
                 "The vibekit executable: also measure two `vibekit serve` processes");
  CLI11_PARSE(app, argc, argv);
  if (url.empty()) {
    if (const char* u = std::getenv("TELEMETRY_DB_URL")) url = u;
  }
  if (!vibekit::store::postgres::IsPostgresUrl(url)) Die("--url postgres://... is required");
  if (threads < 1) Die("--threads must be at least 1");

  vibekit::workload::WorkloadOptions wo;
  wo.total_events = events;
  wo.start_time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count() - 24 * 3600 * 1000;
  std::vector<Event> all;
  std::int64_t text_bytes = 0;
  {
    vibekit::workload::Generator gen(wo);
    Event e;
    while (gen.Next(&e)) {
      text_bytes += static_cast<std::int64_t>(e.prompt.value_or("").size() +
                                              e.stream_data.value_or("").size());
      all.push_back(e);
    }
  }
  const std::string tag = std::to_string(getpid());
  PGconn* admin = PQconnectdb(url.c_str());
  if (PQstatus(admin) != CONNECTION_OK) Die(PQerrorMessage(admin));
  const std::string s_bare = "vk_bench_bare_" + tag;
  const std::string s_schema = "vk_bench_copy_" + tag;
  const std::string s_lib = "vk_bench_lib_" + tag;
  const std::string s_srv = "vk_bench_srv_" + tag;
  for (const auto& s : {s_bare, s_schema, s_lib, s_srv}) Exec(admin, "CREATE SCHEMA " + s);
  const std::vector<std::string> chunks = CopyChunks(all, chunk, false);
  const std::vector<std::string> schema_chunks = CopyChunks(all, chunk, true);

  // 1. bare COPY.
  double bare_s = 0;
  {
    PGconn* c = PQconnectdb(WithSchema(url, s_bare).c_str());
    if (PQstatus(c) != CONNECTION_OK) Die(PQerrorMessage(c));
    Exec(c, "CREATE TABLE telemetry_events (id bigint, session_id text, event_type text, "
            "agent_type text, mode text, prompt text, stream_data text, sandbox_id text, "
            "repo_url text, metadata text, timestamp bigint, created_at bigint)");
    const auto t0 = std::chrono::steady_clock::now();
    for (const auto& data : chunks) {
      Exec(c, "BEGIN");
      CopyRows(c, kCopyEvents, data);
      Exec(c, "COMMIT");
    }
    bare_s = Seconds(t0);
    PQfinish(c);
  }

  // 2. COPY into our schema (keys, indexes, text index, jsonb), sessions first.
  double schema_s = 0;
  {
    vibekit::LocalStoreConfig lc;
    lc.db_path = WithSchema(url, s_schema);
    vibekit::store::postgres::PgStore store(lc, vibekit::SystemClock());
    if (!store.Open().ok()) Die("cannot create the schema in " + s_schema);
    store.Close();
    std::unordered_map<std::string, std::int64_t> starts;
    for (const Event& e : all) starts.try_emplace(e.session_id, e.timestamp);
    std::string sessions;
    for (const auto& [id, ts] : starts) {
      AppendCopyText(sessions, id);
      sessions += "\tclaude\t" + std::to_string(ts) + "\t1\t1\n";
    }
    PGconn* c = PQconnectdb(lc.db_path.c_str());
    if (PQstatus(c) != CONNECTION_OK) Die(PQerrorMessage(c));
    const auto t0 = std::chrono::steady_clock::now();
    Exec(c, "BEGIN");
    CopyRows(c, "COPY telemetry_sessions (id, agent_type, start_time, created_at, updated_at) "
                "FROM STDIN", sessions);
    Exec(c, "COMMIT");
    for (const auto& data : schema_chunks) {
      Exec(c, "BEGIN");
      CopyRows(c, kCopyEventsWithSearch, data);
      Exec(c, "COMMIT");
    }
    schema_s = Seconds(t0);
    PQfinish(c);
  }

  // 3. The library: Track from `threads` threads (a session always on the same thread, so its
  // order holds), then FlushBuffers: every event committed.
  double lib_s = 0;
  std::int64_t stored = 0;
  {
    vibekit::TelemetryConfig cfg;
    cfg.apply_environment = false;
    cfg.local_store.db_path = WithSchema(url, s_lib);
    vibekit::TelemetryService service(cfg);
    if (!service.Initialize().ok()) Die("cannot open the library on " + s_lib);
    std::vector<std::vector<const Event*>> parts(static_cast<std::size_t>(threads));
    for (const Event& e : all) {
      parts[std::hash<std::string>{}(e.session_id) % parts.size()].push_back(&e);
    }
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (const auto& part : parts) {
      workers.emplace_back([&service, &part] {
        for (const Event* e : part) {
          vibekit::Status st = service.Track(*e);
          // A full queue is backpressure (the writer is behind): wait and offer it again.
          while (st.code() == vibekit::StatusCode::kBusy) st = service.Track(*e);
          if (!st.ok()) Die("track failed: " + st.ToString());
        }
      });
    }
    for (auto& w : workers) w.join();
    if (!service.FlushBuffers().ok()) Die("flush failed");
    lib_s = Seconds(t0);
    auto stats = service.GetAggregateStats();
    if (stats.ok()) stored = stats->total.total_events;
    (void)service.Shutdown();
  }
  if (stored != static_cast<std::int64_t>(all.size())) {
    Die("the library stored " + std::to_string(stored) + " of " + std::to_string(all.size()));
  }

  // 4. Two servers.
  double srv_s = 0;
  if (!serve_bin.empty()) {
    const std::string db = WithSchema(url, s_srv);
    {
      vibekit::LocalStoreConfig lc;  // the schema first, so the servers do not race to make it
      lc.db_path = db;
      vibekit::store::postgres::PgStore store(lc, vibekit::SystemClock());
      if (!store.Open().ok()) Die("cannot create the schema in " + s_srv);
    }
    const Serve servers[2] = {StartServe(serve_bin, db), StartServe(serve_bin, db)};
    std::vector<std::vector<const Event*>> parts(static_cast<std::size_t>(threads));
    for (const Event& e : all) {
      parts[std::hash<std::string>{}(e.session_id) % parts.size()].push_back(&e);
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> clients;
    for (std::size_t t = 0; t < parts.size(); ++t) {
      clients.emplace_back([&, t] {
        CURL* h = curl_easy_init();
        curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
        const std::string target = servers[t % 2].url + "/api/events";
        curl_easy_setopt(h, CURLOPT_URL, target.c_str());
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, CurlSink);
        const auto& part = parts[t];
        for (std::size_t i = 0; i < part.size(); i += 100) {
          std::string body = "[";
          for (std::size_t j = i; j < std::min(part.size(), i + 100); ++j) {
            if (j > i) body += ',';
            body += vibekit::internal::EventToJson(*part[j]);
          }
          body += ']';
          curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
          curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
          long code = 0;
          if (curl_easy_perform(h) != CURLE_OK ||
              curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK || code != 200) {
            Die("POST /api/events failed (HTTP " + std::to_string(code) + ")");
          }
        }
        curl_slist_free_all(headers);
        curl_easy_cleanup(h);
      });
    }
    for (auto& c : clients) c.join();
    srv_s = Seconds(t0);
    for (const Serve& s : servers) {
      kill(s.pid, SIGTERM);
      int st = 0;
      waitpid(s.pid, &st, 0);
    }
    PGconn* c = PQconnectdb(db.c_str());
    PGresult* r = PQexec(c, "SELECT count(*), count(DISTINCT id) FROM telemetry_events");
    const std::int64_t rows = std::atoll(PQgetvalue(r, 0, 0));
    const std::int64_t distinct = std::atoll(PQgetvalue(r, 0, 1));
    PQclear(r);
    PQfinish(c);
    if (rows != static_cast<std::int64_t>(all.size()) || distinct != rows) {
      Die("two servers stored " + std::to_string(rows) + " rows (" + std::to_string(distinct) +
          " distinct) of " + std::to_string(all.size()));
    }
  }
  for (const auto& s : {s_bare, s_schema, s_lib, s_srv}) {
    Exec(admin, "DROP SCHEMA " + s + " CASCADE");
  }
  PQfinish(admin);

  const double n = static_cast<double>(all.size());
  std::printf(
      "{\"events\": %zu, \"text_mb\": %.1f, \"threads\": %d, \"copy_rows\": %zu,\n"
      " \"bare_copy_events_per_s\": %.0f,\n"
      " \"copy_into_schema_events_per_s\": %.0f,\n"
      " \"library_events_per_s\": %.0f,\n"
      " \"library_vs_bare_copy\": %.3f, \"library_vs_copy_into_schema\": %.3f,\n"
      " \"two_servers_events_per_s\": %.0f, \"two_servers_vs_bare_copy\": %.3f}\n",
      all.size(), static_cast<double>(text_bytes) / 1e6, threads, chunk, n / bare_s,
      n / schema_s, n / lib_s, bare_s / lib_s, schema_s / lib_s, srv_s > 0 ? n / srv_s : 0.0,
      srv_s > 0 ? bare_s / srv_s : 0.0);
  return 0;
}
