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

namespace {
// Bucket i holds (gamma^(i-1), gamma^i]; clamped to keep indexes in range for extreme values.
std::int32_t IndexOf(double value) {
  const double idx = std::ceil(std::log(value) / kLogGamma);
  return static_cast<std::int32_t>(std::clamp(idx, -1.0e6, 1.0e6));
}
}  // namespace

std::int64_t& QuantileSketch::Bin(std::int32_t index) {
  if (bins_.empty()) {
    offset_ = index;
    bins_.assign(1, 0);
  } else if (index < offset_) {
    bins_.insert(bins_.begin(), static_cast<std::size_t>(offset_ - index), 0);
    offset_ = index;
  } else if (index >= offset_ + static_cast<std::int32_t>(bins_.size())) {
    bins_.resize(static_cast<std::size_t>(index - offset_) + 1, 0);
  }
  return bins_[static_cast<std::size_t>(index - offset_)];
}

void QuantileSketch::Trim() {
  std::size_t lo = 0;
  while (lo < bins_.size() && bins_[lo] == 0) ++lo;
  if (lo == bins_.size()) {
    bins_.clear();
    offset_ = 0;
    return;
  }
  std::size_t hi = bins_.size();
  while (bins_[hi - 1] == 0) --hi;
  bins_.erase(bins_.begin() + static_cast<std::ptrdiff_t>(hi), bins_.end());
  bins_.erase(bins_.begin(), bins_.begin() + static_cast<std::ptrdiff_t>(lo));
  offset_ += static_cast<std::int32_t>(lo);
}

void QuantileSketch::Add(double value, std::int64_t count) {
  if (std::isnan(value) || count <= 0) return;
  count_ += count;
  if (value <= 0) {
    zero_count_ += count;
    return;
  }
  Bin(IndexOf(value)) += count;
}

void QuantileSketch::Remove(double value, std::int64_t count) {
  if (std::isnan(value) || count <= 0) return;
  if (value <= 0) {
    const std::int64_t n = std::min(count, zero_count_);
    zero_count_ -= n;
    count_ -= n;
    return;
  }
  const std::int32_t i = IndexOf(value);
  if (i < offset_ || i >= offset_ + static_cast<std::int32_t>(bins_.size())) return;
  std::int64_t& bin = bins_[static_cast<std::size_t>(i - offset_)];
  const std::int64_t n = std::min(count, bin);
  bin -= n;
  count_ -= n;
  if (bin == 0) Trim();
}

void QuantileSketch::Merge(const QuantileSketch& other) {
  if (bins_.empty()) {
    bins_ = other.bins_;
    offset_ = other.offset_;
  } else if (!other.bins_.empty()) {
    const std::int32_t end = offset_ + static_cast<std::int32_t>(bins_.size());
    const std::int32_t other_end = other.offset_ + static_cast<std::int32_t>(other.bins_.size());
    const std::int32_t lo = std::min(offset_, other.offset_);
    const std::int32_t hi = std::max(end, other_end);
    if (lo < offset_) {
      // Grow at the front once: a new vector with the old counts at their place.
      std::vector<std::int64_t> grown(static_cast<std::size_t>(hi - lo), 0);
      std::copy(bins_.begin(), bins_.end(), grown.begin() + (offset_ - lo));
      bins_ = std::move(grown);
      offset_ = lo;
    } else if (hi > end) {
      bins_.resize(static_cast<std::size_t>(hi - offset_), 0);
    }
    std::int64_t* dst = &bins_[static_cast<std::size_t>(other.offset_ - offset_)];
    for (std::size_t k = 0; k < other.bins_.size(); ++k) dst[k] += other.bins_[k];
  }
  zero_count_ += other.zero_count_;
  count_ += other.count_;
}

double QuantileSketch::Quantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank = static_cast<std::int64_t>(std::floor(q * static_cast<double>(count_ - 1)));
  if (rank < zero_count_) return 0;
  std::int64_t seen = zero_count_;
  for (std::size_t k = 0; k < bins_.size(); ++k) {
    seen += bins_[k];
    if (seen > rank) {
      return 2 * std::pow(kGamma, offset_ + static_cast<std::int32_t>(k)) / (kGamma + 1);
    }
  }
  return 2 * std::pow(kGamma, offset_ + static_cast<std::int32_t>(bins_.size()) - 1) /
         (kGamma + 1);
}

std::string QuantileSketch::Encode() const {
  std::string out;
  PutVarint(out, static_cast<std::uint64_t>(zero_count_));
  std::uint64_t nonzero = 0;
  for (std::int64_t c : bins_) nonzero += c != 0 ? 1 : 0;
  PutVarint(out, nonzero);
  std::int64_t prev = 0;
  for (std::size_t k = 0; k < bins_.size(); ++k) {
    if (bins_[k] == 0) continue;
    const std::int64_t i = offset_ + static_cast<std::int64_t>(k);
    PutVarint(out, ZigZag(i - prev));
    PutVarint(out, static_cast<std::uint64_t>(bins_[k]));
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
  // Indexes come in increasing order: read them all, then size the vector once.
  struct Entry {
    std::int64_t index;
    std::int64_t count;
  };
  std::vector<Entry> entries;
  entries.reserve(static_cast<std::size_t>(bins));
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
    entries.push_back({idx, static_cast<std::int64_t>(count)});
    s.count_ += static_cast<std::int64_t>(count);
    prev = idx;
  }
  if (!entries.empty()) {
    s.offset_ = static_cast<std::int32_t>(entries.front().index);
    s.bins_.assign(static_cast<std::size_t>(entries.back().index - entries.front().index) + 1, 0);
    for (const Entry& e : entries) {
      s.bins_[static_cast<std::size_t>(e.index - entries.front().index)] = e.count;
    }
  }
  if (!in.empty()) return Status::Corruption("quantile sketch: trailing bytes");
  return s;
}

}  // namespace vibekit::analytics
