// plugins/snowflake/rows.cpp — canonical records → staging rows (simdjson on-demand for the
// records, the DOM API only for promoted columns).
#include "snowflake/rows.hpp"

#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace weir::snowflake {

void StagedRows::Add(std::string_view value) {
  starts_.push_back(arena_.size());
  lengths_.push_back(static_cast<int64_t>(value.size()));
  arena_.append(value);
}

void StagedRows::AddNull() {
  starts_.push_back(arena_.size());
  lengths_.push_back(-1);
}

std::optional<std::string_view> StagedRows::field(size_t row, size_t column) const {
  const size_t i = row * columns_ + column;
  if (lengths_[i] < 0) return std::nullopt;
  return std::string_view(arena_.data() + starts_[i], static_cast<size_t>(lengths_[i]));
}

size_t StagedRows::RowBytes(size_t row) const {
  size_t n = 0;
  for (size_t c = 0; c < columns_; ++c) {
    const int64_t len = lengths_[row * columns_ + c];
    if (len > 0) n += static_cast<size_t>(len);
  }
  return n;
}

Result<std::string> FormatTimestampMs(int64_t ms) {
  using namespace std::chrono;
  // Years 1..9999: -62135596800000 .. 253402300799999 ms.
  constexpr int64_t kMin = -62135596800000;
  constexpr int64_t kMax = 253402300799999;
  if (ms < kMin || ms > kMax) {
    return Status::Error("time " + std::to_string(ms) +
                         " ms is outside years 1..9999 and cannot be stored as TIMESTAMP_NTZ");
  }
  const sys_time<milliseconds> t{milliseconds{ms}};
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<milliseconds> hms{t - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d:%02d.%03d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()),
                static_cast<int>(hms.subseconds().count()));
  return std::string(buf);
}

namespace {

namespace od = simdjson::ondemand;

/// One record's fields, before deduplication.
struct Record {
  std::optional<std::string> a;  // events: insert_id; users/identities: distinct_id
  std::optional<std::string> b;  // events: event; identities: user_id
  std::optional<std::string> c;  // events: distinct_id
  std::optional<int64_t> time_ms;
  std::optional<std::string_view> properties;  // raw JSON object text (points into the batch)
  bool deleted = false;
};

Status RecordError(StreamKind stream, size_t index, std::string_view what) {
  return Status::Error("snowflake: " + std::string(StreamName(stream)) + " record " +
                       std::to_string(index) + " of the batch: " + std::string(what));
}

/// A string or number field as text; nullopt for null. Anything else is an error.
Result<std::optional<std::string>> ScalarText(od::value& v, std::string_view key) {
  od::json_type type;
  if (v.type().get(type)) return Status::Error(std::string(key) + ": malformed JSON");
  switch (type) {
    case od::json_type::string: {
      std::string_view s;
      if (v.get_string().get(s)) return Status::Error(std::string(key) + ": malformed string");
      return std::optional<std::string>(std::string(s));
    }
    case od::json_type::number: {
      std::string_view raw = v.raw_json_token();
      while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\t' ||
                              raw.back() == '\r')) {
        raw.remove_suffix(1);
      }
      return std::optional<std::string>(std::string(raw));
    }
    case od::json_type::null:
      return std::optional<std::string>();
    default:
      return Status::Error(std::string(key) + ": expected a string");
  }
}

Result<std::optional<int64_t>> TimeField(od::value& v, std::string_view key) {
  od::json_type type;
  if (v.type().get(type)) return Status::Error(std::string(key) + ": malformed JSON");
  if (type == od::json_type::null) return std::optional<int64_t>();
  int64_t ms = 0;
  if (type != od::json_type::number || v.get_int64().get(ms)) {
    return Status::Error(std::string(key) + ": expected an integer (ms since the epoch, UTC)");
  }
  return std::optional<int64_t>(ms);
}

