// plugins/snowflake/snowflake_plugin.cpp — the `snowflake` destination plugin: effectively-once
// loads of events, users and identities into Snowflake through ODBC.
//
// Built as build/plugins/libweir-snowflake.so. Open() only validates the config; the first
// Check() or Write() connects (OdbcSession), runs the per-connection setup (Loader::Start) and
// keeps the connection for the instance's life. Each Write() is one transaction that ends in
// COMMIT (loader.hpp), so Flush() has nothing left to make durable. A connection-class error
// drops the connection (the next call reconnects) and is retryable; the host replays the batch
// under the same key and the ledger makes that safe. Config, tables and guarantees:
// docs/snowflake.md.
#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include "snowflake/config.hpp"
#include "snowflake/loader.hpp"
#include "snowflake/odbc.hpp"
#include "snowflake/rows.hpp"
#include "snowflake/sql.hpp"
#include "weir/plugin.hpp"

namespace weir::snowflake {
namespace {

class SnowflakeDestination final : public Destination {
 public:
  static Result<std::unique_ptr<SnowflakeDestination>> Open(std::string_view config, Host host) {
    WEIR_ASSIGN_OR_RETURN(Config parsed, ParseConfig(config));
    return std::unique_ptr<SnowflakeDestination>(new SnowflakeDestination(std::move(parsed), host));
  }

  /// Connects, checks the schema, sets the session up and creates the ledger table.
  Status Check() override { return EnsureConnected(); }

  Status Write(const WriteRequest& request) override {
    if (request.batch.raw()->format != WEIR_FORMAT_NDJSON) {
      return Status::NotImplemented("snowflake: batch format " +
                                    std::to_string(request.batch.raw()->format) +
                                    " is not supported (only NDJSON)");
    }
    StreamKind stream;
    if (!ParseStreamKind(request.stream, &stream)) {
      return Status::NotImplemented("snowflake: stream '" + std::string(request.stream) +
                                    "' is not supported (events, users, identities)");
    }
    if (request.idempotency_key.empty()) {
      return Status::Error("snowflake: the write request has an empty idempotency key");
    }
    std::vector<PromotedColumn> promoted;
    for (const PromotedColumn& p : config_.promoted) {
      if (p.stream == stream) promoted.push_back(p);
    }
    const auto parse_start = std::chrono::steady_clock::now();
    WEIR_ASSIGN_OR_RETURN(StagedRows rows, BuildStagedRows(stream, promoted, request.batch));
    host_.Counter("snowflake.parse_ms", std::chrono::duration<double, std::milli>(
                                            std::chrono::steady_clock::now() - parse_start)
                                            .count());
    WEIR_RETURN_NOT_OK(EnsureConnected());
    BatchInfo info;
    info.stream = stream;
    info.key = request.idempotency_key;
    info.pipeline = request.pipeline;
    info.batch_seq = request.batch_seq;
    info.records = request.batch.count();
    auto outcome = loader_->Load(info, rows);
    if (!outcome.ok()) {
      if (!session_->healthy()) Disconnect();
      return outcome.status().WithContext("loading batch '" + std::string(request.idempotency_key) +
                                          "'");
    }
    if (outcome->replay) {
      host_.Counter("snowflake.replays", 1);
      host_.Info("snowflake: batch '" + std::string(request.idempotency_key) +
                 "' is already in the ledger; nothing to do");
    } else {
      host_.Counter("snowflake.rows_merged", static_cast<double>(outcome->staged_rows));
      host_.Counter("snowflake.statements", static_cast<double>(outcome->statements));
      host_.Debug("snowflake: loaded batch '" + std::string(request.idempotency_key) +
                  "': " + std::to_string(outcome->staged_rows) + " rows staged and merged into " +
                  sql_.QualifiedTarget(stream));
    }
    return Status::OK();
  }

  /// Every Write() commits its own transaction before returning.
  Status Flush() override { return Status::OK(); }

 private:
  SnowflakeDestination(Config config, Host host)
      : config_(std::move(config)),
        host_(host),
        sql_(config_.dialect, config_.tables, config_.promoted) {}

  Status EnsureConnected() {
    if (session_ != nullptr && session_->healthy()) return Status::OK();
    Disconnect();
    WEIR_ASSIGN_OR_RETURN(
        session_, OdbcSession::Connect(config_.OdbcConnectionString(), config_.Describe(),
                                       config_.login_timeout_s, Redactor(config_.Secrets())));
    loader_ = std::make_unique<Loader>(session_.get(), &sql_, config_.load_method,
                                       config_.rows_per_statement, config_.stage_dir, host_);
    Status s = loader_->Start();
    if (!s.ok()) {
      Disconnect();
      return s;
    }
    host_.Info("snowflake: connected to " + session_->ServerDescription() + " (" +
               config_.Describe() + ")");
    return Status::OK();
  }

  void Disconnect() {
    loader_.reset();
    session_.reset();
  }

  Config config_;
  Host host_;
  SqlBuilder sql_;
  std::unique_ptr<OdbcSession> session_;
  std::unique_ptr<Loader> loader_;
};

}  // namespace
}  // namespace weir::snowflake

WEIR_PLUGIN((weir::PluginInfo{
                "snowflake",
                "1.0.0",
                "Loads events, users and identities into Snowflake through ODBC, effectively "
                "once: staging table + MERGE + batch ledger in one transaction per batch",
                {"events", "users", "identities"},
                weir::snowflake::kConfigSchema}),
            weir::NoSource, weir::snowflake::SnowflakeDestination)
