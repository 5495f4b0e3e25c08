// sdk/testkit/plugin_library.cpp — PluginLibrary: dlopen a plugin and negotiate the ABI.
#include <dlfcn.h>

#include <string>

#include "checks.hpp"
#include "weir/plugin.hpp"
#include "weir/testkit.hpp"

namespace weir::testkit {

namespace internal {

weir_plugin_entry_fn LoadEntry(const std::string& so_path, std::string* error) {
  // dlopen() searches the library path for a name without '/'; the kit tests a file.
  const std::string path = so_path.find('/') == std::string::npos ? "./" + so_path : so_path;
  dlerror();
  // Never dlclose()d: see the class comment.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    *error = "cannot load '" + so_path + "': " + (why != nullptr ? why : "unknown dlopen error");
    return nullptr;
  }
  void* symbol = dlsym(handle, WEIR_ENTRY_SYMBOL);
  if (symbol == nullptr) {
    *error = "'" + so_path +
             "' does not export " WEIR_ENTRY_SYMBOL
             " (not a weir plugin, or built for another ABI major)";
    return nullptr;
  }
  return reinterpret_cast<weir_plugin_entry_fn>(symbol);
}

}  // namespace internal

std::unique_ptr<PluginLibrary> PluginLibrary::Load(const std::string& so_path, std::string* error,
                                                   uint32_t minor_min, uint32_t minor_max) {
  weir_plugin_entry_fn entry = internal::LoadEntry(so_path, error);
  if (entry == nullptr) return nullptr;
  std::unique_ptr<PluginLibrary> lib(new PluginLibrary());
  lib->entry_ = entry;
  weir_host_info info{};
  info.struct_size = sizeof(info);
  info.abi_major = WEIR_ABI_MAJOR;
  info.abi_minor_min = minor_min;
  info.abi_minor_max = minor_max;
  info.host_version = "weir-testkit";
  weir_error err{};
  const weir_status status = lib->entry_(&info, &lib->descriptor_, &err);
  if (status != WEIR_OK) {
    *error = "negotiation failed: " + Status::FromError(status, &err).ToString();
    return nullptr;
  }
  return lib;
}

}  // namespace weir::testkit
