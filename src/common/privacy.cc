#include "common/privacy.h"

#include <boost/json.hpp>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "common/json_parse.h"
#include "common/log.h"
#include "common/sha256.h"

namespace vibekit::internal {
namespace json = boost::json;
namespace {

bool IsPostgresUrl(std::string_view p) {
  return p.starts_with("postgres://") || p.starts_with("postgresql://");
}

std::string DefaultKeyFile(const TelemetryConfig& config) {
  if (!config.privacy.hash_key_file.empty()) return config.privacy.hash_key_file;
  const std::string& db = config.local_store.db_path;
  if (IsPostgresUrl(db)) {
    const char* home = std::getenv("HOME");
    return std::string(home != nullptr && *home != '\0' ? home : ".") + "/.vibekit/install.key";
  }
  const std::filesystem::path dir = std::filesystem::path(db).parent_path();
  return (dir.empty() ? std::filesystem::path(".") : dir).string() + "/install.key";
}

Result<std::string> ReadKey(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IoError("cannot read " + path + ": " + std::strerror(errno));
  char buf[256];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  std::string key(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' ')) {
    key.pop_back();
  }
  if (key.size() < 32) {
    return Status::IoError(path + " holds no install key (expected 64 hex digits)");
  }
  return key;
}

// Hashes the values under the configured keys; returns true when something changed.
bool HashMembers(const Privacy& p, const std::vector<std::string>& keys, json::value& v,
                 const std::string& path) {
  bool changed = false;
  if (json::object* o = v.if_object()) {
    for (auto& [k, child] : *o) {
      const std::string child_path = path.empty() ? std::string(k) : path + "." + std::string(k);
      bool hashed = false;
      for (const std::string& key : keys) {
        if (key == k || key == child_path) {
          hashed = true;
          break;
        }
      }
      if (hashed && !child.is_object() && !child.is_array() && !child.is_null()) {
        if (const json::string* s = child.if_string()) {
          if (s->starts_with("hmac:")) continue;
          child = p.Hash(*s);
        } else {
          child = p.Hash(json::serialize(child));
        }
        changed = true;
      } else {
        changed = HashMembers(p, keys, child, child_path) || changed;
      }
    }
  } else if (json::array* a = v.if_array()) {
    for (json::value& child : *a) changed = HashMembers(p, keys, child, path) || changed;
  }
  return changed;
}

// `{"name":bytes,` inserted at the start of a JSON object text.
void AddCount(std::optional<std::string>& metadata, std::string_view name, std::size_t bytes) {
  const std::string member = "\"" + std::string(name) + "\":" + std::to_string(bytes);
  if (!metadata) {
    metadata = "{" + member + "}";
    return;
  }
  std::string& m = *metadata;
  const std::size_t open = m.find('{');
  if (open == std::string::npos) return;  // validated as an object before this runs
  const std::size_t next = m.find_first_not_of(" \t\r\n", open + 1);
  const bool empty = next != std::string::npos && m[next] == '}';
  m.insert(open + 1, empty ? member : member + ",");
}

}  // namespace

Result<std::string> LoadOrCreateInstallKey(const std::string& path) {
  auto existing = ReadKey(path);
  if (existing.ok()) return existing;
  std::error_code ec;
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (!dir.empty() && !std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (!ec) ::chmod(dir.c_str(), 0700);
  }
  unsigned char raw[32];
  std::size_t got = 0;
  while (got < sizeof raw) {
    const ssize_t n = ::getrandom(raw + got, sizeof raw - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError(std::string("getrandom failed: ") + std::strerror(errno));
    }
    got += static_cast<std::size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char b : raw) {
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  // O_EXCL: two processes starting at once agree on the first file written.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      // Written by another process right now; give it a moment to finish its 65 bytes.
      for (int i = 0; i < 100; ++i) {
        auto again = ReadKey(path);
        if (again.ok()) return again;
        ::usleep(1000);
      }
      return ReadKey(path);
    }
    return Status::IoError("cannot create install key " + path + ": " + std::strerror(errno));
  }
  const std::string line = hex + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Status::IoError("cannot write install key " + path);
  return hex;
}

