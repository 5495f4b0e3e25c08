// tests/abi/hello_destination_driver.cpp — drives examples/hello-destination's built .so.
//
// Run by build_example_out_of_tree.sh on the plugin it just built against the installed SDK:
//   hello_destination_driver <libweir-hello-destination.so> <scratch dir>
// Loads the plugin as the host does, then checks its contract from the outside: the
// descriptor, config errors that name the field, check() leaving no probe behind, a write that
// lands as <dir>/<stream>/<key>.ndjson with exactly the batch's bytes, a replayed key that
// changes nothing, path-hostile keys staying inside their stream directory, keys longer than
// NAME_MAX written under weir::KeyFileName's bounded name, and a check() on an
// unusable directory that says which step failed. Prints "OK" and exits 0, or names each
// failure and exits 1.
#include <dlfcn.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "weir/files.hpp"
#include "weir/plugin.hpp"
#include "weir/validate.hpp"

namespace {

namespace fs = std::filesystem;

int failures = 0;

void Expect(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "hello_destination_driver: FAILED: %s\n", what.c_str());
    ++failures;
  }
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> ListDir(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    names.push_back(entry.path().filename().string());
  }
  return names;
}

struct Host {
  std::vector<std::string> logs;
  weir_host_services services{};
  Host() {
    services.struct_size = sizeof(services);
    services.host_data = this;
    services.log = [](void* self, int32_t, const char* m, size_t n) {
      static_cast<Host*>(self)->logs.emplace_back(m, n);
    };
    services.metric = [](void*, const char*, int32_t, double) {};
    services.is_cancelled = [](void*) -> int32_t { return 0; };
    services.get_secret = [](void*, const char*, const char**, size_t*) -> weir_status {
      return WEIR_ERROR;
    };
  }
};

class Driver {
 public:
  Driver(const weir_destination_vtable* vt, Host* host) : vt_(vt), host_(host) {}

  /// open(); returns the instance or nullptr, with the failure in `status`.
  weir_instance* Open(std::string_view config, weir::Status* status) {
    weir_instance* instance = nullptr;
    weir_error error{};
    const weir_status rc = vt_->open(config.data(), config.size(), &host_->services, &instance,
                                     &error);
    *status = rc == WEIR_OK ? weir::Status::OK() : weir::Status::FromError(rc, &error);
    return instance;
  }

  weir::Status Check(weir_instance* instance) {
    weir_error error{};
    const weir_status rc = vt_->check(instance, &error);
    return rc == WEIR_OK ? weir::Status::OK() : weir::Status::FromError(rc, &error);
  }

  weir::Status Write(weir_instance* instance, const char* stream, const char* key,
                     const std::vector<std::string>& records) {
    weir::BatchBuilder builder;
    for (const std::string& r : records) builder.Add(r, 1700000000000, 1);
    builder.set_high_watermark("wm");
    weir_batch batch{};
    builder.Release(&batch);
    weir_write_request request{};
    request.struct_size = sizeof(request);
    request.pipeline = "pipe";
    request.project = "proj";
    request.stream = stream;
    request.batch_seq = 1;
    request.idempotency_key = key;
    request.batch = &batch;
    weir_error error{};
    const weir_status rc = vt_->write(instance, &request, &error);
    weir_batch_release(&batch);
    return rc == WEIR_OK ? weir::Status::OK() : weir::Status::FromError(rc, &error);
  }

  weir::Status Flush(weir_instance* instance) {
    weir_error error{};
    const weir_status rc = vt_->flush(instance, &error);
    return rc == WEIR_OK ? weir::Status::OK() : weir::Status::FromError(rc, &error);
  }

