// tests/fuzz/fuzz_pipeline.cpp — libFuzzer target for what an operator writes: pipeline files
// (host/pipeline: LoadPipelineFile, ${ENV} resolution, schedule and time zone parsing, name and
// limit validation) and the redaction `weir pipeline show` prints (RedactConfig). Properties:
//   - LoadPipelineFile either fails with a message naming the file, or gives a pipeline whose
//     name is the file's stem and whose plugins' configs are valid JSON;
//   - RedactConfig's result is valid JSON (or its fixed "not shown" text), and redacting it
//     again changes nothing;
//   - the secret that ${WEIR_FUZZ_SECRET} resolves to never appears in RedactConfig's result
//     of a resolved config, when it sits under a secret-looking key.
// Input: the whole pipeline file. Seeds in tests/fuzz/corpus-pipeline/. Built and run by
// tests/fuzz/run_fuzz.sh.
#include <simdjson.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include "pipeline/pipeline.hpp"
#include "pipeline/redact.hpp"

namespace {

namespace fs = std::filesystem;

void Require(bool ok) {
  if (!ok) std::abort();
}

bool IsJson(std::string_view text) {
  static simdjson::dom::parser parser;
  simdjson::dom::element doc;
  return parser.parse(text.data(), text.size()).get(doc) == simdjson::SUCCESS;
}

const fs::path& File() {
  // Never destroyed: the exit handler that removes the directory runs after static
  // destructors would have.
  static const fs::path* file = [] {
    const fs::path dir =
        fs::temp_directory_path() / ("weir-fuzz-pipeline-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(File().parent_path(), ec);
    });
    return new fs::path(dir / "fuzz.json");
  }();
  return *file;
}

std::optional<std::string> Env(const std::string& name) {
  if (name == "WEIR_FUZZ_SECRET") return std::string("s3cr3t-fuzz-value");
  if (name == "WEIR_FUZZ_DIR") return std::string("/tmp/weir fuzz");
  return std::nullopt;
}

void CheckRedaction(std::string_view config) {
  const std::string once = weir::host::RedactConfig(config);
  if (IsJson(config)) {
    Require(IsJson(once));
    Require(weir::host::RedactConfig(once) == once);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  {
    std::ofstream out(File(), std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
  const weir::host::EnvLookup env = Env;
  auto p = weir::host::LoadPipelineFile(File(), env);
  if (!p.ok()) {
    Require(p.status().message().find("fuzz.json") != std::string::npos);
  } else {
    Require(p->name == "fuzz");
    Require(IsJson(p->source.config_raw) && IsJson(p->destination.config_raw));
    CheckRedaction(p->source.config_raw);
    CheckRedaction(p->destination.config_raw);
  }
  CheckRedaction(text);
  // A resolved config whose secret-looking key carries the resolved secret: never shown.
  auto resolved = weir::host::ResolveConfigJson(text, "fuzz", env);
  if (resolved.ok() && IsJson(*resolved)) {
    const std::string wrapped = "{\"password\":" + *resolved + ",\"token\":\"s3cr3t-fuzz-value\"}";
    Require(weir::host::RedactConfig(wrapped).find("s3cr3t-fuzz-value") == std::string::npos);
  }
  return 0;
}
