// tests/observe/tools_test.cpp — what real tools make of the renderings: Prometheus's own
// `promtool check metrics` on RenderPrometheus, and headless Chromium loading /status from
// HttpServer on 127.0.0.1 (the DOM has the chart's bars; the screenshot shows them).
//
// Both tools are Debian packages (prometheus, chromium; .ci/deps.sh installs them). Without
// them the tests skip with the reason, and fail when CI=true. Chromium only ever talks to the
// test's own server: background networking is off and every host name except 127.0.0.1 is
// mapped to "not found".
#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <thread>

#include "observe/observe.hpp"
#include "observe_test_util.hpp"
#include "temp_dir.hpp"
#include "weir_process.hpp"

namespace weir::host {
namespace {

namespace fs = std::filesystem;
using observe_test::AddRun;
using observe_test::Count;
using observe_test::InCi;
using observe_test::MakePipeline;
using observe_test::MustOpenStore;
using observe_test::WriteFile;

constexpr const char* kPromtool = "/usr/bin/promtool";
constexpr const char* kChromium = "/usr/bin/chromium";

/// Skips (outside CI) or fails (CI=true) when `tool` is not installed.
#define REQUIRE_TOOL(tool, package)                                                           \
  do {                                                                                        \
    if (!fs::exists(tool)) {                                                                  \
      if (InCi()) FAIL() << tool << " is missing (Debian package " package "); CI=true";      \
      GTEST_SKIP() << tool << " is missing: apt-get install -y " package " to run this test"; \
    }                                                                                         \
  } while (0)

/// Waits for `p` at most `limit`, then kills it; the result's code is 128+9 then.
test::ProcessResult WaitAtMost(const test::Process& p, std::chrono::seconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!test::Exited(p) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!test::Exited(p)) test::Signal(p, SIGKILL);
  return test::WaitProcess(p);
}

/// A store with `n` runs of "orders" (rows rising and falling, every 7th run failed) and one
/// run of "quotes", and its snapshot.
StatusSnapshot FilledSnapshot(const fs::path& dir, int n) {
  auto store = MustOpenStore(dir / "state.db");
  if (store == nullptr) return {};
  for (int i = 1; i <= n; ++i) {
    const uint64_t rows = 200 + static_cast<uint64_t>((i * 37) % 23) * 40 + i * 10;
    if (i % 7 == 0) {
      AddRun(*store, "orders", "events", {}, "failed", "destination refused <batch> \"x\"");
    } else {
      AddRun(*store, "orders", "events", {rows / 2, rows - rows / 2}, "succeeded", "",
             {{"host.retries", double(i % 3)}});
    }
  }
  AddRun(*store, "quotes", "events", {5}, "no_data");
  std::vector<BackfillWindow> windows;
  for (int d = 1; d <= 6; ++d) {
    BackfillWindow w;
    w.pipeline = "orders";
    w.stream = "events";
    w.day = "2026-10-0" + std::to_string(d);
    w.window_start_ms = 1'790'812'800'000 + int64_t(d - 1) * 86'400'000;
    w.window_end_ms = w.window_start_ms + 86'400'000;
    windows.push_back(w);
  }
  if (store->PlanBackfill(windows).ok()) {
    for (int d = 0; d < 4; ++d) {
      BackfillWindow w = windows[static_cast<size_t>(d)];
      w.status = d == 3 ? "failed" : "done";
      w.error = d == 3 ? "timeout talking to the source" : "";
      w.attempts = 1;
      w.duration_ms = 1500 + d * 300;
      (void)store->UpdateBackfillWindow(w);
    }
  }
  Pipeline orders = MakePipeline("orders", "shop");
  orders.schedule.kind = Schedule::Kind::kDaily;
  orders.schedule.daily_at = "02:00";
  orders.schedule.timezone = "Europe/Berlin";
  auto snap = BuildSnapshot(*store, {orders, MakePipeline("quotes", "shop")},
                            std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count(),
                            {});
  EXPECT_TRUE(snap.ok()) << snap.status().ToString();
  if (!snap.ok()) return {};
  ServeLive live;
  live.pid = ::getpid();
  live.started_at_ms = snap->now_ms - 7'200'000;
  live.running["orders"] = "scheduled run";
  live.service_metrics = {{"collector.events_accepted", 5400},
                          {"collector.requests", 61},
                          {"service.sdk-source.up", 1},
                          {"service.sdk-source.restarts", 0}};
  live.counters = {{"serve.steps_started", 30}, {"serve.children_crashed", 1}};
  snap->serve = live;
  snap->errors.push_back("pipelines/broken.json: $.schedule: unknown zone \"Mars/Olympus\"");
  return std::move(snap).value();
}

TEST(Promtool, AcceptsTheMetricsOfARealStore) {
  REQUIRE_TOOL(kPromtool, "prometheus");
  test::TempDir dir("weir-observe-promtool");
  StatusSnapshot snap = FilledSnapshot(dir.path(), 12);
  ASSERT_FALSE(snap.pipelines.empty());
  // A project name that needs escaping, and service counters that need sanitizing.
  snap.pipelines[1].pipeline.project = "we\"ird\\pro\nject";
  snap.serve->service_metrics["collector.bytes-in..total"] = 12345;
  const std::string text = RenderPrometheus(snap);
  ASSERT_NE(text.find("weir_run_duration_seconds_bucket"), std::string::npos);
  const std::string file = dir / "metrics.txt";
  WriteFile(file, text);
  test::Process p = test::StartProcess(
      {"/bin/sh", "-c", std::string(kPromtool) + " check metrics < '" + file + "'"}, dir.path());
  test::ProcessResult r = WaitAtMost(p, std::chrono::seconds(60));
  EXPECT_EQ(r.code, 0) << "promtool check metrics:\n" << r.out << r.err << "\n--- input:\n" << text;
  // promtool prints lint findings (e.g. a counter without _total) even when it exits 0.
  EXPECT_EQ(r.out + r.err, "") << text;
}

TEST(Promtool, AcceptsTheMetricsOfAnEmptySnapshot) {
  // No pipelines and no serve: families without series must still be a valid exposition.
  REQUIRE_TOOL(kPromtool, "prometheus");
  test::TempDir dir("weir-observe-promtool");
  StatusSnapshot empty;
  empty.now_ms = 1'800'000'000'000;
  const std::string text = RenderPrometheus(empty);
  const std::string file = dir / "metrics.txt";
  WriteFile(file, text);
  test::Process p = test::StartProcess(
      {"/bin/sh", "-c", std::string(kPromtool) + " check metrics < '" + file + "'"}, dir.path());
  test::ProcessResult r = WaitAtMost(p, std::chrono::seconds(60));
  EXPECT_EQ(r.code, 0) << r.out << r.err << "\n--- input:\n" << text;
  EXPECT_EQ(r.out + r.err, "") << text;
}

TEST(Promtool, RejectsABrokenExposition) {
  // The check above is only worth something if promtool does complain about bad input.
  REQUIRE_TOOL(kPromtool, "prometheus");
  test::TempDir dir("weir-observe-promtool");
  const std::string file = dir / "bad.txt";
  WriteFile(file, "# TYPE weir_x counter\nweir_x{a=\"unterminated} 1\n");
  test::Process p = test::StartProcess(
      {"/bin/sh", "-c", std::string(kPromtool) + " check metrics < '" + file + "'"}, dir.path());
  test::ProcessResult r = WaitAtMost(p, std::chrono::seconds(60));
  EXPECT_NE(r.code, 0) << r.out << r.err;
}

// ---- PNG: just enough of a decoder (8-bit RGB/RGBA, non-interlaced) to look at pixels.

struct Image {
  uint32_t width = 0;
  uint32_t height = 0;
  int channels = 0;
  std::vector<uint8_t> pixels;  // rows of width * channels bytes
  std::string error;
};

uint32_t Be32(const std::string& s, size_t at) {
  return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) |
         (uint32_t(uint8_t(s[at + 2])) << 8) | uint32_t(uint8_t(s[at + 3]));
}