Result<std::shared_ptr<const Privacy>> Privacy::Create(const TelemetryConfig& config) {
  const PrivacyConfig& c = config.privacy;
  std::shared_ptr<Privacy> p(new Privacy());
  VK_ASSIGN_OR_RETURN(p->redactor_, Redactor::Create(c.redact_secrets, c.redact_patterns));
  p->hash_keys_ = c.hash_metadata_keys;
  for (const std::string& key : p->hash_keys_) {
    const std::size_t dot = key.rfind('.');
    const std::string last = dot == std::string::npos ? key : key.substr(dot + 1);
    p->hash_key_needles_.push_back("\"" + last + "\"");
    if (key.find('"') != std::string::npos) p->quoted_hash_key_ = true;
    p->hash_member_names_.push_back("\"" + key + "\"");
    for (std::size_t d = key.find('.'); d != std::string::npos; d = key.find('.', d + 1)) {
      p->hash_member_names_.push_back("\"" + key.substr(d + 1) + "\"");
    }
  }
  p->store_content_ = c.store_content;
  if (!c.hash_key.empty()) {
    p->key_ = c.hash_key;
  } else {
    p->key_file_ = DefaultKeyFile(config);
  }
  p->inert_ = !p->redactor_->enabled() && p->hash_keys_.empty() && p->store_content_;
  // Length-prefixed fields, so that no two different settings describe alike.
  std::string described = "privacy/1;rules=" + std::to_string(kBuiltinRulesVersion) +
                          ";builtin=" + (c.redact_secrets ? "1" : "0");
  const auto field = [&described](std::string_view name, std::string_view value) {
    described += ";" + std::string(name) + "=" + std::to_string(value.size()) + ":";
    described += value;
  };
  for (const std::string& pattern : c.redact_patterns) {
    if (!pattern.empty()) field("pattern", pattern);
  }
  for (const std::string& key : p->hash_keys_) field("hash", key);
  p->fingerprint_ = Sha256::HexOf(described);
  return std::shared_ptr<const Privacy>(std::move(p));
}

std::string Privacy::Hash(std::string_view value) const {
  if (!key_file_.empty()) {
    std::call_once(key_once_, [this] {
      auto key = LoadOrCreateInstallKey(key_file_);
      if (key.ok()) {
        key_ = std::move(*key);
      } else {
        LogError("metadata values to hash are dropped: " + key.status().message());
      }
    });
  }
  if (key_.empty()) return "[REDACTED:unhashed]";
  return "hmac:" + HmacSha256Hex(key_, value);
}

void Privacy::Text(std::optional<std::string>& text) const {
  if (text && !text->empty()) redactor_->Redact(*text);
}

void Privacy::Metadata(std::optional<std::string>& metadata) const {
  if (!metadata || metadata->empty()) return;
  if (!hash_keys_.empty()) {
    if (MayHoldHashedKey(*metadata)) {
      boost::system::error_code ec;
      json::value doc = ParseJson(*metadata, ec, {}, kMaxMetadataDepth);
      if (!ec && HashMembers(*this, hash_keys_, doc, "")) *metadata = json::serialize(doc);
    }
  }
  redactor_->RedactJson(*metadata);
}

bool Privacy::MayHoldHashedKey(std::string_view metadata) const {
  for (const std::string& needle : hash_key_needles_) {
    if (metadata.find(needle) != std::string_view::npos) return true;
  }
  return false;
}

