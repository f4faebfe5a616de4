// Runs the real `vibekit` binary (VIBEKIT_BIN) under a pseudo-terminal, for what only happens on
// a TTY: colour, tables cut to the terminal width, progress lines. Standard input, output and
// error are all the terminal (as in an interactive shell), so `output` holds both streams in the
// order they were written, with the terminal's "\n" -> "\r\n" translation.
// Needs -lutil (forkpty).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vibekit {

struct PtyRun {
  int code = -1;       // exit code, -1 when it did not exit normally (or timed out)
  std::string output;  // everything written to the terminal
  bool timed_out = false;
};

struct PtyOptions {
  int columns = 60;
  int rows = 24;
  std::vector<std::string> env;  // "NAME=value" added to the child's environment
  int timeout_ms = 60000;        // the child is killed (SIGKILL) after this
  // Keys typed at the terminal: each {text, keys} waits until `text` has appeared in the output
  // (after where the previous one matched), then writes `keys`, in order.
  std::vector<std::pair<std::string, std::string>> input;
};

// `args` is shell text after the binary, as for Vibekit() (run through /bin/sh -c "exec ...").
// The child's environment loses TELEMETRY_DB_PATH, VIBEKIT_TELEMETRY, NO_COLOR, COLUMNS and
// VIBEKIT_PROGRESS_AFTER_MS, then gets `options.env`.
inline PtyRun VibekitOnPty(const std::string& args, const PtyOptions& options = {}) {
  PtyRun r;
  winsize ws{};
  ws.ws_col = static_cast<unsigned short>(options.columns);
  ws.ws_row = static_cast<unsigned short>(options.rows);
  const std::string command = std::string("exec ") + VIBEKIT_BIN + " " + args;
  int master = -1;
  const pid_t pid = forkpty(&master, nullptr, nullptr, &ws);
  if (pid < 0) return r;
  if (pid == 0) {
    for (const char* name : {"TELEMETRY_DB_PATH", "VIBEKIT_TELEMETRY", "NO_COLOR", "COLUMNS",
                             "VIBEKIT_PROGRESS_AFTER_MS", "VIBEKIT_BUSY_TIMEOUT_MS"}) {
      unsetenv(name);
    }
    for (const std::string& kv : options.env) {
      const auto eq = kv.find('=');
      setenv(kv.substr(0, eq).c_str(), eq == std::string::npos ? "" : kv.c_str() + eq + 1, 1);
    }
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options.timeout_ms);
  char buf[4096];
  std::size_t next_input = 0;
  std::size_t matched_to = 0;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) {
      r.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    pollfd p{master, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;  // timeout is handled at the top of the loop
    const ssize_t n = read(master, buf, sizeof buf);
    if (n > 0) {
      r.output.append(buf, static_cast<std::size_t>(n));
      while (next_input < options.input.size()) {
        const auto at = r.output.find(options.input[next_input].first, matched_to);
        if (at == std::string::npos) break;
        matched_to = at + options.input[next_input].first.size();
        const std::string& keys = options.input[next_input].second;
        if (write(master, keys.data(), keys.size()) < 0) break;
        ++next_input;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;  // EIO (Linux) or EOF: every holder of the terminal's slave side has closed it
  }
  close(master);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.code = !r.timed_out && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Text as the terminal shows it on one line: CSI escape sequences (ESC '[' ... final byte)
// removed.
inline std::string StripEscapes(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b' && i + 1 < s.size() && s[i + 1] == '[') {
      i += 2;
      while (i < s.size() && !(s[i] >= 0x40 && s[i] <= 0x7e)) ++i;
      continue;
    }
    out += s[i];
  }
  return out;
}

// Display columns of escape-free UTF-8 text: one per code point (the tables elide with U+2026,
// one column; the test data holds no wide characters).
inline int DisplayColumns(std::string_view s) {
  int n = 0;
  for (const char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

// The lines of terminal output, escapes stripped, "\r\n" and "\n" both ending a line.
inline std::vector<std::string> TerminalLines(std::string_view output) {
  std::vector<std::string> lines;
  std::string line;
  for (const char c : StripEscapes(output)) {
    if (c == '\n') {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lines.push_back(line);
      line.clear();
    } else {
      line += c;
    }
  }
  if (!line.empty()) lines.push_back(line);
  return lines;
}

}  // namespace vibekit
