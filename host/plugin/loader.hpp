// host/plugin/loader.hpp — finds, vets, loads and negotiates weir plugins.
//
// A candidate file is refused WITHOUT loading when it is not an ELF shared object for this
// machine, lacks the entry symbol, or exports another ABI major's entry symbol (read from the
// symbol table with Boost.DLL library_info). Then, so that a plugin that crashes or hangs in
// its entry function cannot take the host down, the entry call is first probed in a forked
// child; only a plugin that negotiated cleanly there is loaded (RTLD_NOW | RTLD_LOCAL) in the
// host. After loading, a failed negotiation, an invalid descriptor or a duplicate name is a
// refusal. Each refusal is one line naming the file and the reason; the others still load.
// Loaded plugins are never unloaded (the registry keeps them for the life of the process).
//
//   auto reg = weir::host::PluginRegistry::Scan(weir::host::DefaultPluginDirs(exe, flag, env));
//   for (auto& r : reg.refusals()) spdlog::warn("{}", r.ToString());
//   const weir::host::LoadedPlugin* s3 = reg.Find("s3");
#ifndef WEIR_HOST_PLUGIN_LOADER_HPP
#define WEIR_HOST_PLUGIN_LOADER_HPP

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "weir/plugin.hpp"
#include "weir/validate.hpp"  // ValidateDescriptor, shared with the conformance kit

namespace weir::host {

inline constexpr const char* kHostVersion = "weir 0.1.0";

/// A plugin that loaded and negotiated. Pointers stay valid for the registry's lifetime.
struct LoadedPlugin {
  std::filesystem::path path;
  std::string name;
  std::string version;
  std::string description;
  uint32_t kinds = 0;  ///< WEIR_KIND_SOURCE | WEIR_KIND_DESTINATION
  std::vector<std::string> streams;
  std::string config_schema;
  uint32_t abi_major = WEIR_ABI_MAJOR;
  uint32_t abi_minor = 0;
  const weir_source_vtable* source = nullptr;
  const weir_destination_vtable* destination = nullptr;
  const weir_service_vtable* service = nullptr;  ///< ABI 1.1 plugins only

  bool is_source() const { return (kinds & WEIR_KIND_SOURCE) != 0; }
  bool is_destination() const { return (kinds & WEIR_KIND_DESTINATION) != 0; }
  bool is_service() const { return service != nullptr; }
  bool supports_stream(std::string_view stream) const;
  std::string KindsString() const;  ///< e.g. "source", "destination", "source,service"
};

/// Why a file was not loaded.
struct Refusal {
  std::filesystem::path path;
  std::string reason;
  std::string ToString() const { return path.string() + ": refused: " + reason; }
};

struct LoaderOptions {
  /// Probe the entry function in a forked child before loading in-process (default on).
  bool probe_in_child = true;
  /// How long a probe may take before it is killed and the plugin refused.
  int probe_timeout_ms = 10000;
};

/// Vets and loads one file. On refusal returns an error whose message is the reason (without
/// the path). The library stays loaded for the life of the process.
Result<LoadedPlugin> LoadPluginFile(const std::filesystem::path& path,
                                    const LoaderOptions& options = {});

class PluginRegistry {
 public:
  /// Scans every `*.so` file (not recursing) of each directory in order; later duplicates of a
  /// name are refused ("duplicate plugin name 'x', already loaded from /path").
  /// Missing directories are skipped silently.
  static PluginRegistry Scan(const std::vector<std::filesystem::path>& dirs,
                             const LoaderOptions& options = {});

  const std::vector<LoadedPlugin>& plugins() const { return plugins_; }
  const std::vector<Refusal>& refusals() const { return refusals_; }
  const LoadedPlugin* Find(std::string_view name) const;

 private:
  std::vector<LoadedPlugin> plugins_;
  std::vector<Refusal> refusals_;
};

/// The plugin directories to scan: `flag` if given (split on ':'), else $WEIR_PLUGINS_DIR
/// (split on ':'), else `<exe_dir>/../lib/weir/plugins` plus, when the executable runs from a
/// build tree, `<exe_dir>/../plugins`.
std::vector<std::filesystem::path> DefaultPluginDirs(const std::filesystem::path& exe_path,
                                                     const std::string& flag,
                                                     const char* env_value);

}  // namespace weir::host

#endif  // WEIR_HOST_PLUGIN_LOADER_HPP
