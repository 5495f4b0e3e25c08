// host/plugin/loader.cpp — LoadPluginFile, PluginRegistry::Scan and DefaultPluginDirs.
//
// Vetting order for one file (each step refuses with its own reason, see docs/plugin-loading.md):
// ELF header, exported symbols, probe in a forked child, then the in-process load with
// Boost.DLL. Every library that was loaded in-process is kept in a process-wide, deliberately
// leaked list and never unloaded: once its entry function has run, the plugin may have handed
// out function pointers, started threads or registered callbacks, and unloading would leave
// those dangling (DESIGN.md §5).
#include "host/plugin/loader.hpp"

// <vector> and <string> before Boost.DLL: its 1.74 headers use std::vector without including it.
#include <dlfcn.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/dll/shared_library.hpp>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include "host/plugin/elf_inspect.hpp"
#include "host/plugin/entry_call.hpp"
#include "host/plugin/probe.hpp"

#ifndef WEIR_INSTALL_PLUGIN_DIR
#define WEIR_INSTALL_PLUGIN_DIR "lib/weir/plugins"
#endif

namespace weir::host {
namespace {

namespace fs = std::filesystem;

/// One file loaded in-process, with what its entry function answered.
struct KeptLibrary {
  dev_t device = 0;
  ino_t inode = 0;
  boost::dll::shared_library library;
  weir_plugin descriptor{};
  Status status;        ///< OK, or why the loaded plugin was refused
  LoadedPlugin plugin;  ///< valid when status is OK
};

/// Every library ever loaded in-process. Never destroyed, so nothing is ever dlclose()d.
struct Keeper {
  std::mutex mutex;
  std::vector<std::unique_ptr<KeptLibrary>> libraries;
};

Keeper& TheKeeper() {
  static Keeper* keeper = new Keeper();  // leaked on purpose: see the file comment
  return *keeper;
}

LoadedPlugin Describe(const fs::path& path, const weir_plugin& d) {
  LoadedPlugin p;
  p.path = path;
  p.name = d.name;
  p.version = d.version;
  p.description = d.description != nullptr ? d.description : "";
  p.kinds = d.kinds;
  for (size_t i = 0; i < d.stream_count; ++i) p.streams.emplace_back(d.streams[i]);
  p.config_schema = d.config_schema;
  p.abi_major = WEIR_ABI_MAJOR;
  p.abi_minor = d.abi_minor;
  p.source = d.source;
  p.destination = d.destination;
  p.service = ServiceOf(d);
  return p;
}

/// Loads `path` in this process and negotiates; the caller holds the keeper's mutex.
Result<LoadedPlugin> LoadInProcess(Keeper& keeper, const fs::path& path, const struct stat& st) {
  auto kept = std::make_unique<KeptLibrary>();
  kept->device = st.st_dev;
  kept->inode = st.st_ino;
  boost::dll::fs::error_code ec;
  ::dlerror();  // clear any stale message so the one read below is about this load
  kept->library.load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec) {
    // Boost reports every dlopen() failure as "bad file descriptor"; dlerror() says why.
    const char* why = ::dlerror();
    return Status::Error(why != nullptr ? internal::CannotLoadReason(why, path.string())
                                        : "cannot be loaded: " + ec.message());
  }
  if (!kept->library.has(WEIR_ENTRY_SYMBOL)) {
    kept->status =
        Status::Error("cannot be loaded: the dynamic linker does not find " WEIR_ENTRY_SYMBOL);
  } else {
    auto& entry = kept->library.get<std::remove_pointer_t<weir_plugin_entry_fn>>(WEIR_ENTRY_SYMBOL);
    kept->status = internal::CallEntry(&entry, &kept->descriptor);
    if (kept->status.ok()) kept->plugin = Describe(path, kept->descriptor);
  }
  Result<LoadedPlugin> out =
      kept->status.ok() ? Result<LoadedPlugin>(kept->plugin) : Result<LoadedPlugin>(kept->status);
  keeper.libraries.push_back(std::move(kept));
  return out;
}

std::vector<fs::path> SplitPathList(std::string_view list) {
  std::vector<fs::path> out;
  while (!list.empty()) {
    size_t colon = list.find(':');
    std::string_view part = list.substr(0, colon);
    if (!part.empty()) out.emplace_back(part);
    if (colon == std::string_view::npos) break;
    list.remove_prefix(colon + 1);
  }
  return out;
}

}  // namespace

bool LoadedPlugin::supports_stream(std::string_view stream) const {
  return std::find(streams.begin(), streams.end(), stream) != streams.end();
}

