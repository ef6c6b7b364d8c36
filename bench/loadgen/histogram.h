// A fixed-size log-linear histogram of latencies in nanoseconds, in the manner of HDR
// histograms: 64 linear sub-buckets per power of two, so a recorded value is known to within
// 1/64 (1.6 %) of itself, from 1 ns to 2^63 ns, in 4 KiB-odd of counters allocated once.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

namespace loadgen {

class Histogram {
 public:
  void record(std::uint64_t value) {
    ++counts_[index(value)];
    ++total_;
    if (value > max_) max_ = value;
  }

  std::uint64_t count() const { return total_; }
  std::uint64_t max() const { return max_; }

  // The value below which a fraction `q` (0..1) of the recorded values lie: the middle of the
  // bucket holding that rank, capped by the true maximum.
  std::uint64_t quantile(double q) const {
    if (total_ == 0) return 0;
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_));
    if (rank >= total_) rank = total_ - 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen > rank) {
        std::uint64_t mid = (lower(i) + upper(i)) / 2;
        return mid < max_ ? mid : max_;
      }
    }
    return max_;
  }

 private:
  static constexpr unsigned kSubBits = 6;
  static constexpr std::uint64_t kSub = 1u << kSubBits;

  static std::size_t index(std::uint64_t v) {
    if (v < kSub) return static_cast<std::size_t>(v);
    unsigned exponent = 63u - static_cast<unsigned>(std::countl_zero(v));  // >= kSubBits
    unsigned shift = exponent - kSubBits;
    return static_cast<std::size_t>((shift + 1) * kSub + ((v >> shift) - kSub));
  }
  static std::uint64_t lower(std::size_t i) {
    if (i < kSub) return i;
    std::size_t shift = i / kSub - 1;
    return (kSub + i % kSub) << shift;
  }
  static std::uint64_t upper(std::size_t i) {
    if (i < kSub) return i;
    std::size_t shift = i / kSub - 1;
    return ((kSub + i % kSub + 1) << shift) - 1;
  }

  std::array<std::uint64_t, (64 - kSubBits + 1) * kSub> counts_{};
  std::uint64_t total_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace loadgen
