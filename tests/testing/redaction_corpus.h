// tests/data/redaction_corpus.tsv: realistic fake secrets in context and look-alikes.
#pragma once

#include <fstream>
#include <string>
#include <vector>

namespace vibekit::testing {

struct CorpusSecret {
  std::string kind;    // the marker's kind, "[REDACTED:<kind>]"
  std::string secret;  // what must not survive
  std::string text;    // the secret in context
};

struct RedactionCorpus {
  std::vector<CorpusSecret> secrets;
  std::vector<std::string> keeps;  // must stay exactly as they are
};

inline std::string Unescape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == 'n') {
      out += '\n';
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

inline RedactionCorpus LoadRedactionCorpus() {
  RedactionCorpus c;
  std::ifstream in(VIBEKIT_TEST_DATA_DIR "/redaction_corpus.tsv");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> parts;
    std::size_t pos = 0;
    while (true) {
      const std::size_t tab = line.find('\t', pos);
      parts.push_back(line.substr(pos, tab == std::string::npos ? std::string::npos : tab - pos));
      if (tab == std::string::npos) break;
      pos = tab + 1;
    }
    if (parts[0] == "keep" && parts.size() == 2) {
      c.keeps.push_back(parts[1]);
    } else if (parts[0] == "secret" && parts.size() == 4) {
      std::string text = Unescape(parts[3]);
      const std::size_t at = text.find("{}");
      if (at != std::string::npos) text.replace(at, 2, parts[2]);
      c.secrets.push_back({parts[1], parts[2], text});
    }
  }
  return c;
}

// `s` as a JSON string literal.
inline std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default: out += ch;
    }
  }
  return out + "\"";
}

}  // namespace vibekit::testing