Image DecodePng(const std::string& png) {
  Image img;
  if (png.size() < 8 || png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) {
    img.error = "no PNG signature";
    return img;
  }
  std::string idat;
  int depth = 0;
  int color = -1;
  int interlace = 0;
  for (size_t at = 8; at + 8 <= png.size();) {
    const uint32_t len = Be32(png, at);
    const std::string type = png.substr(at + 4, 4);
    if (at + 12 + len > png.size()) break;
    if (type == "IHDR") {
      img.width = Be32(png, at + 8);
      img.height = Be32(png, at + 12);
      depth = uint8_t(png[at + 16]);
      color = uint8_t(png[at + 17]);
      interlace = uint8_t(png[at + 20]);
    } else if (type == "IDAT") {
      idat.append(png, at + 8, len);
    }
    at += 12 + len;
  }
  if (depth != 8 || (color != 2 && color != 6) || interlace != 0) {
    img.error = "unsupported PNG (depth " + std::to_string(depth) + ", color type " +
                std::to_string(color) + ")";
    return img;
  }
  img.channels = color == 6 ? 4 : 3;
  const size_t stride = size_t(img.width) * size_t(img.channels);
  std::vector<uint8_t> raw((stride + 1) * img.height);
  uLongf raw_len = raw.size();
  if (uncompress(raw.data(), &raw_len, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) !=
          Z_OK ||
      raw_len != raw.size()) {
    img.error = "cannot inflate the image data";
    return img;
  }
  img.pixels.assign(stride * img.height, 0);
  const size_t bpp = size_t(img.channels);
  for (uint32_t y = 0; y < img.height; ++y) {
    const uint8_t filter = raw[y * (stride + 1)];
    const uint8_t* in = &raw[y * (stride + 1) + 1];
    uint8_t* out = &img.pixels[y * stride];
    const uint8_t* prev = y > 0 ? &img.pixels[(y - 1) * stride] : nullptr;
    for (size_t x = 0; x < stride; ++x) {
      const int a = x >= bpp ? out[x - bpp] : 0;
      const int b = prev ? prev[x] : 0;
      const int c = prev && x >= bpp ? prev[x - bpp] : 0;
      int pred = 0;
      switch (filter) {
        case 0:
          pred = 0;
          break;
        case 1:
          pred = a;
          break;
        case 2:
          pred = b;
          break;
        case 3:
          pred = (a + b) / 2;
          break;
        case 4: {
          const int p = a + b - c;
          const int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          pred = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c);
          break;
        }
        default:
          img.error = "bad PNG filter " + std::to_string(filter);
          return img;
      }
      out[x] = static_cast<uint8_t>(in[x] + pred);
    }
  }
  return img;
}

