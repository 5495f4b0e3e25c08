// plugins/s3/s3_retry.cpp — retry classification, full-jitter backoff, cancellable sleep.
#include "s3_retry.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

namespace weir::s3 {

bool IsRetryableS3Error(long status, std::string_view code) {
  if (status >= 500 || status == 429) return true;
  // S3 answers 400 RequestTimeout when the connection idled mid-upload, and 409
  // ConditionalRequestConflict when a concurrent conditional write on the key is in flight.
  if (status == 400 && code == "RequestTimeout") return true;
  if (status == 409 && code == "ConditionalRequestConflict") return true;
  return false;
}

Backoff::Backoff(const RetryPolicy& policy, uint64_t seed) : policy_(policy), rng_(seed) {}

int64_t Backoff::NextCapMs() const {
  int64_t cap = std::max(0, policy_.base_backoff_ms);
  for (int i = 0; i < retries_ && cap < policy_.max_backoff_ms; ++i) cap *= 2;
  return std::min<int64_t>(cap, std::max(0, policy_.max_backoff_ms));
}

int Backoff::NextDelayMs() {
  int64_t cap = NextCapMs();
  ++retries_;
  if (cap <= 0) return 0;
  std::uniform_int_distribution<int64_t> dist(0, cap);
  return static_cast<int>(dist(rng_));
}

bool SleepUnlessCancelled(int ms, const std::function<bool()>& cancelled) {
  // Poll at 20 ms so a cancelled run stops within a tick, not after a 20 s backoff.
  constexpr int kTickMs = 20;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (true) {
    if (cancelled && cancelled()) return false;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return true;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        deadline - now, std::chrono::milliseconds(kTickMs)));
  }
}

}  // namespace weir::s3
