// plugins/s3/s3_retry.hpp — when to try an S3 request again and how long to wait first.
// Retryable: connection failures and timeouts, HTTP 5xx (500 InternalError, 503 SlowDown,
// ...), 429, and the few 4xx S3 documents as transient (400 RequestTimeout, 409
// ConditionalRequestConflict). Everything else 4xx is the caller's to fix. The wait is
// exponential backoff with full jitter: uniform(0, min(max_backoff, base * 2^retry)).
//
//   if (IsRetryableS3Error(status, code)) SleepUnlessCancelled(backoff.Next(), cancelled);
#ifndef WEIR_S3_RETRY_HPP
#define WEIR_S3_RETRY_HPP

#include <cstdint>
#include <functional>
#include <random>
#include <string_view>

#include "object_store.hpp"

namespace weir::s3 {

/// True when repeating a request that got HTTP `status` with S3 error code `code` may succeed.
bool IsRetryableS3Error(long status, std::string_view code);

/// Full-jitter exponential backoff for one request. Not thread-safe (one per request).
class Backoff {
 public:
  Backoff(const RetryPolicy& policy, uint64_t seed);
  /// The delay before the next retry, in ms; the n-th call draws from [0, base * 2^(n-1)]
  /// capped at max_backoff_ms.
  int NextDelayMs();
  /// The upper bound the next call will draw under (for tests).
  int64_t NextCapMs() const;

 private:
  RetryPolicy policy_;
  int retries_ = 0;
  std::mt19937_64 rng_;
};

/// Sleeps `ms`, waking every few ms to poll `cancelled`; false when cancelled (early).
bool SleepUnlessCancelled(int ms, const std::function<bool()>& cancelled);

}  // namespace weir::s3

#endif  // WEIR_S3_RETRY_HPP