/// Pixels within `tol` of (r, g, b) in every channel.
size_t CountColor(const Image& img, int r, int g, int b, int tol = 14) {
  size_t n = 0;
  for (size_t i = 0; i + 2 < img.pixels.size(); i += size_t(img.channels)) {
    if (std::abs(img.pixels[i] - r) <= tol && std::abs(img.pixels[i + 1] - g) <= tol &&
        std::abs(img.pixels[i + 2] - b) <= tol) {
      ++n;
    }
  }
  return n;
}

std::vector<std::string> ChromiumArgs(const fs::path& profile) {
  return {kChromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
          "--no-first-run", "--disable-background-networking", "--disable-component-update",
          "--disable-sync", "--disable-breakpad", "--disable-domain-reliability",
          "--disable-dev-shm-usage",
          // Nothing but the test's own server: every other name resolves to "not found".
          "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
          "--user-data-dir=" + profile.string()};
}

TEST(StatusPage, RendersInHeadlessChromiumWithTheChart) {
  REQUIRE_TOOL(kChromium, "chromium");
  test::TempDir dir("weir-observe-chromium");
  constexpr int kRuns = 30;
  StatusSnapshot snap = FilledSnapshot(dir.path(), kRuns);
  ASSERT_EQ(snap.pipelines.size(), 2u);
  std::atomic<int> requests{0};
  auto server = HttpServer::Start(
      "127.0.0.1:0", [&](const std::string& method, const std::string& target) -> HttpResponse {
        ++requests;
        if (method != "GET" && method != "HEAD") return {405, "text/plain", "GET only\n"};
        if (target != "/status") return {404, "text/plain", "not found\n"};
        return {200, "text/html; charset=utf-8", RenderStatusHtml(snap)};
      });
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const std::string url = "http://127.0.0.1:" + std::to_string((*server)->port()) + "/status";

  // 1. The DOM Chromium built: both charts, one bar per run, the failed ones marked.
  std::vector<std::string> dom_args = ChromiumArgs(dir.path() / "profile-dom");
  dom_args.push_back("--dump-dom");
  dom_args.push_back(url);
  test::ProcessResult dom =
      WaitAtMost(test::StartProcess(dom_args, dir.path()), std::chrono::seconds(120));
  ASSERT_EQ(dom.code, 0) << dom.err;
  EXPECT_EQ(Count(dom.out, "<svg class=\"chart\""), 2u) << dom.out.substr(0, 2000);
  EXPECT_EQ(Count(dom.out, "<rect class=\"bar "), size_t(kRuns + 1));
  EXPECT_EQ(Count(dom.out, "<rect class=\"bar failed\""), size_t(kRuns / 7));
  EXPECT_EQ(dom.out.find("<script"), std::string::npos);
  EXPECT_NE(dom.out.find("destination refused &lt;batch&gt;"), std::string::npos);

  // 2. The screenshot: a PNG of the window size that shows blue and red bars.
  const fs::path png = dir.path() / "status.png";
  std::vector<std::string> shot_args = ChromiumArgs(dir.path() / "profile-shot");
  shot_args.push_back("--hide-scrollbars");
  shot_args.push_back("--window-size=1280,2000");
  shot_args.push_back("--screenshot=" + png.string());
  shot_args.push_back(url);
  test::ProcessResult shot =
      WaitAtMost(test::StartProcess(shot_args, dir.path()), std::chrono::seconds(120));
  ASSERT_EQ(shot.code, 0) << shot.err;
  ASSERT_TRUE(fs::exists(png)) << shot.err;
  const std::string bytes = test::ReadWholeFile(png);
  Image img = DecodePng(bytes);
  ASSERT_TRUE(img.error.empty()) << img.error;
  EXPECT_EQ(img.width, 1280u);
  EXPECT_EQ(img.height, 2000u);
  const size_t blue = CountColor(img, 0x35, 0x67, 0xc7);  // succeeded bars (and badges)
  const size_t red = CountColor(img, 0xc6, 0x28, 0x28);   // failed bars
  const size_t white = CountColor(img, 255, 255, 255, 2);
  const size_t total = size_t(img.width) * img.height;
  EXPECT_GT(blue, 2000u) << "the chart's bars are not on the screenshot";
  EXPECT_GT(red, 100u) << "the failed runs' red bars are not on the screenshot";
  EXPECT_LT(white, total * 95 / 100) << "the screenshot is (nearly) blank";
  EXPECT_GE(requests.load(), 2);
  if (const char* keep = std::getenv("WEIR_OBSERVE_SCREENSHOT_OUT"); keep != nullptr && *keep) {
    std::error_code ec;
    fs::copy_file(png, keep, fs::copy_options::overwrite_existing, ec);
    EXPECT_FALSE(ec) << "copy the screenshot to " << keep << ": " << ec.message();
  }
  (*server)->Stop();
}

}  // namespace
}  // namespace weir::host
