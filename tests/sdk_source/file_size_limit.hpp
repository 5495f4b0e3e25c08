// tests/sdk_source/file_size_limit.hpp — makes writes fail as they do on a full disk: lowers
// this process's RLIMIT_FSIZE (the soft limit only, so it can be restored) and ignores SIGXFSZ,
// so a write past the limit fails with EFBIG. A child spawned meanwhile inherits both (an
// ignored signal stays ignored across exec).
//
//   {
//     FileSizeLimit limit(64 << 10);
//     ASSERT_TRUE(limit.ok());
//     auto failed = store->Append({big_record});   // "store: write …: File too large"
//   }                                               // limit and SIGXFSZ restored
#ifndef WEIR_TESTS_SDK_SOURCE_FILE_SIZE_LIMIT_HPP
#define WEIR_TESTS_SDK_SOURCE_FILE_SIZE_LIMIT_HPP

#include <signal.h>
#include <sys/resource.h>

namespace weir::sdksource::testing {

class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    if (::getrlimit(RLIMIT_FSIZE, &old_) != 0) return;
    old_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    rlimit low = old_;
    low.rlim_cur = bytes;
    ok_ = (old_.rlim_max == RLIM_INFINITY || old_.rlim_max >= bytes) &&
          ::setrlimit(RLIMIT_FSIZE, &low) == 0;
    restore_ = true;
  }
  ~FileSizeLimit() {
    if (!restore_) return;
    ::setrlimit(RLIMIT_FSIZE, &old_);
    ::signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

  /// The limit is in force.
  bool ok() const { return ok_; }

 private:
  rlimit old_{};
  sighandler_t old_handler_ = SIG_DFL;
  bool ok_ = false;
  bool restore_ = false;
};

}  // namespace weir::sdksource::testing

#endif  // WEIR_TESTS_SDK_SOURCE_FILE_SIZE_LIMIT_HPP
