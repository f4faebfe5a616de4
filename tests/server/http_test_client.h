// A small blocking HTTP client for the server tests (libcurl, one easy handle per call).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace vibekit::testing {

struct HttpResult {
  long status = 0;           // 0 when the request failed at the transport level
  std::string body;          // as received (not decoded)
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string error;         // libcurl's message when status is 0

  std::string Header(const std::string& lower_name) const;
};

struct HttpCall {
  std::string method = "GET";
  std::string url;
  std::string body;
  std::vector<std::string> headers;  // "Name: value"
  bool decode_gzip = false;          // let libcurl ask for and inflate gzip
};

HttpResult Http(const HttpCall& call);
inline HttpResult HttpGet(const std::string& url, std::vector<std::string> headers = {}) {
  return Http({"GET", url, "", std::move(headers)});
}
inline HttpResult HttpPost(const std::string& url, std::string body,
                           std::vector<std::string> headers = {}) {
  return Http({"POST", url, std::move(body), std::move(headers)});
}

}  // namespace vibekit::testing