/// Parses one record into `out`. `index` only names the record in errors.
Status ParseRecord(od::parser& parser, StreamKind stream, const char* data, size_t len,
                   size_t capacity, Record* out) {
  od::document doc;
  if (auto error = parser.iterate(data, len, capacity).get(doc); error) {
    return Status::Error(std::string("not valid JSON (") + simdjson::error_message(error) + ")");
  }
  od::object obj;
  if (doc.get_object().get(obj)) return Status::Error("not a JSON object");
  for (auto field_result : obj) {
    od::field field;
    if (std::move(field_result).get(field)) return Status::Error("malformed JSON object");
    std::string_view key;
    if (field.unescaped_key().get(key)) return Status::Error("malformed key");
    od::value v = field.value();
    const std::string k(key);  // the key's storage is reused by the next string read
    if (k == "properties") {
      od::json_type type;
      if (v.type().get(type)) return Status::Error("properties: malformed JSON");
      if (type == od::json_type::null) {
        out->properties.reset();
      } else if (type == od::json_type::object) {
        od::object props;
        std::string_view raw;
        if (v.get_object().get(props) || props.raw_json().get(raw)) {
          return Status::Error("properties: malformed JSON object");
        }
        out->properties = raw;
      } else {
        return Status::Error("properties: expected an object");
      }
    } else if (k == "deleted" && stream == StreamKind::kUsers) {
      bool b = false;
      od::json_type type;
      if (v.type().get(type)) return Status::Error("deleted: malformed JSON");
      if (type == od::json_type::null) continue;
      if (v.get_bool().get(b)) return Status::Error("deleted: expected true or false");
      out->deleted = b;
    } else if ((k == "time" && stream != StreamKind::kUsers) ||
               (k == "updated_at" && stream == StreamKind::kUsers)) {
      WEIR_ASSIGN_OR_RETURN(out->time_ms, TimeField(v, k));
    } else {
      std::optional<std::string>* slot = nullptr;
      if (stream == StreamKind::kEvents) {
        slot = k == "insert_id"     ? &out->a
               : k == "event"       ? &out->b
               : k == "distinct_id" ? &out->c
                                    : nullptr;
      } else if (stream == StreamKind::kUsers) {
        slot = k == "distinct_id" ? &out->a : nullptr;
      } else {
        slot = k == "distinct_id" ? &out->a : k == "user_id" ? &out->b : nullptr;
      }
      if (slot != nullptr) {
        WEIR_ASSIGN_OR_RETURN(*slot, ScalarText(v, k));
      }
    }
  }
  return Status::OK();
}

/// Converts one promoted property to its staged text; nullopt (SQL NULL) when it is missing
/// or of another type than the column's.
std::optional<std::string> PromotedValue(const simdjson::dom::element& e, ColumnType type) {
  using simdjson::dom::element_type;
  const element_type t = e.type();
  switch (type) {
    case ColumnType::kVarchar:
      if (t == element_type::STRING) return std::string(e.get_string().value_unsafe());
      if (t == element_type::NULL_VALUE) return std::nullopt;
      return simdjson::to_string(e);
    case ColumnType::kVariant:
      return simdjson::to_string(e);
    case ColumnType::kNumber:
      if (t == element_type::INT64 || t == element_type::UINT64) return simdjson::to_string(e);
      return std::nullopt;
    case ColumnType::kFloat:
      if (t == element_type::INT64 || t == element_type::UINT64 || t == element_type::DOUBLE) {
        return simdjson::to_string(e);
      }
      return std::nullopt;
    case ColumnType::kBoolean:
      if (t == element_type::BOOL)
        return std::string(e.get_bool().value_unsafe() ? "true" : "false");
      return std::nullopt;
    case ColumnType::kTimestampNtz:
      if (t == element_type::INT64) {
        auto ts = FormatTimestampMs(e.get_int64().value_unsafe());
        if (ts.ok()) return std::move(ts).value();
      }
      return std::nullopt;
  }
  return std::nullopt;
}

/// Stages the promoted columns of one record (properties may be absent).
void AddPromoted(simdjson::dom::parser& dom, const std::vector<PromotedColumn>& promoted,
                 const std::optional<std::string_view>& properties, StagedRows* rows) {
  if (promoted.empty()) return;
  simdjson::dom::element root;
  // A properties object the DOM cannot hold (an integer beyond 64 bits, say) still loads into
  // PROPERTIES; only its promoted columns stay NULL.
  const bool parsed =
      properties.has_value() && !dom.parse(properties->data(), properties->size()).get(root);
  for (const PromotedColumn& p : promoted) {
    simdjson::dom::element e;
    std::optional<std::string> value;
    if (parsed && !root.at_pointer(p.pointer).get(e)) value = PromotedValue(e, p.type);
    if (value.has_value()) {
      rows->Add(*value);
    } else {
      rows->AddNull();
    }
  }
}

void AddOptional(const std::optional<std::string>& v, StagedRows* rows) {
  if (v.has_value()) {
    rows->Add(*v);
  } else {
    rows->AddNull();
  }
}

}  // namespace

