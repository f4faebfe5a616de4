// A mergeable quantile sketch with relative-error guarantees (the DDSketch construction of
// Masson, Rim and Lee, VLDB 2019): values fall into logarithmic buckets of ratio
// gamma = (1 + a) / (1 - a), so any quantile is answered within a relative error `a` of a value
// of the data, whatever its distribution, and two sketches merge by adding bucket counts. That
// is what lets per-minute rollups answer p50/p90/p95/p99 over any range of minutes.
#pragma once

#include <cstdint>
#include <vector>
#include <string>
#include <string_view>

#include "vibekit/status.h"

namespace vibekit::analytics {

class QuantileSketch {
 public:
  static constexpr double kRelativeAccuracy = 0.01;

  // Values ≤ 0 are counted in a zero bucket (their quantile is reported as 0). NaN is ignored.
  void Add(double value, std::int64_t count = 1);
  void Merge(const QuantileSketch& other);
  // Takes back an earlier Add of the same value (the bucket is a pure function of the value, so
  // this is exact). Removing more than was added clamps at zero.
  void Remove(double value, std::int64_t count = 1);

  std::int64_t count() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  // The q-quantile (0 ≤ q ≤ 1) by the lower rank convention: the value of rank
  // floor(q × (count - 1)) in sorted order, within kRelativeAccuracy. 0 when empty.
  double Quantile(double q) const;

  // Compact binary form (varints: zero count, bucket count, then delta-coded indexes and counts)
  // for a BLOB column; Decode refuses anything Encode would not produce.
  std::string Encode() const;
  static Result<QuantileSketch> Decode(std::string_view bytes);

  bool operator==(const QuantileSketch& other) const = default;

 private:
  // Dense counts of buckets offset_ .. offset_ + bins_.size() - 1 (latencies span a few hundred
  // buckets, so a vector merges and decodes far faster than a map). Trailing and leading zero
  // buckets are trimmed, so equal contents compare equal.
  std::int64_t& Bin(std::int32_t index);
  void Trim();
  std::vector<std::int64_t> bins_;
  std::int32_t offset_ = 0;
  std::int64_t zero_count_ = 0;
  std::int64_t count_ = 0;
};

}  // namespace vibekit::analytics
