// SHA-256 (FIPS 180-4), incremental: Update() any number of times, then Finish(). Used to
// fingerprint export files as they are written, so no second read of the file is needed.
//
// Thread-safety: a value type; one object per thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace vibekit::internal {

class Sha256 {
 public:
  // Uses the CPU's SHA extensions (x86 SHA-NI) when present, unless `allow_hardware` is false
  // (the tests compare both paths).
  explicit Sha256(bool allow_hardware = true) noexcept;
  // True when this CPU has the SHA extensions.
  static bool HardwareAvailable() noexcept;
  void Update(std::string_view bytes) noexcept;
  // The 32-byte digest. The object must not be updated afterwards (Reset() first).
  std::array<std::uint8_t, 32> Finish() noexcept;
  // Finish() as 64 lower-case hex digits.
  std::string FinishHex() noexcept;
  void Reset() noexcept;

  // One-shot helper: lower-case hex of SHA-256(bytes).
  static std::string HexOf(std::string_view bytes);

 private:
  void Blocks(const std::uint8_t* p, std::size_t count) noexcept;
  void Block(const std::uint8_t* p) noexcept;  // portable path

  bool hardware_ = false;
  std::array<std::uint32_t, 8> h_{};
  std::array<std::uint8_t, 64> buf_{};
  std::size_t buf_len_ = 0;
  std::uint64_t total_bytes_ = 0;
};

}  // namespace vibekit::internal
