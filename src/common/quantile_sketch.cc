#include "common/quantile_sketch.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace vibekit::analytics {
namespace {

const double kGamma = (1 + QuantileSketch::kRelativeAccuracy) /
                      (1 - QuantileSketch::kRelativeAccuracy);
const double kLogGamma = std::log(kGamma);

void PutVarint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

bool GetVarint(std::string_view& in, std::uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.empty()) return false;
    const auto byte = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

std::uint64_t ZigZag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t UnZigZag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

}  // namespace

void QuantileSketch::Add(double value, std::int64_t count) {
  if (std::isnan(value) || count <= 0) return;
  count_ += count;
  if (value <= 0) {
    zero_count_ += count;
    return;
  }
  // Bucket i holds (gamma^(i-1), gamma^i]; clamp to keep indexes in range for extreme values.
  const double idx = std::ceil(std::log(value) / kLogGamma);
  const auto i = static_cast<std::int32_t>(std::clamp(idx, -1.0e6, 1.0e6));
  bins_[i] += count;
}

void QuantileSketch::Remove(double value, std::int64_t count) {
  if (std::isnan(value) || count <= 0) return;
  if (value <= 0) {
    const std::int64_t n = std::min(count, zero_count_);
    zero_count_ -= n;
    count_ -= n;
    return;
  }
  const double idx = std::ceil(std::log(value) / kLogGamma);
  const auto i = static_cast<std::int32_t>(std::clamp(idx, -1.0e6, 1.0e6));
  auto it = bins_.find(i);
  if (it == bins_.end()) return;
  const std::int64_t n = std::min(count, it->second);
  it->second -= n;
  count_ -= n;
  if (it->second == 0) bins_.erase(it);
}

void QuantileSketch::Merge(const QuantileSketch& other) {
  for (const auto& [i, c] : other.bins_) bins_[i] += c;
  zero_count_ += other.zero_count_;
  count_ += other.count_;
}

double QuantileSketch::Quantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank = static_cast<std::int64_t>(std::floor(q * static_cast<double>(count_ - 1)));
  if (rank < zero_count_) return 0;
  std::int64_t seen = zero_count_;
  for (const auto& [i, c] : bins_) {
    seen += c;
    if (seen > rank) return 2 * std::pow(kGamma, i) / (kGamma + 1);
  }
  return 2 * std::pow(kGamma, bins_.rbegin()->first) / (kGamma + 1);
}

std::string QuantileSketch::Encode() const {
  std::string out;
  PutVarint(out, static_cast<std::uint64_t>(zero_count_));
  PutVarint(out, bins_.size());
  std::int64_t prev = 0;
  for (const auto& [i, c] : bins_) {
    PutVarint(out, ZigZag(static_cast<std::int64_t>(i) - prev));
    PutVarint(out, static_cast<std::uint64_t>(c));
    prev = i;
  }
  return out;
}

Result<QuantileSketch> QuantileSketch::Decode(std::string_view in) {
  QuantileSketch s;
  std::uint64_t zero = 0;
  std::uint64_t bins = 0;
  if (!GetVarint(in, zero) || !GetVarint(in, bins) || bins > in.size()) {
    return Status::Corruption("quantile sketch: truncated header");
  }
  s.zero_count_ = static_cast<std::int64_t>(zero);
  s.count_ = s.zero_count_;
  std::int64_t prev = 0;
  for (std::uint64_t b = 0; b < bins; ++b) {
    std::uint64_t delta = 0;
    std::uint64_t count = 0;
    if (!GetVarint(in, delta) || !GetVarint(in, count) || count == 0 ||
        count > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / 2)) {
      return Status::Corruption("quantile sketch: bad bucket");
    }
    const std::int64_t idx = prev + UnZigZag(delta);
    if ((b > 0 && idx <= prev) || idx < -1000000 || idx > 1000000) {
      return Status::Corruption("quantile sketch: bucket indexes out of order");
    }
    s.bins_[static_cast<std::int32_t>(idx)] = static_cast<std::int64_t>(count);
    s.count_ += static_cast<std::int64_t>(count);
    prev = idx;
  }
  if (!in.empty()) return Status::Corruption("quantile sketch: trailing bytes");
  return s;
}

}  // namespace vibekit::analytics
