// `vibekit telemetry tail [--follow] [-n N] [--session S] [--agent-type A] [--event-type T]`:
// the newest N events (by timestamp, then id) printed oldest first, like tail(1); with --follow
// it then polls the database every 250 ms for events with an id above the highest one seen and
// prints them as they are committed by any process, until SIGINT or SIGTERM (exit 0).
//
// Ids follow commit order and are never reused, so "id > highest seen" is exactly "committed
// since". The starting point is the highest id present when the command starts (not the highest
// id among the N printed: events that rank older by timestamp can carry higher ids, e.g. after an
// import of old data), found before the newest N are read, so nothing committed meanwhile is lost;
// anything committed meanwhile that the first N already show is not printed twice.
//
// Output: table prints one line per event ("time  session  type  agent  first line of text"),
// ndjson one JSON object per event (the `telemetry query` shape); each poll's lines are flushed
// at once. Without --follow, json and csv print the N events as `telemetry query` does.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "cli/commands.h"
#include "views/time_arg.h"

namespace vibekit::cli {
namespace {

volatile std::sig_atomic_t g_stop = 0;

void OnStopSignal(int) { g_stop = 1; }

void InstallStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a sleep or read is cut short
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

// First line of the event's text (prompt, else stream data), with control characters replaced
// so data can never inject terminal escape sequences.
std::string FirstLine(const Event& e) {
  const std::optional<std::string>& text = e.prompt ? e.prompt : e.stream_data;
  if (!text) return "";
  std::string line = text->substr(0, text->find_first_of("\r\n"));
  const bool more = line.size() < text->size();
  constexpr std::size_t kMaxBytes = 400;
  if (line.size() > kMaxBytes) {
    std::size_t cut = kMaxBytes;
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
    line.resize(cut);
    line += " …";
  } else if (more) {
    line += " …";
  }
  for (char& c : line) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) c = '?';
  }
  return line;
}

// One event per line, cut to `width` columns on a terminal (0: whole).
std::string TableLine(const Event& e, int width) {
  std::string line = FormatTimestamp(e.timestamp);
  line += "  ";
  line += e.session_id;
  line += "  ";
  line += EventTypeName(e.event_type);
  line += "  ";
  line += e.agent_type;
  const std::string text = FirstLine(e);
  if (!text.empty()) {
    line += "  ";
    line += text;
  }
  for (char& c : line) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) c = '?';  // ids and names come from data too
  }
  line = FitLine(line, width);
  line += '\n';
  return line;
}

// Streams events in table or ndjson form, flushing after every call.
void Emit(const std::vector<Event>& events, const OutputOptions& out) {
  for (const Event& e : events) {
    if (out.format == Format::kNdjson) {
      PrintObject(EventToJsonObject(e), out, stdout);
    } else {
      const std::string line = TableLine(e, out.width);
      std::fwrite(line.data(), 1, line.size(), stdout);
    }
  }
  std::fflush(stdout);
}

}  // namespace

