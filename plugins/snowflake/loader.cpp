// plugins/snowflake/loader.cpp — the per-batch transaction of the snowflake destination
// (see loader.hpp for the statement sequence).
#include "snowflake/loader.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "snowflake/stage.hpp"

namespace weir::snowflake {
namespace {

/// Adds the milliseconds since `since` to counter `metric`; returns now.
std::chrono::steady_clock::time_point Lap(std::chrono::steady_clock::time_point since,
                                          const char* metric, const Host& host) {
  const auto now = std::chrono::steady_clock::now();
  host.Counter(metric, std::chrono::duration<double, std::milli>(now - since).count());
  return now;
}

}  // namespace

Status Loader::Start() {
  ready_streams_.clear();
  WEIR_ASSIGN_OR_RETURN(int64_t schemas,
                        session_->QueryInt(sql_->SchemaExists(), {sql_->tables().schema}));
  if (schemas == 0) {
    session_->Rollback().ok();  // nothing to undo; the error below is what matters
    return Status::Error("snowflake: schema " + QuoteIdentifier(sql_->tables().schema) +
                         " does not exist, or the role cannot see it (create it, or grant "
                         "USAGE on it; see docs/snowflake.md)");
  }
  for (const std::string& statement : sql_->SessionSetup()) {
    WEIR_RETURN_NOT_OK(session_->Execute(statement));
  }
  WEIR_RETURN_NOT_OK(session_->Execute(sql_->CreateLedger()));
  return session_->Commit();
}

Status Loader::EnsureStream(StreamKind stream) {
  if (ready_streams_.count(stream) != 0) return Status::OK();
  WEIR_RETURN_NOT_OK(session_->Execute(sql_->CreateTarget(stream)));
  for (const std::string& statement : sql_->AddPromotedColumns(stream)) {
    WEIR_RETURN_NOT_OK(session_->Execute(statement));
  }
  WEIR_RETURN_NOT_OK(session_->Execute(sql_->CreateStageTable(stream)));
  WEIR_RETURN_NOT_OK(session_->Commit());
  ready_streams_.insert(stream);
  return Status::OK();
}

std::vector<std::pair<size_t, size_t>> Loader::Chunks(const StagedRows& rows) const {
  std::vector<std::pair<size_t, size_t>> out;
  const size_t n = rows.rows();
  const size_t columns = rows.columns();
  std::vector<size_t> widths(columns);
  size_t begin = 0;
  while (begin < n) {
    std::fill(widths.begin(), widths.end(), 1);
    size_t end = begin;
    size_t bytes = 0;
    while (end < n && end - begin < rows_per_statement_) {
      size_t row_width = 0;
      for (size_t c = 0; c < columns; ++c) {
        auto f = rows.field(end, c);
        row_width += std::max(widths[c], f ? f->size() : 0);
      }
      const size_t row_bytes = rows.RowBytes(end);
      const size_t buffer = (end - begin + 1) * row_width;
      if (end > begin && (bytes + row_bytes > kMaxStatementBytes || buffer > kMaxBindBufferBytes)) {
        break;
      }
      for (size_t c = 0; c < columns; ++c) {
        auto f = rows.field(end, c);
        widths[c] = std::max(widths[c], f ? f->size() : 0);
      }
      bytes += row_bytes;
      ++end;
    }
    out.emplace_back(begin, end);
    begin = end;
  }
  return out;
}

Status Loader::LoadInTransaction(const BatchInfo& info, const StagedRows& rows, LoadOutcome* out,
                                 std::string* staged_file) {
  const StreamKind stream = info.stream;
  const std::string key(info.key);
  WEIR_RETURN_NOT_OK(session_->Execute(sql_->ClearStageTable(stream)));
  WEIR_ASSIGN_OR_RETURN(int64_t seen, session_->QueryInt(sql_->LedgerLookup(), {key}));
  if (seen > 0) {
    out->replay = true;
    return session_->Rollback();
  }
  auto started = std::chrono::steady_clock::now();
  if (method_ == LoadMethod::kInsert) {
    const std::string insert = sql_->InsertStage(stream);
    for (const auto& [begin, end] : Chunks(rows)) {
      if (host_.IsCancelled()) return Status::Cancelled("snowflake: load cancelled by the host");
      WEIR_RETURN_NOT_OK(session_->InsertRows(insert, rows, begin, end));
      ++out->statements;
    }
  } else if (rows.rows() > 0) {
    const std::string name = StageFileName(key);
    const std::string path = stage_dir_ + "/" + name;
    WEIR_RETURN_NOT_OK(WriteStageFile(path, rows, sql_->StageColumns(stream)));
    *staged_file = path;
    WEIR_RETURN_NOT_OK(session_->Execute(sql_->Put(stream, path)));
    WEIR_RETURN_NOT_OK(session_->Execute(sql_->CopyIntoStage(stream, name)));
    out->statements = 1;
  }
  if (host_.IsCancelled()) return Status::Cancelled("snowflake: load cancelled by the host");
  started = Lap(started, "snowflake.stage_ms", host_);
  std::vector<Param> merge_params(static_cast<size_t>(sql_->MergeParams(stream)), Param(key));
  WEIR_RETURN_NOT_OK(session_->ExecuteWithParams(sql_->Merge(stream), merge_params));
  started = Lap(started, "snowflake.merge_ms", host_);
  const std::string& target = sql_->TargetName(stream);
  WEIR_RETURN_NOT_OK(session_->ExecuteWithParams(
      sql_->LedgerInsert(),
      {Param(key), Param(std::string(info.pipeline)), Param(std::string(StreamName(stream))),
       Param(static_cast<int64_t>(info.batch_seq)), Param(target),
       Param(static_cast<int64_t>(info.records)), Param(static_cast<int64_t>(rows.rows()))}));
  WEIR_RETURN_NOT_OK(session_->Commit());
  Lap(started, "snowflake.commit_ms", host_);
  out->staged_rows = rows.rows();
  return Status::OK();
}

Result<LoadOutcome> Loader::Load(const BatchInfo& info, const StagedRows& rows) {
  WEIR_RETURN_NOT_OK(EnsureStream(info.stream));
  LoadOutcome outcome;
  std::string staged_file;
  Status s = LoadInTransaction(info, rows, &outcome, &staged_file);
  if (!s.ok()) {
    // Best effort: on a lost connection the server rolls back by itself.
    if (session_->healthy()) session_->Rollback().ok();
    if (!staged_file.empty()) ::unlink(staged_file.c_str());
    return s;
  }
  if (!staged_file.empty()) {
    ::unlink(staged_file.c_str());
    const std::string name = StageFileName(info.key);
    Status removed = session_->Execute(sql_->RemoveStaged(info.stream, name));
    if (removed.ok()) removed = session_->Commit();
    if (!removed.ok()) {
      // The batch is committed; a leftover staged file is only storage, and the next replay of
      // the key would overwrite it.
      host_.Warn("snowflake: could not remove staged file " + name + ": " + removed.message());
    }
  }
  return outcome;
}

}  // namespace weir::snowflake