std::string LoadedPlugin::KindsString() const {
  std::string out;
  if (is_source()) out += "source";
  if (is_destination()) out += out.empty() ? "destination" : ",destination";
  if (is_service()) out += out.empty() ? "service" : ",service";
  return out;
}

Result<LoadedPlugin> LoadPluginFile(const fs::path& path, const LoaderOptions& options) {
  // Steps 1 and 2 only read the file: a refusal here means none of its code ran.
  WEIR_RETURN_NOT_OK(internal::CheckElfHeader(path));
  WEIR_ASSIGN_OR_RETURN(std::vector<std::string> symbols, internal::ExportedSymbols(path));
  WEIR_RETURN_NOT_OK(internal::CheckEntrySymbol(symbols));

  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Status::Error(std::string("cannot be read: ") + std::strerror(errno));
  }
  Keeper& keeper = TheKeeper();
  std::lock_guard<std::mutex> lock(keeper.mutex);
  // plugin.h promises the entry runs once per process. dlopen() identifies a library by device
  // and inode, so a file loaded before (under any path) answers from what it said then.
  for (const auto& kept : keeper.libraries) {
    if (kept->device == st.st_dev && kept->inode == st.st_ino) {
      if (!kept->status.ok()) return kept->status;
      LoadedPlugin plugin = kept->plugin;
      plugin.path = path;
      return plugin;
    }
  }
  if (options.probe_in_child) {
    WEIR_RETURN_NOT_OK(internal::ProbeInChild(path, options.probe_timeout_ms));
  }
  return LoadInProcess(keeper, path, st);
}

PluginRegistry PluginRegistry::Scan(const std::vector<fs::path>& dirs,
                                    const LoaderOptions& options) {
  PluginRegistry registry;
  std::vector<fs::path> scanned;
  for (const fs::path& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      // A missing directory is skipped (the defaults list directories that may not exist);
      // one that exists as something else is a mistake in --plugins-dir / WEIR_PLUGINS_DIR.
      std::error_code sec;
      if (fs::exists(fs::symlink_status(dir, sec))) {
        const bool dangling = !fs::exists(dir, sec);
        registry.refusals_.push_back(
            {dir, dangling ? std::string("cannot list the plugin directory: ") +
                                 (sec ? sec.message() : std::string("dangling symbolic link"))
                           : std::string("not a directory (--plugins-dir and WEIR_PLUGINS_DIR "
                                         "list directories, ':'-separated)")});
      }
      continue;
    }
    fs::path canonical = fs::weakly_canonical(dir, ec);
    if (ec) canonical = dir;
    // The same directory listed twice would refuse every plugin in it as its own duplicate.
    if (std::find(scanned.begin(), scanned.end(), canonical) != scanned.end()) continue;
    scanned.push_back(canonical);

    std::vector<fs::path> files;
    fs::directory_iterator it(dir, ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
      if (it->path().extension() == ".so") files.push_back(it->path());
    }
    if (ec) {
      registry.refusals_.push_back({dir, "cannot list the plugin directory: " + ec.message()});
      continue;
    }
    std::sort(files.begin(), files.end(),
              [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
    for (const fs::path& file : files) {
      Result<LoadedPlugin> loaded = LoadPluginFile(file, options);
      if (!loaded.ok()) {
        registry.refusals_.push_back({file, loaded.status().message()});
      } else if (const LoadedPlugin* first = registry.Find(loaded->name)) {
        registry.refusals_.push_back({file, "duplicate plugin name '" + loaded->name +
                                                "', already loaded from " + first->path.string()});
      } else {
        registry.plugins_.push_back(std::move(loaded).value());
      }
    }
  }
  return registry;
}

const LoadedPlugin* PluginRegistry::Find(std::string_view name) const {
  for (const LoadedPlugin& p : plugins_) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::vector<fs::path> DefaultPluginDirs(const fs::path& exe_path, const std::string& flag,
                                        const char* env_value) {
  if (!flag.empty()) return SplitPathList(flag);
  if (env_value != nullptr && env_value[0] != '\0') return SplitPathList(env_value);

  fs::path exe = exe_path;
  if (exe.empty()) {
    std::error_code ec;
    exe = fs::read_symlink("/proc/self/exe", ec);
  }
  const fs::path exe_dir = exe.parent_path();
  std::vector<fs::path> dirs;
  const fs::path install_dir = WEIR_INSTALL_PLUGIN_DIR;
  dirs.push_back(install_dir.is_absolute() ? install_dir
                                           : (exe_dir / ".." / install_dir).lexically_normal());
  const fs::path build_dir = (exe_dir / ".." / "plugins").lexically_normal();
  std::error_code ec;
  if (fs::is_directory(build_dir, ec)) dirs.push_back(build_dir);
  return dirs;
}

}  // namespace weir::host