void RegisterTailCommand(CLI::App& telemetry, const GlobalOptions& global, Runner& run) {
  struct Args {
    std::string session, agent, type;
    std::int64_t lines = 10;
    bool follow = false;
    int interval_ms = 250;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = telemetry.add_subcommand("tail", "The newest events; with --follow, new ones as they arrive");
  cmd->add_flag("-f,--follow", a->follow, "Keep printing events as they are committed (Ctrl-C stops)");
  cmd->add_option("-n,--lines", a->lines, "Newest events to print first (default 10)")
      ->check(CLI::Range(static_cast<std::int64_t>(0), static_cast<std::int64_t>(100000)));
  cmd->add_option("--session", a->session, "Only this session id");
  cmd->add_option("--agent-type", a->agent, "Only this agent (claude, codex, ...)");
  cmd->add_option("--event-type", a->type, "start, stream, end or error")
      ->check(CLI::IsMember({"start", "stream", "end", "error"}));
  cmd->add_option("--interval-ms", a->interval_ms, "Poll interval with --follow")
      ->check(CLI::Range(50, 10000));
  cmd->footer(
      "Examples:\n  vibekit telemetry tail -n 20\n"
      "  vibekit telemetry tail --follow --agent-type claude --format ndjson");
  cmd->callback([&global, &run, a] {
    run = [&global, a]() -> int {
      const OutputOptions out = MakeOutput(global);
      if (a->follow && out.format != Format::kTable && out.format != Format::kNdjson) {
        return UsageError("--follow prints table or ndjson lines; use --format ndjson for JSON");
      }
      EventQueryFilter f;
      if (!a->session.empty()) f.session_id = a->session;
      if (!a->agent.empty()) f.agent_type = a->agent;
      if (!a->type.empty()) f.event_type = *ParseEventType(a->type);
      if (a->follow) InstallStopHandlers();  // before opening: a signal now still ends cleanly
      auto service = OpenService(global, /*must_exist=*/true);
      if (!service) return kExitFailure;
      auto fail = [&service](const Status& st) {
        (void)service->Shutdown();
        return st.IsValidationError() ? UsageError(st.message()) : Fail(st.message());
      };

      // Reads every page of `filter` (after_id fixed, offset advancing) and hands each page to
      // `page`. Rows a concurrent commit shifts into a later page may come twice; callers dedupe.
      auto for_each_page = [&service](EventQueryFilter filter, auto&& page) -> Status {
        filter.order = SortOrder::kAsc;
        filter.limit = 1000;
        filter.offset = 0;
        while (g_stop == 0) {
          auto batch = service->QueryEvents(filter);
          if (!batch.ok()) return batch.status();
          page(*batch);
          if (static_cast<std::int64_t>(batch->size()) < filter.limit) break;
          filter.offset += filter.limit;
        }
        return Status::Ok();
      };

      // Starting point (only with --follow): the highest matching id now. The newest event by
      // timestamp usually has it; the pages above it find any higher one.
      std::int64_t last_id = 0;
      if (a->follow) {
        EventQueryFilter probe = f;
        probe.order = SortOrder::kDesc;
        probe.limit = 1;
        auto top = service->QueryEvents(probe);
        if (!top.ok()) return fail(top.status());
        if (!top->empty()) {
          last_id = top->front().id;
          // Each read is a complete answer (one statement, one snapshot): its highest id is safe
          // to start from; a full page means there may be more above it.
          EventQueryFilter above = f;
          above.order = SortOrder::kAsc;
          above.limit = 10000;
          while (g_stop == 0) {
            above.after_id = last_id;
            auto more = service->QueryEvents(above);
            if (!more.ok()) return fail(more.status());
            for (const Event& e : *more) last_id = std::max(last_id, e.id);
            if (static_cast<std::int64_t>(more->size()) < above.limit) break;
          }
        }
      }

      // The newest N, printed oldest first.
      std::vector<Event> first;
      if (a->lines > 0) {
        EventQueryFilter newest = f;
        newest.order = SortOrder::kDesc;
        newest.limit = a->lines;
        auto got = service->QueryEvents(newest);
        if (!got.ok()) return fail(got.status());
        first = std::move(*got);
        std::reverse(first.begin(), first.end());
      }
      // Committed after the starting point but already among the first N: not printed again.
      std::unordered_set<std::int64_t> printed;
      for (const Event& e : first) {
        if (e.id > last_id) printed.insert(e.id);
      }
      if (!a->follow) {
        (void)service->Shutdown();
        if (out.format == Format::kJson || out.format == Format::kCsv) {
          Records r;
          r.columns = EventColumns();
          for (const Event& e : first) {
            boost::json::object o = EventToJsonObject(e);
            if (out.format == Format::kCsv) o["text"] = FirstLine(e);
            r.rows.push_back(std::move(o));
          }
          Print(r, out, stdout);
        } else {
          Emit(first, out);
        }
        return kExitOk;
      }
      Emit(first, out);

      // Follow: poll for ids above the starting point, reading a burst larger than one page in
      // pages. The starting point only advances to the highest id of a poll's first page: every
      // id up to that one was committed before the page was read, so later pages held all of
      // them, whereas a commit landing between two pages could sort into one already read. Ids
      // above it that were printed stay in `printed` until the starting point passes them.
      const auto interval = std::chrono::milliseconds(a->interval_ms);
      while (g_stop == 0) {
        EventQueryFilter next = f;
        next.after_id = last_id;
        std::int64_t highest = last_id;
        bool first_page = true;
        Status st = for_each_page(next, [&](const std::vector<Event>& page) {
          std::vector<Event> fresh;
          for (const Event& e : page) {
            if (printed.insert(e.id).second) fresh.push_back(e);
            if (first_page) highest = std::max(highest, e.id);
          }
          first_page = false;
          Emit(fresh, out);
        });
        if (!st.ok()) return fail(st);
        last_id = highest;
        // Ids at or below the new starting point can never come back.
        std::erase_if(printed, [last_id](std::int64_t id) { return id <= last_id; });
        // Sleep in short slices so a signal ends the wait promptly.
        const auto wake = std::chrono::steady_clock::now() + interval;
        while (g_stop == 0 && std::chrono::steady_clock::now() < wake) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
      }
      (void)service->Shutdown();
      std::fflush(stdout);
      return kExitOk;
    };
  });
}

}  // namespace vibekit::cli
