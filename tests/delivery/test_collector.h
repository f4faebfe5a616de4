// TestCollector: a small OTLP/HTTP collector for the delivery tests. An HTTP/1.1 server on
// 127.0.0.1 (ephemeral port, or the same port again after Stop/Start) that handles keep-alive
// connections with Content-Length bodies, answers each request from a script (then a fallback
// reply), and records every request: arrival time, headers, the body gunzipped and saved to a
// file, and the status it was answered with.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vibekit::testing {

struct CollectorReply {
  int status = 200;
  std::string retry_after;  // Retry-After header value; empty = none
  std::string body = "{}";
};

struct CollectorRequest {
  int index = 0;                 // arrival order, from 0
  std::int64_t arrived_ms = 0;   // steady clock
  std::int64_t answered_ms = 0;  // steady clock, when the reply was written
  int status = 0;                // what we answered
  bool replied = false;          // the reply was written (the client may have it)
  std::string path;              // request target
  std::map<std::string, std::string> headers;  // names lower-cased
  bool was_gzip = false;         // the body started with the gzip magic bytes
  std::string body;              // decoded (gunzipped) body
  std::string file;              // where `body` was saved
};

class TestCollector {
 public:
  // Bodies are saved under `dir` as request-<index>-<status>.json.
  explicit TestCollector(std::string dir);
  ~TestCollector();
  TestCollector(const TestCollector&) = delete;
  TestCollector& operator=(const TestCollector&) = delete;

  // Listens on 127.0.0.1: the port of the previous Start(), or an ephemeral one the first time.
  // Returns false (with errno's text in error()) when it cannot.
  bool Start();
  // Closes the listening socket and every connection; joins all threads.
  void Stop();

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1/traces"; }
  const std::string& error() const { return error_; }

  // Replies for the next requests in order; when they run out, the fallback answers.
  void Script(std::vector<CollectorReply> replies);
  void SetFallback(CollectorReply reply);

  std::vector<CollectorRequest> requests() const;
  std::size_t request_count() const;

 private:
  void AcceptLoop(int listen_fd);
  void Serve(int fd);
  CollectorReply NextReply();

  const std::string dir_;
  int port_ = 0;
  std::string error_;
  int listen_fd_ = -1;
  std::thread acceptor_;

  mutable std::mutex mu_;
  std::deque<CollectorReply> script_;  // guarded by mu_
  CollectorReply fallback_;            // guarded by mu_
  std::vector<CollectorRequest> requests_;  // guarded by mu_
  std::vector<int> connections_;       // guarded by mu_
  std::vector<std::thread> servers_;   // guarded by mu_
  bool stopping_ = false;              // guarded by mu_
};

// gunzip; returns the input unchanged when it is not gzip.
std::string MaybeGunzip(const std::string& data, bool* was_gzip);

}  // namespace vibekit::testing
