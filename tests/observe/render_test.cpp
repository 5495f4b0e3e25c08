// tests/observe/render_test.cpp — the renderings of a known snapshot: exact Prometheus lines
// and escaping, a well-formed exposition (one TYPE per family, no duplicate series), the
// /status page's escaping, chart and secrecy, and the JSON document.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <set>
#include <sstream>

#include "observe/observe.hpp"
#include "observe_test_util.hpp"

namespace weir::host {
namespace {

using observe_test::Count;
using observe_test::MakePipeline;

constexpr int64_t kNow = 1'800'000'000'000;

RunRecord MakeRun(int64_t id, const std::string& status, uint64_t rows, int64_t duration_ms,
                  const std::string& error = "") {
  RunRecord r;
  r.id = id;
  r.pipeline = "orders";
  r.kind = "incremental";
  r.status = status;
  r.started_at_ms = kNow - 600'000 + id * 60'000;
  r.ended_at_ms = r.started_at_ms + duration_ms;
  r.rows = rows;
  r.bytes = rows * 100;
  r.batches = rows > 0 ? 1 : 0;
  r.error = error;
  return r;
}

StatusSnapshot KnownSnapshot() {
  StatusSnapshot snap;
  snap.now_ms = kNow;
  PipelineStatus a;
  a.pipeline = MakePipeline("orders", "shop");
  a.phase = "incremental";
  a.watermark_hex = "00000000000004d2";
  a.committed_rows = 1234;
  a.committed_batches = 3;
  a.lag_ms = 90'500;
  a.last_success_ms = 1'799'999'909'500;
  a.next_run_ms = kNow + 3'600'000;
  a.recent_runs = {MakeRun(3, "failed", 0, 40'000, "<script>alert(1)</script> & more"),
                   MakeRun(2, "succeeded", 200, 250), MakeRun(1, "succeeded", 1000, 2000)};
  a.recent_runs[1].metrics["host.retries"] = 2;
  a.last_run = a.recent_runs[0];
  a.history = CountRunHistory(a.recent_runs);
  for (int d = 1; d <= 3; ++d) {
    BackfillWindow w;
    w.pipeline = "orders";
    w.stream = "events";
    w.day = "2026-11-0" + std::to_string(d);
    w.status = d < 3 ? "done" : "pending";
    w.rows = d < 3 ? 500 : 0;
    a.backfill.push_back(w);
  }
  a.backfill_done = 2;
  a.backfill_total = 3;
  snap.pipelines.push_back(a);

  PipelineStatus b;
  b.pipeline = MakePipeline("quotes", "we\"ird\\pro\nject");
  b.phase = "new";
  snap.pipelines.push_back(b);

  ServeLive live;
  live.pid = 4242;
  live.started_at_ms = kNow - 3'600'000;
  live.running["orders"] = "scheduled run";
  live.queued = {"quotes"};
  live.service_metrics = {{"collector.events_accepted", 5400},
                          {"service.sdk-source.up", 1},
                          {"service.sdk-source.restarts", 2}};
  live.counters = {{"serve.steps_started", 12}, {"serve.children_crashed", 0}};
  snap.serve = live;
  snap.errors = {"pipelines/broken.json: not valid JSON <here>"};
  return snap;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

bool HasLine(const std::string& text, const std::string& line) {
  for (const auto& l : Lines(text)) {
    if (l == line) return true;
  }
  return false;
}

TEST(Prometheus, KnownSnapshotGivesExactLines) {
  const std::string text = RenderPrometheus(KnownSnapshot());
  const char* expected[] = {
      "# TYPE weir_runs_total counter",
      R"(weir_runs_total{pipeline="orders",project="shop",kind="incremental",status="failed"} 1)",
      R"(weir_runs_total{pipeline="orders",project="shop",kind="incremental",status="succeeded"} 2)",
      R"(weir_rows_exported_total{pipeline="orders",project="shop"} 1200)",
      R"(weir_bytes_exported_total{pipeline="orders",project="shop"} 120000)",
      R"(weir_retries_total{pipeline="orders",project="shop"} 2)",
      "# TYPE weir_run_duration_seconds histogram",
      R"(weir_run_duration_seconds_bucket{pipeline="orders",project="shop",le="0.1"} 0)",
      R"(weir_run_duration_seconds_bucket{pipeline="orders",project="shop",le="0.5"} 1)",
      R"(weir_run_duration_seconds_bucket{pipeline="orders",project="shop",le="5"} 2)",
      R"(weir_run_duration_seconds_bucket{pipeline="orders",project="shop",le="30"} 2)",
      R"(weir_run_duration_seconds_bucket{pipeline="orders",project="shop",le="60"} 3)",
      R"(weir_run_duration_seconds_bucket{pipeline="orders",project="shop",le="+Inf"} 3)",
      R"(weir_run_duration_seconds_sum{pipeline="orders",project="shop"} 42.25)",
      R"(weir_run_duration_seconds_count{pipeline="orders",project="shop"} 3)",
      R"(weir_last_success_timestamp_seconds{pipeline="orders",project="shop"} 1799999909.5)",
      "# TYPE weir_watermark_lag_seconds gauge",
      R"(weir_watermark_lag_seconds{pipeline="orders",project="shop"} 90.5)",
      R"(weir_next_run_timestamp_seconds{pipeline="orders",project="shop"} 1800003600)",
      R"(weir_pipeline_phase{pipeline="orders",project="shop",phase="incremental"} 1)",
      R"(weir_pipeline_phase{pipeline="orders",project="shop",phase="catching-up"} 0)",
      R"(weir_backfill_windows{pipeline="orders",project="shop",status="done"} 2)",
      R"(weir_backfill_windows{pipeline="orders",project="shop",status="pending"} 1)",
      "weir_serve_up 1",
      "weir_serve_running_steps 1",
      "weir_serve_queued_steps 1",
      "weir_serve_start_time_seconds 1799996400",
      "# TYPE weir_serve_steps_started_total counter",
      "weir_serve_steps_started_total 12",
      "weir_serve_children_crashed_total 0",
      R"(weir_service_up{service="sdk-source"} 1)",
      R"(weir_service_restarts_total{service="sdk-source"} 2)",
      "# TYPE weir_service_collector_events_accepted_total counter",
      "weir_service_collector_events_accepted_total 5400",
      "weir_snapshot_errors 1",
  };
  for (const char* line : expected) EXPECT_TRUE(HasLine(text, line)) << line << "\n" << text;
  // Never caught up / never succeeded: no series rather than a misleading 0.
  EXPECT_EQ(text.find("weir_watermark_lag_seconds{pipeline=\"quotes\""), std::string::npos);
  EXPECT_EQ(text.find("weir_last_success_timestamp_seconds{pipeline=\"quotes\""),
            std::string::npos);
  EXPECT_EQ(text.find("weir_backfill_windows{pipeline=\"quotes\""), std::string::npos);
}

TEST(Prometheus, LabelValuesAreEscaped) {
  const std::string text = RenderPrometheus(KnownSnapshot());
  // project = we"ird\pro<newline>ject
  EXPECT_TRUE(
      HasLine(text, R"(weir_committed_rows{pipeline="quotes",project="we\"ird\\pro\nject"} 0)"))
      << text;
  EXPECT_TRUE(HasLine(
      text,
      R"(weir_pipeline_phase{pipeline="quotes",project="we\"ird\\pro\nject",phase="new"} 1)"));
  // No raw newline inside a sample: every line is a comment or starts with a metric name.
  for (const auto& l : Lines(text)) {
    ASSERT_FALSE(l.empty());
    EXPECT_TRUE(l[0] == '#' || l.rfind("weir_", 0) == 0) << "stray line: " << l;
  }
}

TEST(Prometheus, EveryFamilyOnceAndNoDuplicateSeries) {
  StatusSnapshot snap = KnownSnapshot();
  // Two raw names that sanitize alike must not make a second family.
  snap.serve->service_metrics["collector.events-accepted"] = 1;
  const std::string text = RenderPrometheus(snap);
  std::set<std::string> types;
  std::set<std::string> helps;
  std::set<std::string> series;
  std::string current;
  for (const auto& l : Lines(text)) {
    if (l.rfind("# TYPE ", 0) == 0) {
      std::string name = l.substr(7, l.find(' ', 7) - 7);
      EXPECT_TRUE(types.insert(name).second) << "TYPE twice: " << name;
      EXPECT_TRUE(helps.count(name)) << "TYPE before HELP: " << name;
      current = name;
      continue;
    }
    if (l.rfind("# HELP ", 0) == 0) {
      helps.insert(l.substr(7, l.find(' ', 7) - 7));
      continue;
    }
    const std::string key = l.substr(0, l.rfind(' '));
    EXPECT_TRUE(series.insert(key).second) << "duplicate series: " << key;
    const std::string name = key.substr(0, key.find('{'));
    // A sample belongs to the family declared last (histograms: _bucket, _sum, _count).
    EXPECT_TRUE(name == current || name == current + "_bucket" || name == current + "_sum" ||
                name == current + "_count")
        << name << " outside its family " << current;
  }
  EXPECT_EQ(Count(text, "\nweir_service_collector_events_accepted_total "), 1u);
}

TEST(Prometheus, WithoutServeOnlyTheUpGaugeSaysSo) {
  StatusSnapshot snap = KnownSnapshot();
  snap.serve.reset();
  const std::string text = RenderPrometheus(snap);
  EXPECT_TRUE(HasLine(text, "weir_serve_up 0"));
  EXPECT_EQ(text.find("weir_serve_running_steps"), std::string::npos);
  EXPECT_EQ(text.find("weir_service_"), std::string::npos);
}

TEST(StatusHtml, EscapesEverythingAndDrawsTheChart) {
  const std::string html = RenderStatusHtml(KnownSnapshot());
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"), std::string::npos);
  EXPECT_NE(html.find("not valid JSON &lt;here&gt;"), std::string::npos);
  EXPECT_NE(html.find("we&quot;ird\\pro"), std::string::npos);
  EXPECT_NE(html.find("<meta http-equiv=\"refresh\" content=\"10\">"), std::string::npos);
  // The chart of "orders": one bar per run, the failed one marked; "quotes" has none.
  EXPECT_EQ(Count(html, "<svg class=\"chart\""), 1u);
  EXPECT_EQ(Count(html, "<rect class=\"bar "), 3u);
  EXPECT_EQ(Count(html, "<rect class=\"bar failed\""), 1u);
  EXPECT_NE(html.find("fill:#c62828"), std::string::npos);  // failed bars are red
  // The ledger with its progress bar, and the serve header.
  EXPECT_NE(html.find("2/3 days"), std::string::npos);
  EXPECT_NE(html.find("class=\"progress\""), std::string::npos);
  EXPECT_NE(html.find("serve pid 4242"), std::string::npos);
  EXPECT_NE(html.find("running: scheduled run"), std::string::npos);
}

TEST(StatusHtml, SelfContainedAndNoSecrets) {
  const std::string html = RenderStatusHtml(KnownSnapshot());
  EXPECT_EQ(html.find("resolved-secret-value"), std::string::npos);
  EXPECT_EQ(html.find("${TOKEN}"), std::string::npos);  // config_raw is not shown either
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  // The only URL is the SVG namespace name, which is never fetched.
  EXPECT_EQ(Count(html, "http://"), Count(html, "xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_EQ(html.find("https://"), std::string::npos);
}

TEST(StatusHtml, ChartShowsTheLastFiftyRuns) {
  StatusSnapshot snap = KnownSnapshot();
  auto& runs = snap.pipelines[0].recent_runs;
  runs.clear();
  for (int i = 80; i >= 1; --i)
    runs.push_back(MakeRun(i, i % 10 == 0 ? "failed" : "succeeded", uint64_t(i) * 3, 100));
  const std::string html = RenderStatusHtml(snap);
  EXPECT_EQ(Count(html, "<rect class=\"bar "), 50u);
  EXPECT_EQ(Count(html, "<rect class=\"bar failed\""), 5u);  // runs 40, 50, 60, 70, 80
  EXPECT_NE(html.find("<title>run 80 "), std::string::npos);
  EXPECT_EQ(html.find("<title>run 30 "), std::string::npos);
}

TEST(StatusHtml, EmptySnapshotIsAValidPage) {
  StatusSnapshot snap;
  snap.now_ms = kNow;
  const std::string html = RenderStatusHtml(snap);
  EXPECT_NE(html.find("No pipelines found."), std::string::npos);
  EXPECT_NE(html.find("weir serve is not running"), std::string::npos);
  EXPECT_NE(html.find("</html>"), std::string::npos);
}

TEST(StatusJson, ParsesAndCarriesTheSnapshot) {
  const std::string json = RenderStatusJson(KnownSnapshot());
  EXPECT_EQ(json.find("resolved-secret-value"), std::string::npos);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  EXPECT_EQ(int64_t(doc["now_ms"]), kNow);
  EXPECT_EQ(int64_t(doc["serve"]["pid"]), 4242);
  EXPECT_EQ(std::string_view(doc["serve"]["queued"].at(0)), "quotes");
  EXPECT_EQ(std::string_view(doc["errors"].at(0)), "pipelines/broken.json: not valid JSON <here>");
  simdjson::dom::element orders = doc["pipelines"].at(0);
  EXPECT_EQ(std::string_view(orders["name"]), "orders");
  EXPECT_EQ(std::string_view(orders["phase"]), "incremental");
  EXPECT_EQ(int64_t(orders["lag_ms"]), 90'500);
  EXPECT_EQ(int64_t(orders["backfill"]["total"]), 3);
  EXPECT_EQ(std::string_view(orders["backfill"]["progress"]), "2/3 days");
  EXPECT_EQ(std::string_view(orders["recent_runs"].at(0)["error"]),
            "<script>alert(1)</script> & more");
  EXPECT_EQ(double(orders["recent_runs"].at(1)["metrics"]["host.retries"]), 2.0);
  simdjson::dom::element quotes = doc["pipelines"].at(1);
  EXPECT_EQ(std::string_view(quotes["project"]), "we\"ird\\pro\nject");
  EXPECT_TRUE(quotes["last_run"].is_null());
  EXPECT_EQ(int64_t(quotes["lag_ms"]), -1);
}

}  // namespace
}  // namespace weir::host
