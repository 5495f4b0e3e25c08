// host/observe/status_html.cpp — RenderStatusHtml: the /status page.
//
// One self-contained HTML document: inline CSS, an inline SVG chart per pipeline, no script
// and no external asset (it works offline and behind any proxy); it reloads itself every 10 s.
// Every piece of text that comes from a file, a plugin or the store goes through HtmlEscape.
// Plugin configs are never shown: config_json holds resolved secrets, and even config_raw is
// left out (a literal password in a pipeline file would otherwise reach the page).
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <sstream>

#include "observe/observe.hpp"
#include "observe/observe_internal.hpp"
#include "schedule/schedule.hpp"

namespace weir::host {
namespace {

using observe_internal::EndedCaughtUp;
using observe_internal::FormatDuration;
using observe_internal::FormatUtcMs;
using observe_internal::HtmlEscape;
using observe_internal::RunFailed;

constexpr int kChartRuns = 50;    // bars in the rows-per-run chart
constexpr int kTableRuns = 20;    // rows in the recent-runs table
constexpr int kLedgerRows = 400;  // ledger rows shown (a year and some)
constexpr size_t kErrorChars = 200;

const char* kCss = R"(
:root{--fg:#1d2330;--muted:#6b7385;--line:#dde1e8;--bg:#f6f7f9;--card:#fff;--ok:#2f7d4f;
--bad:#c62828;--warn:#b26a00;--blue:#3567c7;--grey:#9aa1ad}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);
background:var(--bg)}
header{background:#1d2330;color:#fff;padding:14px 24px;display:flex;align-items:baseline;gap:18px;
flex-wrap:wrap}
header h1{margin:0;font-size:20px;letter-spacing:.5px}
header .meta{color:#c9cfda;font-size:13px}
main{padding:16px 24px;max-width:1280px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 18px;
margin:0 0 16px}
h2{font-size:17px;margin:0 0 8px}
h3{font-size:14px;margin:16px 0 6px;color:var(--muted);font-weight:600}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600;background:#fafbfc}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
.muted{color:var(--muted)}
.err{color:var(--bad)}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;
color:#fff;background:var(--grey)}
.s-succeeded,.s-done,.ph-incremental{background:var(--ok)}
.s-no_data{background:#5c8a6e}
.s-failed,.s-interrupted{background:var(--bad)}
.s-cancelled,.s-redo{background:var(--warn)}
.s-running,.ph-catching-up{background:var(--blue)}
.s-pending,.ph-new{background:var(--grey)}
.problems{border-color:#f0b8b8;background:#fff6f6}
.facts{color:var(--muted);margin:0 0 4px}
.progress{display:flex;height:14px;width:100%;max-width:520px;border-radius:7px;overflow:hidden;
background:#e7eaf0;margin:4px 0}
.progress .done{background:var(--ok)}
.progress .failed{background:var(--bad)}
.progress .running{background:var(--blue)}
svg.chart{width:100%;max-width:940px;height:auto;display:block}
svg.chart text{font:11px system-ui,sans-serif;fill:#6b7385}
svg.chart .grid{stroke:#e6e9ef;stroke-width:1}
svg.chart .axis{stroke:#9aa1ad;stroke-width:1}
svg.chart .bar{fill:#3567c7}
svg.chart .bar.no_data{fill:#9cc3a8}
svg.chart .bar.failed,svg.chart .bar.interrupted{fill:#c62828}
svg.chart .bar.cancelled{fill:#e0a030}
svg.chart .bar.running{fill:#9aa1ad}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px;border-radius:2px}
)";

std::string Esc(std::string_view s) { return HtmlEscape(s); }

/// At most `n` bytes of `s`, cut at a UTF-8 character boundary, with "…" when cut.
std::string Truncate(const std::string& s, size_t n) {
  if (s.size() <= n) return s;
  size_t cut = n;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut) + "\u2026";
}

/// 1234567 -> "1,234,567".
std::string Thousands(uint64_t v) {
  std::string digits = std::to_string(v);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

/// 1234567 -> "1.2M", for axis labels.
std::string Short(double v) {
  char buf[32];
  if (v >= 1e9) {
    std::snprintf(buf, sizeof buf, "%.1fG", v / 1e9);
  } else if (v >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.1fM", v / 1e6);
  } else if (v >= 1e4) {
    std::snprintf(buf, sizeof buf, "%.0fk", v / 1e3);
  } else if (v >= 1e3) {
    std::snprintf(buf, sizeof buf, "%.1fk", v / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  }
  return buf;
}

std::string Badge(const std::string& cls_prefix, const std::string& text) {
  return "<span class=\"badge " + cls_prefix + Esc(text) + "\">" + Esc(text) + "</span>";
}

std::string Ago(int64_t now_ms, int64_t at_ms) {
  if (at_ms <= 0) return "";
  return now_ms >= at_ms ? FormatDuration(now_ms - at_ms) + " ago"
                         : "in " + FormatDuration(at_ms - now_ms);
}

/// "2026-03-08 03:00:00 EDT<br>2026-03-08 07:00:00Z" (the zone line only when it differs
/// from UTC and can be formatted).
std::string NextRun(const StatusSnapshot& snap, const PipelineStatus& ps) {
  const Schedule& s = ps.pipeline.schedule;
  if (s.kind == Schedule::Kind::kNone) return "<span class=\"muted\">manual</span>";
  if (ps.next_run_ms <= 0) return "<span class=\"muted\">unknown</span>";
  if (ps.next_run_ms <= snap.now_ms) return "due now";
  std::string out;
  auto local = FormatInZone(ps.next_run_ms, s.timezone);
  if (local.ok() && s.timezone != "UTC") out += Esc(*local) + "<br>";
  out += Esc(FormatUtcMs(ps.next_run_ms)) + " <span class=\"muted\">(" +
         Esc(Ago(snap.now_ms, ps.next_run_ms)) + ")</span>";
  return out;
}

std::string Watermark(const PipelineStatus& ps) {
  if (ps.watermark_hex.empty()) return "<span class=\"muted\">start</span>";
  return "<code title=\"" + Esc(ps.watermark_hex) + "\">" + Esc(Truncate(ps.watermark_hex, 24)) +
         "</code>";
}

void Header(const StatusSnapshot& snap, std::ostringstream& o) {
  o << "<header><h1>weir</h1><div class=\"meta\">generated " << Esc(FormatUtcMs(snap.now_ms));
  if (snap.serve) {
    const ServeLive& s = *snap.serve;
    o << " &middot; serve pid " << s.pid;
    if (s.started_at_ms > 0) {
      o << ", up " << Esc(FormatDuration(snap.now_ms - s.started_at_ms));
    }
    o << " &middot; " << s.running.size() << " running, " << s.queued.size() << " queued";
  } else {
    o << " &middot; weir serve is not running";
  }
  o << " &middot; " << snap.pipelines.size() << " pipeline"
    << (snap.pipelines.size() == 1 ? "" : "s") << "</div></header>\n";
}

void Problems(const StatusSnapshot& snap, std::ostringstream& o) {
  if (snap.errors.empty()) return;
  o << "<section class=\"problems\"><h2 class=\"err\">Problems</h2><ul>";
  for (const auto& e : snap.errors) o << "<li>" << Esc(e) << "</li>";
  o << "</ul></section>\n";
}

void Overview(const StatusSnapshot& snap, std::ostringstream& o) {
  o << "<section><h2>Pipelines</h2>";
  if (snap.pipelines.empty()) {
    o << "<p class=\"muted\">No pipelines found.</p></section>\n";
    return;
  }
  o << "<table class=\"overview\"><tr><th>pipeline</th><th>project</th><th>stream</th>"
       "<th>phase</th><th>watermark</th><th>lag</th><th>last run</th><th>next run</th>"
       "<th>backfill</th></tr>\n";
  for (const auto& ps : snap.pipelines) {
    const Pipeline& p = ps.pipeline;
    o << "<tr><td><a href=\"#p-" << Esc(p.name) << "\">" << Esc(p.name) << "</a>";
    if (snap.serve) {
      auto it = snap.serve->running.find(p.name);
      if (it != snap.serve->running.end()) {
        o << "<br><span class=\"muted\">running: " << Esc(it->second) << "</span>";
      }
    }
    o << "</td><td>" << Esc(p.project) << "</td><td>" << Esc(p.stream) << "</td><td>"
      << Badge("ph-", ps.phase) << "</td><td>" << Watermark(ps) << "</td><td>"
      << (ps.lag_ms >= 0 ? Esc(FormatDuration(ps.lag_ms))
                         : std::string("<span class=\"muted\">never caught up</span>"))
      << "</td><td>";
    if (ps.last_run) {
      const RunRecord& r = *ps.last_run;
      o << Badge("s-", r.status) << " " << Esc(FormatUtcMs(r.started_at_ms))
        << " <span class=\"muted\">(" << Esc(Ago(snap.now_ms, r.started_at_ms)) << ")</span>";
    } else {
      o << "<span class=\"muted\">never</span>";
    }
    o << "</td><td>" << NextRun(snap, ps) << "</td><td>" << Esc(BackfillProgress(ps))
      << "</td></tr>\n";
  }
  o << "</table></section>\n";
}

/// The rows-per-run chart: one bar per run (oldest left), failed runs in red.
void Chart(const PipelineStatus& ps, std::ostringstream& o) {
  std::vector<const RunRecord*> runs;
  for (const auto& r : ps.recent_runs) {
    if (static_cast<int>(runs.size()) == kChartRuns) break;
    runs.push_back(&r);
  }
  std::reverse(runs.begin(), runs.end());  // oldest first
  o << "<h3>Rows per run (last " << runs.size() << " run" << (runs.size() == 1 ? "" : "s")
    << ")</h3>\n";
  if (runs.empty()) {
    o << "<p class=\"muted\">No runs yet.</p>\n";
    return;
  }
  constexpr double kW = 940, kH = 230, kLeft = 58, kRight = 12, kTop = 12, kBottom = 44;
  const double pw = kW - kLeft - kRight;
  const double ph = kH - kTop - kBottom;
  uint64_t max_rows = 0;
  for (const auto* r : runs) max_rows = std::max(max_rows, r->rows);
  const double top = max_rows == 0 ? 1 : static_cast<double>(max_rows);
  const double slot = pw / std::max<double>(static_cast<double>(runs.size()), 20);
  const double bar_w = std::max(2.0, slot * 0.78);
  char buf[256];
  o << "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " << kW << " " << kH
    << "\" role=\"img\" aria-label=\"rows per run of " << Esc(ps.pipeline.name) << "\" data-runs=\""
    << runs.size() << "\">\n";
  // Grid and y labels at 0, 1/2 and the maximum.
  for (int i = 0; i <= 2; ++i) {
    const double y = kTop + ph - ph * i / 2.0;
    std::snprintf(buf, sizeof buf,
                  "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                  "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
                  kLeft, y, kLeft + pw, y, kLeft - 6, y + 4);
    o << buf << Esc(Short(top * i / 2.0)) << "</text>\n";
  }
  std::snprintf(buf, sizeof buf,
                "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
                kLeft, kTop, kLeft, kTop + ph, kLeft, kTop + ph, kLeft + pw, kTop + ph);
  o << buf;
  std::snprintf(buf, sizeof buf,
                "<text x=\"14\" y=\"%.1f\" transform=\"rotate(-90 14 %.1f)\" "
                "text-anchor=\"middle\">rows</text>\n",
                kTop + ph / 2, kTop + ph / 2);
  o << buf;
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunRecord& r = *runs[i];
    double h = ph * static_cast<double>(r.rows) / top;
    // A failed run often has no rows: give it a visible stub so the red mark shows.
    if (RunFailed(r)) h = std::max(h, 8.0);
    if (h < 1.5) h = 1.5;
    const double x = kLeft + slot * static_cast<double>(i) + (slot - bar_w) / 2;
    std::snprintf(buf, sizeof buf,
                  "<rect class=\"bar %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">",
                  Esc(r.status).c_str(), x, kTop + ph - h, bar_w, h);
    o << buf << "<title>run " << r.id << " " << Esc(r.status) << ": " << Thousands(r.rows)
      << " rows, " << Esc(HumanBytes(static_cast<double>(r.bytes))) << ", "
      << Esc(FormatUtcMs(r.started_at_ms)) << "</title></rect>\n";
  }
  // x labels: the first and the last run.
  std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"start\">", kLeft,
                kTop + ph + 16);
  o << buf << "run " << runs.front()->id << " &middot; "
    << Esc(FormatUtcMs(runs.front()->started_at_ms)) << "</text>\n";
  std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", kLeft + pw,
                kTop + ph + 16);
  o << buf << "run " << runs.back()->id << " &middot; "
    << Esc(FormatUtcMs(runs.back()->started_at_ms)) << "</text>\n";
  std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
                kLeft + pw / 2, kTop + ph + 36);
  o << buf << "runs, oldest \u2192 newest</text>\n</svg>\n";
  o << "<div class=\"legend muted\"><span style=\"background:#3567c7\"></span>succeeded"
       "<span style=\"background:#9cc3a8\"></span>no data"
       "<span style=\"background:#c62828\"></span>failed / interrupted"
       "<span style=\"background:#e0a030\"></span>cancelled"
       "<span style=\"background:#9aa1ad\"></span>running</div>\n";
}

void RecentRuns(const StatusSnapshot& snap, const PipelineStatus& ps, std::ostringstream& o) {
  o << "<h3>Recent runs</h3>\n";
  if (ps.recent_runs.empty()) {
    o << "<p class=\"muted\">No runs yet.</p>\n";
    return;
  }
  o << "<table class=\"runs\"><tr><th class=\"num\">run</th><th>status</th><th>kind</th>"
       "<th>started</th><th class=\"num\">rows</th><th class=\"num\">bytes</th>"
       "<th class=\"num\">duration</th><th>error</th></tr>\n";
  int shown = 0;
  for (const auto& r : ps.recent_runs) {
    if (shown++ == kTableRuns) break;
    o << "<tr><td class=\"num\">" << r.id << "</td><td>" << Badge("s-", r.status);
    if (r.ended_at_ms > 0 && (r.status == "succeeded" || r.status == "no_data") &&
        !EndedCaughtUp(r)) {
      o << " <span class=\"muted\">more to do</span>";
    }
    o << "</td><td>" << Esc(r.kind) << "</td><td>" << Esc(FormatUtcMs(r.started_at_ms))
      << "</td><td class=\"num\">" << Thousands(r.rows) << "</td><td class=\"num\">"
      << Esc(HumanBytes(static_cast<double>(r.bytes))) << "</td><td class=\"num\">"
      << (r.ended_at_ms > 0 ? Esc(FormatDuration(r.ended_at_ms - r.started_at_ms))
                            : Esc(FormatDuration(snap.now_ms - r.started_at_ms)) + "&hellip;")
      << "</td><td class=\"err\">" << Esc(Truncate(r.error, kErrorChars)) << "</td></tr>\n";
  }
  o << "</table>\n";
}

void Ledger(const PipelineStatus& ps, std::ostringstream& o) {
  if (ps.backfill.empty()) return;
  int failed = 0;
  int running = 0;
  for (const auto& w : ps.backfill) {
    failed += w.status == "failed" ? 1 : 0;
    running += w.status == "running" ? 1 : 0;
  }
  const double total = static_cast<double>(ps.backfill.size());
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "<div class=\"progress\" title=\"%d of %d days done\"><div class=\"done\" "
                "style=\"width:%.1f%%\"></div><div class=\"running\" style=\"width:%.1f%%\">"
                "</div><div class=\"failed\" style=\"width:%.1f%%\"></div></div>",
                ps.backfill_done, ps.backfill_total, 100.0 * ps.backfill_done / total,
                100.0 * running / total, 100.0 * failed / total);
  o << "<h3>Backfill</h3>\n" << buf << "<p class=\"facts\">" << Esc(BackfillProgress(ps));
  if (failed > 0) o << ", <span class=\"err\">" << failed << " failed</span>";
  o << " &middot; " << Esc(ps.backfill.front().day) << " to " << Esc(ps.backfill.back().day)
    << "</p>\n";
  o << "<table class=\"ledger\"><tr><th>day</th><th>status</th><th class=\"num\">rows</th>"
       "<th class=\"num\">bytes</th><th class=\"num\">duration</th><th class=\"num\">attempts"
       "</th><th>error</th></tr>\n";
  int shown = 0;
  for (const auto& w : ps.backfill) {
    if (shown++ == kLedgerRows) break;
    o << "<tr><td>" << Esc(w.day) << "</td><td>" << Badge("s-", w.status)
      << "</td><td class=\"num\">" << Thousands(w.rows) << "</td><td class=\"num\">"
      << Esc(HumanBytes(static_cast<double>(w.bytes))) << "</td><td class=\"num\">"
      << (w.duration_ms > 0 ? Esc(FormatDuration(w.duration_ms)) : std::string("-"))
      << "</td><td class=\"num\">" << w.attempts << "</td><td class=\"err\">"
      << Esc(Truncate(w.error, kErrorChars)) << "</td></tr>\n";
  }
  o << "</table>\n";
  if (ps.backfill.size() > static_cast<size_t>(kLedgerRows)) {
    o << "<p class=\"muted\">" << ps.backfill.size() - kLedgerRows << " more days (weir backfill "
      << Esc(ps.pipeline.name) << " --status)</p>\n";
  }
}

void PipelineSection(const StatusSnapshot& snap, const PipelineStatus& ps, std::ostringstream& o) {
  const Pipeline& p = ps.pipeline;
  o << "<section class=\"pipeline\" id=\"p-" << Esc(p.name) << "\"><h2>" << Esc(p.name) << " "
    << Badge("ph-", ps.phase) << "</h2>\n<p class=\"facts\">" << Esc(p.source.plugin) << " &rarr; "
    << Esc(p.destination.plugin) << " &middot; project " << Esc(p.project) << " &middot; stream "
    << Esc(p.stream) << " &middot; schedule " << Esc(p.schedule.ToString()) << " &middot; "
    << Thousands(ps.committed_rows) << " rows in " << Thousands(ps.committed_batches)
    << " committed batches";
  if (ps.pending_batch) o << " &middot; one batch pending (replayed by the next run)";
  if (ps.last_success_ms > 0) {
    o << " &middot; last success " << Esc(FormatUtcMs(ps.last_success_ms));
  }
  o << "</p>\n";
  if (!ps.error.empty()) o << "<p class=\"err\">" << Esc(ps.error) << "</p>\n";
  Chart(ps, o);
  RecentRuns(snap, ps, o);
  Ledger(ps, o);
  o << "</section>\n";
}

}  // namespace

std::string RenderStatusHtml(const StatusSnapshot& snapshot) {
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta http-equiv=\"refresh\" content=\"10\">"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
       "<title>weir status</title><style>"
    << kCss << "</style></head>\n<body>\n";
  Header(snapshot, o);
  o << "<main>\n";
  Problems(snapshot, o);
  Overview(snapshot, o);
  for (const auto& ps : snapshot.pipelines) PipelineSection(snapshot, ps, o);
  o << "</main>\n</body></html>\n";
  return o.str();
}

}  // namespace weir::host
