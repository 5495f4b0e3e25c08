// tests/abi/abi_cxx17_test.cpp — plugin.hpp, validate.hpp, json.hpp and files.hpp are pedantic,
// extension-free C++17.
//
// Built with CXX_STANDARD 17, CXX_EXTENSIONS OFF, -Wall -Wextra -Wpedantic -Werror (plus the
// project's warnings), so a C++20-only construct or a compiler extension in the SDK headers
// fails the build of a third-party plugin that uses C++17. It also instantiates WEIR_PLUGIN
// with a source and a destination class, since a macro only compiles when it is expanded, and
// calls the entry it defines once to check the descriptor it produces.
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string_view>
#include <type_traits>

#include "weir/files.hpp"
#include "weir/json.hpp"
#include "weir/plugin.h"
#include "weir/plugin.hpp"
#include "weir/validate.hpp"

namespace {

// The C structs stay C structs when seen from C++.
template <typename T>
constexpr bool kIsCStruct = std::is_standard_layout_v<T> && std::is_trivially_copyable_v<T>;
static_assert(kIsCStruct<weir_error>);
static_assert(kIsCStruct<weir_host_services>);
static_assert(kIsCStruct<weir_host_info>);
static_assert(kIsCStruct<weir_bytes>);
static_assert(kIsCStruct<weir_batch>);
static_assert(kIsCStruct<weir_read_request>);
static_assert(kIsCStruct<weir_source_vtable>);
static_assert(kIsCStruct<weir_write_request>);
static_assert(kIsCStruct<weir_destination_vtable>);
static_assert(kIsCStruct<weir_plugin>);
static_assert(offsetof(weir_error, struct_size) == 0);
static_assert(offsetof(weir_plugin, struct_size) == 0);
static_assert(offsetof(weir_batch, struct_size) == 0);
static_assert(std::is_same_v<weir_status, int32_t>);
static_assert(std::is_same_v<decltype(&weir_error_release), void (*)(weir_error*)>);

class Cxx17Source : public weir::Source {
 public:
  static weir::Result<std::unique_ptr<Cxx17Source>> Open(std::string_view, weir::Host) {
    return std::make_unique<Cxx17Source>();
  }
  weir::Status Check() override { return weir::Status::OK(); }
  weir::Status Read(const weir::ReadRequest&, weir::BatchBuilder&) override {
    return weir::Status::OK();
  }
};

class Cxx17Destination : public weir::Destination {
 public:
  static weir::Result<std::unique_ptr<Cxx17Destination>> Open(std::string_view, weir::Host) {
    return std::make_unique<Cxx17Destination>();
  }
  weir::Status Check() override { return weir::Status::OK(); }
  weir::Status Write(const weir::WriteRequest&) override { return weir::Status::OK(); }
  weir::Status Flush() override { return weir::Status::OK(); }
};

constexpr const char kSchema[] = R"({"type":"object"})";

weir::Result<int> Half(int v) {
  if (v % 2 != 0) return weir::Status::InvalidConfig("odd");
  return v / 2;
}

weir::Status Quarter(int v, int* out) {
  WEIR_ASSIGN_OR_RETURN(int half, Half(v));
  WEIR_ASSIGN_OR_RETURN(*out, Half(half));
  return weir::Status::OK();
}

}  // namespace

WEIR_PLUGIN((weir::PluginInfo{"cxx17-test", "0.0.1", "C++17 compile test", {"events"}, kSchema}),
            Cxx17Source, Cxx17Destination)

int main() {
  int failures = 0;
  auto expect = [&](bool ok, const char* what) {
    if (!ok) {
      std::fprintf(stderr, "abi_cxx17_test: failed: %s\n", what);
      ++failures;
    }
  };

  weir_host_info host{sizeof(weir_host_info), WEIR_ABI_MAJOR, 0, WEIR_ABI_MINOR, "test"};
  weir_plugin plugin{};
  weir_error error{};
  expect(weir_plugin_entry_v1(&host, &plugin, &error) == WEIR_OK, "entry returns WEIR_OK");
  weir::Status valid = weir::ValidateDescriptor(plugin);
  expect(valid.ok(), valid.message().c_str());
  expect(plugin.kinds == (WEIR_KIND_SOURCE | WEIR_KIND_DESTINATION), "both kinds");
  expect(std::strcmp(plugin.name, "cxx17-test") == 0, "name");

  int quarter = 0;
  expect(Quarter(8, &quarter).ok() && quarter == 2, "WEIR_ASSIGN_OR_RETURN assigns");
  expect(Quarter(6, &quarter).code() == WEIR_INVALID_CONFIG, "WEIR_ASSIGN_OR_RETURN returns");

  expect(weir::KeyFileName("a/b") == "a_b.xe620c3190468cf61", "KeyFileName");
  weir::UniqueFd none;
  expect(!none.valid() && none.Close() == 0, "UniqueFd");

  if (failures == 0) std::printf("abi_cxx17_test: OK\n");
  return failures == 0 ? 0 : 1;
}
