// Validation rules from telemetry_validation_rules, compiled once (regexes, enum sets, paths)
// and checked against events after the built-in checks (validation.h). See
// include/vibekit/validation_rule.h for the rule types, fields and the failure message format.
//
// Thread-safety: a RuleSet is immutable once compiled; Check may run on any thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "vibekit/event.h"
#include "vibekit/status.h"
#include "vibekit/validation_rule.h"

namespace vibekit::ingest {

// OK when `rule` names a known table and field (of that table), and its config fits its type
// (a regex that compiles, a range with min <= max, ...). kInvalidArgument saying what is wrong.
Status CheckValidationRule(const ValidationRule& rule);

class RuleSet {
 public:
  struct Compiled;
  // Compiles the active rules of `rules`, highest priority first (then by id). A rule that does
  // not compile (written to the table by hand) is left out and described in `skipped`.
  static std::shared_ptr<const RuleSet> Compile(const std::vector<ValidationRule>& rules,
                                                std::vector<std::string>* skipped);
  ~RuleSet();
  RuleSet(const RuleSet&) = delete;
  RuleSet& operator=(const RuleSet&) = delete;

  bool empty() const noexcept { return compiled_.empty(); }
  std::size_t size() const noexcept { return compiled_.size(); }
  // The first failing rule as kInvalidArgument (message format in validation_rule.h).
  Status Check(const Event& event) const;

 private:
  RuleSet();
  std::vector<std::unique_ptr<Compiled>> compiled_;
  bool needs_metadata_ = false;
};

}  // namespace vibekit::ingest