 private:
  const weir_destination_vtable* vt_;
  Host* host_;
};

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s PLUGIN.so SCRATCH_DIR\n", argv[0]);
    return 2;
  }
  const fs::path scratch = argv[2];

  void* handle = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    std::fprintf(stderr, "hello_destination_driver: dlopen: %s\n", dlerror());
    return 1;
  }
  auto entry = reinterpret_cast<weir_plugin_entry_fn>(dlsym(handle, WEIR_ENTRY_SYMBOL));
  if (entry == nullptr) {
    std::fprintf(stderr, "hello_destination_driver: no %s in %s\n", WEIR_ENTRY_SYMBOL, argv[1]);
    return 1;
  }
  const weir_host_info info{sizeof(info), WEIR_ABI_MAJOR, 0, WEIR_ABI_MINOR, "driver"};
  weir_plugin plugin{};
  weir_error entry_error{};
  if (entry(&info, &plugin, &entry_error) != WEIR_OK) {
    std::fprintf(stderr, "hello_destination_driver: entry failed: %s\n",
                 weir::Status::FromError(WEIR_ERROR, &entry_error).ToString().c_str());
    return 1;
  }
  const weir::Status valid = weir::ValidateDescriptor(plugin);
  Expect(valid.ok(), "descriptor: " + valid.message());
  if (!valid.ok() || plugin.destination == nullptr) return 1;
  Expect(std::string_view(plugin.name) == "hello-destination", "name is hello-destination");
  Expect(plugin.kinds == WEIR_KIND_DESTINATION, "kinds is destination only");
  Expect(Contains(plugin.config_schema, "\"dir\""), "schema describes 'dir'");

  Host host;
  Driver driver(plugin.destination, &host);

  // Bad configs: refused at open() with WEIR_INVALID_CONFIG, naming what is wrong.
  const std::vector<std::pair<std::string, std::string>> bad_configs = {
      {"{}", "missing required field 'dir'"},
      {R"({"dir": 5})", "'dir' must be a string"},
      {R"({"dri": "/tmp"})", "unknown field 'dri'"},
      {R"({"dir": ""})", "'dir' must not be empty"},
      {R"({"dir": "/a", "dir": "/b"})", "field 'dir' given twice"},
      {R"({"dir": "/a"} x)", "unexpected text after the config object"},
      {"not json", "expected a JSON object"},
  };
  for (const auto& [config, expected] : bad_configs) {
    weir::Status status;
    weir_instance* instance = driver.Open(config, &status);
    Expect(instance == nullptr, "open(" + config + ") fails");
    Expect(status.code() == WEIR_INVALID_CONFIG, "open(" + config + ") is WEIR_INVALID_CONFIG");
    Expect(Contains(status.message(), expected),
           "open(" + config + ") says '" + expected + "', got: " + status.message());
    if (instance != nullptr) plugin.destination->close(instance);
  }

  // A good config (with a JSON escape in the path); check() leaves no probe behind.
  const fs::path out = scratch / "out";
  weir::Status status;
  weir_instance* instance =
      driver.Open(R"({"dir": ")" + scratch.string() + R"(\/out"})", &status);
  Expect(instance != nullptr, "open with a good config: " + status.ToString());
  if (instance == nullptr) return 1;
  status = driver.Check(instance);
  Expect(status.ok(), "check: " + status.ToString());
  Expect(fs::is_directory(out), "check creates dir");
  Expect(ListDir(out).empty(), "check leaves no probe file behind");

  // A write lands under <dir>/<stream>/<weir::KeyFileName(key)>.ndjson, byte for byte.
  status = driver.Write(instance, "events", "pipe:events:1",
                        {R"({"event":"a"})", R"({"event":"b"})"});
  Expect(status.ok(), "write: " + status.ToString());
  Expect(driver.Flush(instance).ok(), "flush");
  const fs::path file = out / "events" / (weir::KeyFileName("pipe:events:1") + ".ndjson");
  Expect(weir::KeyFileName("pipe:events:1").rfind("pipe_events_1.x", 0) == 0,
         "':' replaced and the name hashed: " + file.string());
  Expect(ReadFile(file) == "{\"event\":\"a\"}\n{\"event\":\"b\"}\n",
         "file " + file.string() + " holds the batch's NDJSON");

  // Replaying the key is a no-op, even if (against the contract) the bytes differ.
  status = driver.Write(instance, "events", "pipe:events:1", {R"({"event":"changed"})"});
  Expect(status.ok(), "replayed write: " + status.ToString());
  Expect(driver.Flush(instance).ok(), "flush after replay");
  Expect(ReadFile(file) == "{\"event\":\"a\"}\n{\"event\":\"b\"}\n", "replay left the file alone");
  Expect(ListDir(out / "events").size() == 1, "no temporary files left in the stream dir");

  // Keys cannot escape their stream directory.
  status = driver.Write(instance, "users", "../evil", {"{}"});
  Expect(status.ok(), "write with key '../evil': " + status.ToString());
  Expect(fs::exists(out / "users" / (weir::KeyFileName("../evil") + ".ndjson")),
         "'../evil' written as " + weir::KeyFileName("../evil") + ".ndjson");
  Expect(!fs::exists(out / "evil.ndjson") && !fs::exists(scratch / "evil.ndjson"),
         "'../evil' did not escape");
  Expect(ListDir(out / "users").size() == 1, "'../evil' made exactly one file in its stream dir");

  // A key far beyond NAME_MAX (255 bytes) still makes a valid file name: it is cut and hashed
  // rather than failing with ENAMETOOLONG; two long keys differing only at the end stay apart.
  const std::string long_key(1000, 'k');
  const std::string long_key2 = long_key + "2";
  status = driver.Write(instance, "long", long_key.c_str(), {R"({"n":1})"});
  Expect(status.ok(), "write with a 1000-byte key: " + status.ToString());
  status = driver.Write(instance, "long", long_key2.c_str(), {R"({"n":2})"});
  Expect(status.ok(), "write with a 1001-byte key: " + status.ToString());
  Expect(driver.Flush(instance).ok(), "flush after long keys");
  Expect(ReadFile(out / "long" / (weir::KeyFileName(long_key) + ".ndjson")) == "{\"n\":1}\n",
         "1000-byte key written under its KeyFileName");
  Expect(ReadFile(out / "long" / (weir::KeyFileName(long_key2) + ".ndjson")) == "{\"n\":2}\n",
         "1001-byte key written under its own KeyFileName");
  Expect(ListDir(out / "long").size() == 2, "two long keys, two files, no temporary left");
  plugin.destination->close(instance);

  // check() on a directory whose parent is missing names the failing step and the path.
  const std::string missing = (scratch / "no-such-parent" / "out").string();
  instance = driver.Open(R"({"dir": ")" + missing + R"("})", &status);
  Expect(instance != nullptr, "open with a missing parent still succeeds (no I/O in open)");
  if (instance != nullptr) {
    status = driver.Check(instance);
    Expect(status.code() == WEIR_ERROR, "check on a missing parent fails");
    Expect(Contains(status.message(), "check: creating directory " + missing),
           "check names the step and path, got: " + status.message());
    plugin.destination->close(instance);
  }

  if (failures != 0) return 1;
  std::printf("hello_destination_driver: OK\n");
  return 0;
}
