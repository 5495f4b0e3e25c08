// host/plugin/entry_call.cpp — the entry call and descriptor validation.
//
// The ABI forbids exceptions crossing the boundary, but a plugin that throws anyway must be
// refused, not terminate the host: hence the catch-all around a C function pointer call.
#include "host/plugin/entry_call.hpp"

#include <exception>
#include <string>

#include "host/plugin/loader.hpp"
#include "weir/validate.hpp"

namespace weir::host::internal {

Status CallEntry(weir_plugin_entry_fn entry, weir_plugin* out_plugin) {
  weir_host_info info{};
  info.struct_size = sizeof info;
  info.abi_major = WEIR_ABI_MAJOR;
  info.abi_minor_min = 0;
  info.abi_minor_max = WEIR_ABI_MINOR;
  info.host_version = kHostVersion;
  *out_plugin = weir_plugin{};
  weir_error error{};
  weir_status status = WEIR_ERROR;
  try {
    status = entry(&info, out_plugin, &error);
  } catch (const std::exception& e) {
    return Status::Error(std::string("entry function threw an exception: ") + e.what());
  } catch (...) {
    return Status::Error(
        "entry function threw an exception that is not a std::exception (the ABI forbids "
        "exceptions crossing it)");
  }
  if (status != WEIR_OK) {
    // FromError takes over and releases the plugin's error.
    return Status::Error("ABI negotiation failed: " + Status::FromError(status, &error).message());
  }
  weir_error_release(&error);  // a plugin that filled it anyway must not leak it
  return ValidateDescriptor(*out_plugin, 0, WEIR_ABI_MINOR);
}

std::string CannotLoadReason(const char* dlerror_message, const std::string& path) {
  std::string message = dlerror_message != nullptr ? dlerror_message : "dlopen failed";
  const std::string prefix = path + ": ";
  if (message.compare(0, prefix.size(), prefix) == 0) message.erase(0, prefix.size());
  return "cannot be loaded: " + message;
}

}  // namespace weir::host::internal
