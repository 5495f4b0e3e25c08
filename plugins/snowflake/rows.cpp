// plugins/snowflake/rows.cpp — canonical records → staging rows (simdjson on-demand for the
// records, the DOM API only for promoted columns).
#include "snowflake/rows.hpp"

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <utility>

namespace weir::snowflake {

namespace {

// Years 1..9999.
constexpr int64_t kMinTimestampMs = -62135596800000;
constexpr int64_t kMaxTimestampMs = 253402300799999;
constexpr size_t kTimestampSize = 23;  // 'YYYY-MM-DD HH:MM:SS.mmm'

bool TimestampInRange(int64_t ms) { return ms >= kMinTimestampMs && ms <= kMaxTimestampMs; }

Status TimestampOutOfRange(int64_t ms) {
  return Status::Error("time " + std::to_string(ms) +
                       " ms is outside years 1..9999 and cannot be stored as TIMESTAMP_NTZ");
}

/// Writes 0 <= v < 100 as two digits to out[0, 2).
void WriteTwoDigits(uint32_t v, char* out) {
  static constexpr char kPairs[] =
      "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
      "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
      "8081828384858687888990919293949596979899";
  out[0] = kPairs[2 * v];
  out[1] = kPairs[2 * v + 1];
}

/// Writes a time within the range as 'YYYY-MM-DD HH:MM:SS.mmm' to out[0, kTimestampSize) and
/// returns that text. By hand: snprintf was a third of the CPU time of staging an event.
std::string_view WriteTimestamp(int64_t ms, char* out) {
  using namespace std::chrono;
  const sys_days day = floor<days>(sys_time<milliseconds>{milliseconds{ms}});
  const year_month_day ymd{day};
  // floor() took the day the instant is in, also before 1970: 0 <= in_day < 86400000.
  const auto in_day =
      static_cast<uint32_t>(ms - duration_cast<milliseconds>(day.time_since_epoch()).count());
  const auto year = static_cast<uint32_t>(static_cast<int>(ymd.year()));  // 1..9999
  WriteTwoDigits(year / 100, out);
  WriteTwoDigits(year % 100, out + 2);
  out[4] = '-';
  WriteTwoDigits(static_cast<unsigned>(ymd.month()), out + 5);
  out[7] = '-';
  WriteTwoDigits(static_cast<unsigned>(ymd.day()), out + 8);
  out[10] = ' ';
  WriteTwoDigits(in_day / 3600000, out + 11);
  out[13] = ':';
  WriteTwoDigits(in_day / 60000 % 60, out + 14);
  out[16] = ':';
  WriteTwoDigits(in_day / 1000 % 60, out + 17);
  out[19] = '.';
  const uint32_t millis = in_day % 1000;
  out[20] = static_cast<char>('0' + millis / 100);
  WriteTwoDigits(millis % 100, out + 21);
  return std::string_view(out, kTimestampSize);
}

}  // namespace

void StagedRows::Add(std::string_view value) {
  starts_.push_back(arena_.size());
  lengths_.push_back(static_cast<int64_t>(value.size()));
  arena_.append(value);
}

void StagedRows::AddNull() {
  starts_.push_back(arena_.size());
  lengths_.push_back(-1);
}

void StagedRows::Reserve(size_t rows, size_t bytes) {
  starts_.reserve(starts_.size() + rows * columns_);
  lengths_.reserve(lengths_.size() + rows * columns_);
  arena_.reserve(arena_.size() + bytes);
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

void StagedRows::SortAndDedupe(size_t key_columns, std::optional<size_t> latest_column) {
  const size_t n = rows();
  key_columns = std::min(key_columns, columns_);
  if (n < 2 || key_columns == 0) return;
  // Sorting (prefix, row) pairs: the first 8 bytes of the key, big-endian, decide most
  // comparisons without touching the arena. NULL and "" both get prefix 0 and fall through to
  // the full comparison.
  auto prefix = [this](size_t row) {
    uint64_t p = 0;
    if (auto f = field(row, 0)) {
      for (size_t i = 0; i < 8; ++i) {
        p = (p << 8) | (i < f->size() ? static_cast<unsigned char>((*f)[i]) : 0u);
      }
    }
    return p;
  };
  // <0, 0, >0 as row a's key sorts before, equal to or after row b's.
  auto compare = [this, key_columns](size_t a, size_t b) {
    for (size_t c = 0; c < key_columns; ++c) {
      const auto fa = field(a, c), fb = field(b, c);
      if (fa.has_value() != fb.has_value()) return fa.has_value() ? 1 : -1;
      if (!fa.has_value()) continue;
      if (const int cmp = fa->compare(*fb); cmp != 0) return cmp;
    }
    return 0;
  };
  std::vector<std::pair<uint64_t, size_t>> order;
  order.reserve(n);
  bool strictly_ascending = true;  // then there is nothing to reorder or drop
  for (size_t r = 0; r < n; ++r) {
    order.emplace_back(prefix(r), r);
    if (r > 0 && strictly_ascending && compare(r - 1, r) >= 0) strictly_ascending = false;
  }
  if (strictly_ascending) return;
  // Stable: rows with one key stay in arrival order, which is what "first" and "last" mean.
  std::stable_sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return compare(a.second, b.second) < 0;
  });
  auto later_or_same = [&](size_t candidate, size_t kept) {  // for `latest_column`
    const auto c = field(candidate, *latest_column), k = field(kept, *latest_column);
    if (!k.has_value()) return true;
    return c.has_value() && c->compare(*k) >= 0;
  };
  std::vector<size_t> starts;
  std::vector<int64_t> lengths;
  starts.reserve(starts_.size());
  lengths.reserve(lengths_.size());
  for (size_t group = 0; group < n;) {
    size_t end = group + 1;
    size_t keep = order[group].second;
    for (; end < n && compare(order[group].second, order[end].second) == 0; ++end) {
      if (latest_column.has_value() && later_or_same(order[end].second, keep)) {
        keep = order[end].second;
      }
    }
    const auto from = static_cast<std::ptrdiff_t>(keep * columns_);
    starts.insert(starts.end(), starts_.begin() + from,
                  starts_.begin() + from + static_cast<std::ptrdiff_t>(columns_));
    lengths.insert(lengths.end(), lengths_.begin() + from,
                   lengths_.begin() + from + static_cast<std::ptrdiff_t>(columns_));
    group = end;
  }
  starts_ = std::move(starts);
  lengths_ = std::move(lengths);
}

