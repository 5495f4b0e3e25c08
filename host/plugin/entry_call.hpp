// host/plugin/entry_call.hpp — calls a plugin's entry function and checks what it answered.
//
// Shared by the probe (in the forked child) and the in-process load, so both refuse a plugin
// with the same words. Private to host/plugin.
#ifndef WEIR_HOST_PLUGIN_ENTRY_CALL_HPP
#define WEIR_HOST_PLUGIN_ENTRY_CALL_HPP

#include <string>

#include "weir/plugin.hpp"

namespace weir::host::internal {

/// Calls `entry` with this host's ABI range (major WEIR_ABI_MAJOR, minor 0..WEIR_ABI_MINOR) into
/// a zeroed `*out_plugin`, catching anything thrown through it, then validates the descriptor.
/// Returns OK with `*out_plugin` filled, or the refusal reason: "entry function threw an
/// exception: ...", "ABI negotiation failed: <plugin's message>" or the validator's message.
/// Any weir_error the plugin filled is released before returning.
Status CallEntry(weir_plugin_entry_fn entry, weir_plugin* out_plugin);

/// "cannot be loaded: <dlerror>", without the leading "<path>: " dlerror() often adds (the
/// refusal line names the file once). `dlerror_message` may be NULL.
std::string CannotLoadReason(const char* dlerror_message, const std::string& path);

}  // namespace weir::host::internal

#endif  // WEIR_HOST_PLUGIN_ENTRY_CALL_HPP
