// host/plugin/elf_inspect.hpp — vets a candidate plugin file by reading it, never loading it.
//
// The first two vetting steps of the loader: the ELF header (is this a shared object for this
// machine at all?) and the exported symbol names (does it carry this host's ABI entry symbol,
// another major's, or none?). Nothing here maps or runs any code of the file, so a refusal at
// these steps is proof the plugin never executed in this process. Private to host/plugin.
#ifndef WEIR_HOST_PLUGIN_ELF_INSPECT_HPP
#define WEIR_HOST_PLUGIN_ELF_INSPECT_HPP

#include <filesystem>
#include <string>
#include <vector>

#include "weir/plugin.hpp"

namespace weir::host::internal {

/// OK when `path` is a regular, readable ELF shared object of this machine's class, byte order
/// and e_machine (compared with /proc/self/exe). Otherwise the refusal reason, without the path.
Status CheckElfHeader(const std::filesystem::path& path);

/// The names of the symbols `path` exports: those Boost.DLL's library_info reports (it reads
/// `.symtab`) together with the defined, non-local, default-visibility entries of `.dynsym`
/// (what the dynamic linker actually uses, and all a stripped plugin still has).
/// Fails only when neither table can be read.
Result<std::vector<std::string>> ExportedSymbols(const std::filesystem::path& path);

/// OK when `symbols` contains WEIR_ENTRY_SYMBOL; otherwise the reason: another ABI major's
/// entry symbol ("built for weir ABI major 2, this host speaks major 1") or none at all.
Status CheckEntrySymbol(const std::vector<std::string>& symbols);

}  // namespace weir::host::internal

#endif  // WEIR_HOST_PLUGIN_ELF_INSPECT_HPP
