// plugins/snowflake/stage.hpp — the local half of the `stage` load method: the batch's staging
// rows as a gzip NDJSON file with a deterministic name, ready for PUT.
//
// Each line is one staging row as a JSON object keyed by staging column name, every value a
// JSON string or null ({"INSERT_ID":"e1","EVENT":"view","TIME":"2023-11-14 22:13:20.000",
// "PROPERTIES":"{\"a\":1}"}), so COPY INTO fills the same VARCHAR staging table the `insert`
// method fills by array binding, and the same MERGE follows. The file name is derived from the
// idempotency key only, so a replayed batch overwrites its own file (PUT … OVERWRITE = TRUE)
// instead of leaving a second one behind. The gzip stream carries no timestamp, so the same rows
// always give the same bytes.
//
//   const std::string name = StageFileName(request.idempotency_key);
//   WEIR_RETURN_NOT_OK(WriteStageFile(dir + "/" + name, rows, sql.StageColumns(stream)));
#ifndef WEIR_PLUGINS_SNOWFLAKE_STAGE_HPP
#define WEIR_PLUGINS_SNOWFLAKE_STAGE_HPP

#include <string>
#include <string_view>
#include <vector>

#include "snowflake/rows.hpp"
#include "weir/plugin.hpp"

namespace weir::snowflake {

/// `weir::KeyFileName(key) + ".ndjson.gz"` (weir/files.hpp): every byte of the key outside
/// [A-Za-z0-9._-] becomes '_'; a key that needed changing, or longer than 160 bytes, also gets
/// a hash of the original key, so two keys never share a file. Safe unquoted in a stage path.
std::string StageFileName(std::string_view idempotency_key);

/// The NDJSON text of the banner (one line per staged row, each ending in '\n').
std::string StagedRowsToNdjson(const StagedRows& rows, const std::vector<std::string>& columns);

/// gzip (RFC 1952, no timestamp) of `data`.
Result<std::string> Gzip(std::string_view data);

/// Writes gzip(NDJSON of `rows`) to `path` atomically (temp file + rename), fsynced.
Status WriteStageFile(const std::string& path, const StagedRows& rows,
                      const std::vector<std::string>& columns);

}  // namespace weir::snowflake

#endif  // WEIR_PLUGINS_SNOWFLAKE_STAGE_HPP