bool Privacy::HashingChanges(std::string_view m) const {
  if (hash_key_needles_.empty()) return false;
  // Escaped names could decode to a hashed key: then only Metadata()'s own test of whether it
  // hashes anything at all (a needle somewhere in the text) tells.
  if (quoted_hash_key_ || m.find('\\') != std::string_view::npos) return MayHoldHashedKey(m);
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  // Without escapes every member name is the quoted text before a ':'. HashMembers hashes a
  // member whose name is a hashed key, or whose path from the top is one: then its name is
  // the key's part after one of its dots. Each such name is compared at every ':'.
  for (std::size_t colon = m.find(':'); colon != std::string_view::npos;
       colon = m.find(':', colon + 1)) {
    std::size_t close = colon;
    while (close > 0 && space(m[close - 1])) --close;
    if (close < 2 || m[close - 1] != '"') continue;
    const std::size_t open = m.rfind('"', close - 2);
    if (open == std::string_view::npos) continue;
    const std::string_view name = m.substr(open, close - open);
    bool hashed = false;
    for (const std::string& candidate : hash_member_names_) hashed = hashed || name == candidate;
    if (!hashed) continue;
    std::size_t v = colon + 1;
    while (v < m.size() && space(m[v])) ++v;
    const std::string_view value = m.substr(v);
    // Hashing leaves values already hashed, objects and arrays (their members have names of
    // their own) and null.
    if (value.starts_with("\"hmac:") || value.starts_with('{') || value.starts_with('[') ||
        value.starts_with("null")) {
      continue;
    }
    return true;
  }
  return false;
}

bool Privacy::TextChanges(const std::optional<std::string>& text) const {
  return text && !text->empty() && redactor_->Finds(*text);
}

bool Privacy::MetadataChanges(const std::optional<std::string>& metadata) const {
  if (!metadata || metadata->empty()) return false;
  return HashingChanges(*metadata) || redactor_->MayChangeJson(*metadata);
}

bool Privacy::ChangesOutgoing(const Event& e) const {
  if (inert_) return false;
  if (TextChanges(e.prompt) || TextChanges(e.stream_data) || TextChanges(e.repo_url) ||
      MetadataChanges(e.metadata)) {
    return true;
  }
  return e.error && (redactor_->Finds(e.error->message) || TextChanges(e.error->stack) ||
                     TextChanges(e.error->context));
}

bool Privacy::ChangesOutgoing(const ErrorRecord& r) const {
  if (inert_) return false;
  return redactor_->Finds(r.error_message) || TextChanges(r.error_stack) ||
         TextChanges(r.context) || MetadataChanges(r.metadata);
}

bool Privacy::ChangesOutgoing(const Session& s) const {
  if (inert_) return false;
  return TextChanges(s.repo_url) || MetadataChanges(s.metadata);
}

void Privacy::ApplyIncoming(Event& e) const {
  if (inert_) return;
  if (!store_content_) {
    if (e.prompt) {
      AddCount(e.metadata, "vibekit.prompt_bytes", e.prompt->size());
      e.prompt.reset();
    }
    if (e.stream_data && e.event_type != EventType::kError) {
      AddCount(e.metadata, "vibekit.stream_bytes", e.stream_data->size());
      e.stream_data.reset();
    }
  }
  ApplyOutgoing(e);
}

void Privacy::ApplyOutgoing(Event& e) const {
  if (inert_) return;
  Text(e.prompt);
  Text(e.stream_data);
  Text(e.repo_url);
  Metadata(e.metadata);
  if (e.error) {
    if (!e.error->message.empty()) redactor_->Redact(e.error->message);
    Text(e.error->stack);
    Text(e.error->context);
  }
}

void Privacy::ApplyOutgoing(ErrorRecord& r) const {
  if (inert_) return;
  if (!r.error_message.empty()) redactor_->Redact(r.error_message);
  Text(r.error_stack);
  Text(r.context);
  Metadata(r.metadata);
}

void Privacy::ApplyOutgoing(Session& s) const {
  if (inert_) return;
  Text(s.repo_url);
  Metadata(s.metadata);
}

}  // namespace vibekit::internal
