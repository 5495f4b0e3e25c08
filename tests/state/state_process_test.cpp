// tests/state/state_process_test.cpp — the state store across processes: pipeline locks held
// by another process (and freed by the kernel when it is SIGKILLed), an intent surviving its
// writer's kill -9, and two processes writing the same database at once.
//
// Children are forked from the test and only touch state they open themselves (never a parent's
// sqlite3 connection); they report through pipes and exit with _exit so no gtest or static
// destructors run twice.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

#include "host/state/sqlite_state_store.hpp"
#include "host/state/state_store.hpp"
#include "state_test_util.hpp"

namespace weir::host {
namespace {

using ::testing::HasSubstr;
using testing::MakeIntent;
using testing::MustOpen;
using testing::TempDir;
using testing::Wm;

/// A pipe whose ends close on destruction.
class Pipe {
 public:
  Pipe() {
    if (pipe(fds_) != 0) throw std::runtime_error("pipe failed");
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  ~Pipe() {
    CloseRead();
    CloseWrite();
  }
  int read_fd() const { return fds_[0]; }
  int write_fd() const { return fds_[1]; }
  void CloseRead() { Close(0); }
  void CloseWrite() { Close(1); }

 private:
  void Close(int i) {
    if (fds_[i] >= 0) close(fds_[i]);
    fds_[i] = -1;
  }
  int fds_[2] = {-1, -1};
};

/// A forked child, SIGKILLed and reaped on destruction if the test did not reap it.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      Wait();
    }
  }
  pid_t pid() const { return pid_; }
  /// Waits for exit; returns the raw wait status.
  int Wait() {
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_;
};

/// In a child: report failure on stderr and leave without running any destructor.
[[noreturn]] void ChildFail(const std::string& what) {
  std::fprintf(stderr, "child %d: %s\n", static_cast<int>(getpid()), what.c_str());
  _exit(1);
}

char ReadByte(int fd) {
  char c = 0;
  ssize_t n;
  do {
    n = read(fd, &c, 1);
  } while (n < 0 && errno == EINTR);
  return n == 1 ? c : '\0';
}

void WriteByte(int fd, char c) {
  if (write(fd, &c, 1) != 1) ChildFail("write to pipe failed");
}

TEST(SqliteStateStoreProcesses, LockHeldByAnotherProcessNamesItsPidUntilItIsKilled) {
  TempDir dir;
  const auto db = dir.path() / "state.db";
  Pipe ready;
  Pipe hold;
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ready.CloseRead();
    hold.CloseWrite();
    auto store = OpenSqliteStateStore(db);
    if (!store.ok()) ChildFail(store.status().ToString());
    auto lock = (*store)->TryLockPipeline("orders");
    if (!lock.ok()) ChildFail(lock.status().ToString());
    WriteByte(ready.write_fd(), 'L');
    ReadByte(hold.read_fd());  // blocks until the parent kills us
    _exit(0);
  }
  Child child(pid);
  ready.CloseWrite();
  ASSERT_EQ(ReadByte(ready.read_fd()), 'L') << "child could not take the lock";

  auto store = MustOpen(db);
  ASSERT_NE(store, nullptr);
  auto lock = store->TryLockPipeline("orders");
  ASSERT_FALSE(lock.ok());
  EXPECT_THAT(lock.status().message(),
              HasSubstr("pipeline 'orders' is already running (pid " + std::to_string(pid) + ")"));
  // Another pipeline is not affected.
  EXPECT_TRUE(store->TryLockPipeline("billing").ok());

  ASSERT_EQ(kill(pid, SIGKILL), 0);
  const int status = child.Wait();
  ASSERT_TRUE(WIFSIGNALED(status));
  // The kernel dropped the flock with the process: no stale lock after kill -9.
  lock = store->TryLockPipeline("orders");
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
}