Result<std::string> FormatTimestampMs(int64_t ms) {
  if (!TimestampInRange(ms)) return TimestampOutOfRange(ms);
  char buf[kTimestampSize];
  return std::string(WriteTimestamp(ms, buf));
}

namespace {

namespace od = simdjson::ondemand;

/// One record's fields, before deduplication. The strings view the batch or the parser's
/// string buffer, so they are valid until the parser's next iterate(): simdjson unescapes each
/// string to a fresh place in that buffer and rewinds it only for the next document.
struct Record {
  std::optional<std::string_view> a;  // events: insert_id; users/identities: distinct_id
  std::optional<std::string_view> b;  // events: event; identities: user_id
  std::optional<std::string_view> c;  // events: distinct_id
  std::optional<int64_t> time_ms;
  std::optional<std::string_view> properties;  // raw JSON object text (points into the batch)
  bool deleted = false;
};

Status RecordError(StreamKind stream, size_t index, std::string_view what) {
  return Status::Error("snowflake: " + std::string(StreamName(stream)) + " record " +
                       std::to_string(index) + " of the batch: " + std::string(what));
}

/// A string or number field as text; nullopt for null. Anything else is an error. The text
/// views the parser's string buffer or the record (see Record).
Result<std::optional<std::string_view>> ScalarText(od::value& v, std::string_view key) {
  od::json_type type;
  if (v.type().get(type)) return Status::Error(std::string(key) + ": malformed JSON");
  switch (type) {
    case od::json_type::string: {
      std::string_view s;
      if (v.get_string().get(s)) return Status::Error(std::string(key) + ": malformed string");
      return std::optional<std::string_view>(s);
    }
    case od::json_type::number: {
      std::string_view raw = v.raw_json_token();
      while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\t' ||
                              raw.back() == '\r')) {
        raw.remove_suffix(1);
      }
      return std::optional<std::string_view>(raw);
    }
    case od::json_type::null:
      return std::optional<std::string_view>();
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
    if (key == "properties") {
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
    } else if (key == "deleted" && stream == StreamKind::kUsers) {
      bool b = false;
      od::json_type type;
      if (v.type().get(type)) return Status::Error("deleted: malformed JSON");
      if (type == od::json_type::null) continue;
      if (v.get_bool().get(b)) return Status::Error("deleted: expected true or false");
      out->deleted = b;
    } else if ((key == "time" && stream != StreamKind::kUsers) ||
               (key == "updated_at" && stream == StreamKind::kUsers)) {
      WEIR_ASSIGN_OR_RETURN(out->time_ms, TimeField(v, key));
    } else {
      std::optional<std::string_view>* slot = nullptr;
      if (stream == StreamKind::kEvents) {
        slot = key == "insert_id"     ? &out->a
               : key == "event"       ? &out->b
               : key == "distinct_id" ? &out->c
                                      : nullptr;
      } else if (stream == StreamKind::kUsers) {
        slot = key == "distinct_id" ? &out->a : nullptr;
      } else {
        slot = key == "distinct_id" ? &out->a : key == "user_id" ? &out->b : nullptr;
      }
      if (slot != nullptr) {
        WEIR_ASSIGN_OR_RETURN(*slot, ScalarText(v, key));
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

void AddOptional(const std::optional<std::string_view>& v, StagedRows* rows) {
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

  const std::string_view data = batch.data();
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

  // On-demand parsing needs SIMDJSON_PADDING allocated bytes after a record, whatever their
  // value (simdjson.h, ondemand::parser::iterate). The batch has them after all but its last
  // records: those are parsed from a padded copy of the batch's tail (the same bytes followed
  // by zeros), the others in place, which spares copying the whole batch.
  size_t tail_begin = data.size();
  for (size_t i = 0; i < count; ++i) {
    if (offsets[i + 1] > data.size() || data.size() - offsets[i + 1] < simdjson::SIMDJSON_PADDING) {
      tail_begin = std::min(tail_begin, offsets[i]);
    }
  }
  const simdjson::padded_string tail(data.substr(tail_begin));

  // A staged row holds at most its record's text (unescaping only shrinks it) and a time, plus
  // "false" for users; promoted columns may add more.
  rows.Reserve(count, data.size() + count * (kTimestampSize + 5));
  od::parser parser;
  simdjson::dom::parser dom;
  // Records view the parser's buffer (see Record): each is staged (copied into the rows'
  // arena) before the next is parsed. Duplicates are staged too and dropped by the sort below.
  char time_buf[kTimestampSize];
  for (size_t i = 0; i < count; ++i) {
    size_t begin = offsets[i], end = offsets[i + 1];
    if (end > data.size() || begin > end) {
      return RecordError(stream, i, "offsets point outside the batch");
    }
    if (end > begin && data[end - 1] == '\n') --end;
    Record r;
    Status s =
        begin < tail_begin
            ? ParseRecord(parser, stream, data.data() + begin, end - begin, data.size() - begin, &r)
            : ParseRecord(parser, stream, tail.data() + (begin - tail_begin), end - begin,
                          tail.size() + simdjson::SIMDJSON_PADDING - (begin - tail_begin), &r);
    if (!s.ok()) return RecordError(stream, i, s.message());
    if (!r.time_ms.has_value()) r.time_ms = batch.event_time_ms(i);
    if (!TimestampInRange(*r.time_ms)) {
      return RecordError(stream, i, TimestampOutOfRange(*r.time_ms).message());
    }

    switch (stream) {
      case StreamKind::kEvents:
        if (!r.a.has_value() || r.a->empty()) {
          return RecordError(stream, i, "insert_id: required (the deduplication key)");
        }
        rows.Add(*r.a);
        AddOptional(r.b, &rows);
        AddOptional(r.c, &rows);
        rows.Add(WriteTimestamp(*r.time_ms, time_buf));
        AddOptional(r.properties, &rows);
        AddPromoted(dom, promoted, r.properties, &rows);
        break;
      case StreamKind::kUsers:
        if (!r.a.has_value() || r.a->empty()) {
          return RecordError(stream, i, "distinct_id: required");
        }
        rows.Add(*r.a);
        rows.Add(WriteTimestamp(*r.time_ms, time_buf));
        AddOptional(r.deleted ? std::nullopt : r.properties, &rows);
        rows.Add(r.deleted ? "true" : "false");
        AddPromoted(dom, promoted, r.deleted ? std::nullopt : r.properties, &rows);
        break;
      case StreamKind::kIdentities:
        if (!r.a.has_value() || r.a->empty()) {
          return RecordError(stream, i, "distinct_id: required");
        }
        if (!r.b.has_value() || r.b->empty()) return RecordError(stream, i, "user_id: required");
        rows.Add(*r.a);
        rows.Add(*r.b);
        rows.Add(WriteTimestamp(*r.time_ms, time_buf));
        break;
    }
  }

  // Key order, one row per key (the key columns lead every staged row): events and identities
  // keep their first record, users the latest UPDATED_AT (column 1, fixed-width text, so
  // comparing the text compares the times), the later record on a tie.
  if (stream == StreamKind::kUsers) {
    rows.SortAndDedupe(1, /*latest_column=*/1);
  } else {
    rows.SortAndDedupe(stream == StreamKind::kIdentities ? 2 : 1);
  }
  return rows;
}

}  // namespace weir::snowflake
