// host/plugin/probe.hpp — runs a plugin's entry function in a forked child first.
//
// A plugin whose static constructors or entry function crash, hang, exit or throw must not take
// the host down with it. The probe forks; the child loads the file (RTLD_NOW | RTLD_LOCAL),
// calls the entry, validates the descriptor, reports over a pipe and _exit()s. Only when the
// child reports success does the loader dlopen the file in the host. Private to host/plugin.
#ifndef WEIR_HOST_PLUGIN_PROBE_HPP
#define WEIR_HOST_PLUGIN_PROBE_HPP

#include <filesystem>

#include "weir/plugin.hpp"

namespace weir::host::internal {

/// Probes `path` in a child process, waiting at most `timeout_ms` (the child is killed after
/// that). Returns OK when the child loaded the file, negotiated and validated the descriptor;
/// otherwise the refusal reason, e.g. "crashed with SIGSEGV (signal 11) in its entry function",
/// "entry function did not return within 500 ms", "cannot be loaded: <dlerror>".
/// Forking from a multi-threaded process is safe here only as far as dlopen() in the child is;
/// scan plugins before starting threads.
Status ProbeInChild(const std::filesystem::path& path, int timeout_ms);

}  // namespace weir::host::internal

#endif  // WEIR_HOST_PLUGIN_PROBE_HPP