TEST(SqliteStateStoreProcesses, IntentRecordedBeforeKillNineIsPendingAfterwards) {
  TempDir dir;
  const auto db = dir.path() / "state.db";
  Pipe ready;
  Pipe hold;
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ready.CloseRead();
    hold.CloseWrite();
    auto store = OpenSqliteStateStore(db);
    if (!store.ok()) ChildFail(store.status().ToString());
    auto lock = (*store)->TryLockPipeline("orders");
    if (!lock.ok()) ChildFail(lock.status().ToString());
    auto run = (*store)->StartRun("orders", "incremental", getpid());
    if (!run.ok()) ChildFail(run.status().ToString());
    Status s = (*store)->RecordIntent(MakeIntent("orders", "events", 1, "", Wm("k"), 9, 99, *run));
    if (!s.ok()) ChildFail(s.ToString());
    WriteByte(ready.write_fd(), 'R');
    ReadByte(hold.read_fd());
    _exit(0);
  }
  Child child(pid);
  ready.CloseWrite();
  ASSERT_EQ(ReadByte(ready.read_fd()), 'R') << "child could not record its intent";
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  child.Wait();

  // What the next run does: take the lock, mark the dead run, find the pending intent.
  auto store = MustOpen(db);
  ASSERT_NE(store, nullptr);
  auto lock = store->TryLockPipeline("orders");
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  auto marked = store->MarkInterruptedRuns("orders");
  ASSERT_TRUE(marked.ok());
  EXPECT_EQ(*marked, 1);
  auto st = store->LoadPipeline("orders", "events");
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE(st->pending.has_value());
  EXPECT_EQ(st->pending->to_wm, Wm("k"));
  EXPECT_EQ(st->pending->rows, 9u);
  auto runs = store->ListRuns("orders", 10);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].status, "interrupted");
  EXPECT_EQ((*runs)[0].pid, pid);
}

TEST(SqliteStateStoreProcesses, TwoProcessesCommitToDifferentPipelinesConcurrently) {
  TempDir dir;
  // Not created beforehand: both children also race to create and migrate the database.
  const auto db = dir.path() / "state.db";
  constexpr int kBatches = 25;
  const std::string pipelines[] = {"alpha", "beta"};
  Pipe go;
  std::optional<Child> children[2];
  for (int i = 0; i < 2; ++i) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      go.CloseWrite();
      ReadByte(go.read_fd());  // EOF when the parent closes its end: both start together
      const std::string& p = pipelines[i];
      auto store = OpenSqliteStateStore(db);
      if (!store.ok()) ChildFail(store.status().ToString());
      std::string wm;
      for (int b = 1; b <= kBatches; ++b) {
        auto run = (*store)->StartRun(p, "incremental", getpid());
        if (!run.ok()) ChildFail(run.status().ToString());
        Intent in = MakeIntent(p, "events", static_cast<uint64_t>(b), wm, Wm(p + std::to_string(b)),
                               2, 20, *run);
        Status s = (*store)->RecordIntent(in);
        if (!s.ok()) ChildFail(s.ToString());
        s = (*store)->CommitIntent(in, *run);
        if (!s.ok()) ChildFail(s.ToString());
        s = (*store)->FinishRun(*run, "succeeded", "");
        if (!s.ok()) ChildFail(s.ToString());
        wm = in.to_wm;
      }
      _exit(0);
    }
    children[i].emplace(pid);
  }
  go.CloseWrite();
  for (std::optional<Child>& c : children) {
    const int status = c->Wait();
    ASSERT_TRUE(WIFEXITED(status)) << "child died with a signal";
    EXPECT_EQ(WEXITSTATUS(status), 0) << "child failed; see its stderr above";
  }

  auto store = MustOpen(db);
  ASSERT_NE(store, nullptr);
  for (const std::string& p : pipelines) {
    auto st = store->LoadPipeline(p, "events");
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->next_batch_seq, static_cast<uint64_t>(kBatches + 1)) << p;
    EXPECT_EQ(st->committed_batches, static_cast<uint64_t>(kBatches)) << p;
    EXPECT_EQ(st->committed_rows, static_cast<uint64_t>(2 * kBatches)) << p;
    EXPECT_EQ(st->watermark, Wm(p + std::to_string(kBatches))) << p;
    auto runs = store->ListRuns(p, 0);
    ASSERT_TRUE(runs.ok());
    EXPECT_EQ(runs->size(), static_cast<size_t>(kBatches)) << p;
    for (const RunRecord& r : *runs) {
      EXPECT_EQ(r.status, "succeeded");
      EXPECT_EQ(r.batches, 1u);
    }
  }
}

}  // namespace
}  // namespace weir::host