Result<StagedRows> BuildStagedRows(StreamKind stream, const std::vector<PromotedColumn>& promoted,
                                   const BatchView& batch) {
  SqlBuilder columns_of(Dialect::kSnowflake, TableNames{}, promoted);
  StagedRows rows(columns_of.StageColumns(stream).size());
  const size_t count = batch.count();
  if (count == 0) return rows;

  // One padded copy of the batch: on-demand parsing needs SIMDJSON_PADDING readable bytes after
  // each record, which the host's buffer does not promise for the last one.
  const std::string_view data = batch.data();
  simdjson::padded_string padded(data);
  std::vector<size_t> offsets;
  offsets.reserve(count + 1);
  if (batch.has_offsets()) {
    for (size_t i = 0; i <= count; ++i) offsets.push_back(batch.raw()->offsets[i]);
  } else {
    offsets.push_back(0);
    for (size_t at = 0; at < data.size() && offsets.size() <= count; ++at) {
      if (data[at] == '\n') offsets.push_back(at + 1);
    }
    if (offsets.size() != count + 1) {
      return Status::Error("snowflake: the batch declares " + std::to_string(count) +
                           " records but holds " + std::to_string(offsets.size() - 1) + " lines");
    }
  }

  od::parser parser;
  simdjson::dom::parser dom;
  std::vector<Record> records(stream == StreamKind::kUsers ? count : 0);
  std::unordered_set<std::string> seen;
  for (size_t i = 0; i < count; ++i) {
    size_t begin = offsets[i], end = offsets[i + 1];
    if (end > data.size() || begin > end) {
      return RecordError(stream, i, "offsets point outside the batch");
    }
    if (end > begin && data[end - 1] == '\n') --end;
    Record local;
    Record& r = stream == StreamKind::kUsers ? records[i] : local;
    Status s = ParseRecord(parser, stream, padded.data() + begin, end - begin,
                           padded.size() + simdjson::SIMDJSON_PADDING - begin, &r);
    if (!s.ok()) return RecordError(stream, i, s.message());
    if (!r.time_ms.has_value()) r.time_ms = batch.event_time_ms(i);
    auto time_text = FormatTimestampMs(*r.time_ms);
    if (!time_text.ok()) return RecordError(stream, i, time_text.status().message());

    switch (stream) {
      case StreamKind::kEvents: {
        if (!r.a.has_value() || r.a->empty()) {
          return RecordError(stream, i, "insert_id: required (the deduplication key)");
        }
        if (!seen.insert(*r.a).second) continue;  // a duplicate inside the batch: first wins
        rows.Add(*r.a);
        AddOptional(r.b, &rows);
        AddOptional(r.c, &rows);
        rows.Add(time_text.value());
        if (r.properties.has_value()) {
          rows.Add(*r.properties);
        } else {
          rows.AddNull();
        }
        AddPromoted(dom, promoted, r.properties, &rows);
        break;
      }
      case StreamKind::kUsers:
        if (!r.a.has_value() || r.a->empty()) {
          return RecordError(stream, i, "distinct_id: required");
        }
        break;  // staged after deduplication, below
      case StreamKind::kIdentities: {
        if (!r.a.has_value() || r.a->empty()) {
          return RecordError(stream, i, "distinct_id: required");
        }
        if (!r.b.has_value() || r.b->empty()) return RecordError(stream, i, "user_id: required");
        std::string key = *r.a;
        key.push_back('\0');
        key += *r.b;
        if (!seen.insert(std::move(key)).second) continue;
        rows.Add(*r.a);
        rows.Add(*r.b);
        rows.Add(time_text.value());
        break;
      }
    }
  }

  if (stream == StreamKind::kUsers) {
    // The latest updated_at per distinct_id wins; on a tie the later record.
    std::unordered_map<std::string, size_t> winner;
    for (size_t i = 0; i < count; ++i) {
      auto [it, inserted] = winner.emplace(*records[i].a, i);
      if (!inserted && *records[i].time_ms >= *records[it->second].time_ms) it->second = i;
    }
    for (size_t i = 0; i < count; ++i) {
      const Record& r = records[i];
      if (winner[*r.a] != i) continue;
      rows.Add(*r.a);
      rows.Add(FormatTimestampMs(*r.time_ms).value());
      if (r.deleted || !r.properties.has_value()) {
        rows.AddNull();
      } else {
        rows.Add(*r.properties);
      }
      rows.Add(r.deleted ? "true" : "false");
      AddPromoted(dom, promoted, r.deleted ? std::nullopt : r.properties, &rows);
    }
  }
  return rows;
}

}  // namespace weir::snowflake
