// host/plugin/elf_inspect.cpp — ELF header and symbol-table checks done by reading the file.
//
// Only this machine's own ELF class is parsed (ElfW from <link.h>): anything of another class
// was already refused by CheckElfHeader, so the symbol reader never sees it. Every offset and
// size read from the file is bounds-checked against the file size, because the file is
// untrusted input and this runs inside the host process.
#include "host/plugin/elf_inspect.hpp"

// <vector> and <string> before Boost.DLL: its 1.74 headers use std::vector without including it.
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/dll/library_info.hpp>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "weir/files.hpp"

namespace weir::host::internal {
namespace {

namespace fs = std::filesystem;

using Ehdr = ElfW(Ehdr);
using Shdr = ElfW(Shdr);
using Sym = ElfW(Sym);

/// Reads up to `size` bytes at `offset`; returns how many were read, or -1 with errno set.
ssize_t ReadAt(int fd, void* buffer, size_t size, off_t offset) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, static_cast<char*>(buffer) + done, size - done,
                        offset + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(done);
}

/// "23 20 6e 6f ("# no")": the first bytes as hex, then as text with non-printables as '.'.
std::string DescribeBytes(const unsigned char* bytes, size_t n) {
  std::string hex;
  std::string text;
  for (size_t i = 0; i < n; ++i) {
    char buf[4];
    std::snprintf(buf, sizeof buf, "%02x", bytes[i]);
    if (i > 0) hex += ' ';
    hex += buf;
    text += std::isprint(bytes[i]) != 0 ? static_cast<char>(bytes[i]) : '.';
  }
  return hex + " (\"" + text + "\")";
}

/// The identification and machine fields this host's own executable was built with.
struct MachineId {
  unsigned char elf_class = 0;
  unsigned char data = 0;
  uint16_t type = 0;
  uint16_t machine = 0;
};

std::optional<MachineId> ReadMachineId(const unsigned char* header, size_t n) {
  if (n < EI_NIDENT + 4) return std::nullopt;
  MachineId id;
  id.elf_class = header[EI_CLASS];
  id.data = header[EI_DATA];
  // e_type and e_machine are at offsets 16 and 18 in both ELF classes.
  auto u16 = [&](const unsigned char* p) {
    return id.data == ELFDATA2MSB ? static_cast<uint16_t>((p[0] << 8) | p[1])
                                  : static_cast<uint16_t>(p[0] | (p[1] << 8));
  };
  id.type = u16(header + 16);
  id.machine = u16(header + 18);
  return id;
}

/// This process's own ELF identity, read once from /proc/self/exe. nullopt when unreadable, in
/// which case the machine check is skipped and dlopen() has the last word.
const std::optional<MachineId>& HostMachine() {
  static const std::optional<MachineId> id = []() -> std::optional<MachineId> {
    UniqueFd fd(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return std::nullopt;
    std::array<unsigned char, EI_NIDENT + 4> header{};
    ssize_t n = ReadAt(fd.get(), header.data(), header.size(), 0);
    if (n < 0) return std::nullopt;
    return ReadMachineId(header.data(), static_cast<size_t>(n));
  }();
  return id;
}

const char* ClassName(unsigned char c) {
  return c == ELFCLASS32 ? "32-bit" : c == ELFCLASS64 ? "64-bit" : "unknown-class";
}

const char* ByteOrderName(unsigned char d) {
  return d == ELFDATA2LSB ? "little-endian" : d == ELFDATA2MSB ? "big-endian" : "unknown-endian";
}

std::string TypeName(uint16_t type) {
  switch (type) {
    case ET_REL:
      return "a relocatable object file";
    case ET_EXEC:
      return "an executable";
    case ET_CORE:
      return "a core dump";
    default:
      return "e_type " + std::to_string(type);
  }
}

/// Reads the defined, exported entries of `.dynsym` with full bounds checks.
Result<std::vector<std::string>> DynamicSymbols(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Status::Error(std::string("cannot be read: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return Status::Error(std::string("cannot be read: ") + std::strerror(errno));
  }
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  // Sizes come from the file: check them against its size before allocating anything.
  auto fits = [&](uint64_t size, uint64_t offset) {
    return offset <= file_size && size <= file_size - offset;
  };
  auto read_exact = [&](void* out, uint64_t size, uint64_t offset) {
    if (!fits(size, offset)) return false;
    return ReadAt(fd.get(), out, size, static_cast<off_t>(offset)) == static_cast<ssize_t>(size);
  };
  Ehdr eh{};
  if (!read_exact(&eh, sizeof eh, 0)) return Status::Error("truncated ELF header");
  if (eh.e_shoff == 0 || eh.e_shnum == 0) return std::vector<std::string>{};
  if (eh.e_shentsize != sizeof(Shdr)) {
    return Status::Error("unexpected ELF section header size " + std::to_string(eh.e_shentsize));
  }
  if (!fits(uint64_t{sizeof(Shdr)} * eh.e_shnum, eh.e_shoff)) {
    return Status::Error("ELF section headers lie outside the file");
  }
  std::vector<Shdr> sections(eh.e_shnum);
  if (!read_exact(sections.data(), sizeof(Shdr) * sections.size(), eh.e_shoff)) {
    return Status::Error("ELF section headers lie outside the file");
  }
  std::vector<std::string> names;
  for (const Shdr& symtab : sections) {
    if (symtab.sh_type != SHT_DYNSYM) continue;
    if (symtab.sh_link >= sections.size() || sections[symtab.sh_link].sh_type != SHT_STRTAB) {
      return Status::Error(".dynsym does not link to a string table");
    }
    const Shdr& strtab = sections[symtab.sh_link];
    if (!fits(strtab.sh_size, strtab.sh_offset) || !fits(symtab.sh_size, symtab.sh_offset)) {
      return Status::Error(".dynsym or its string table lies outside the file");
    }
    std::vector<char> strings(strtab.sh_size);
    std::vector<Sym> symbols(symtab.sh_size / sizeof(Sym));
    if (!read_exact(strings.data(), strings.size(), strtab.sh_offset) ||
        !read_exact(symbols.data(), symbols.size() * sizeof(Sym), symtab.sh_offset)) {
      return Status::Error(".dynsym or its string table lies outside the file");
    }
    for (const Sym& sym : symbols) {
      const unsigned bind = ELF64_ST_BIND(sym.st_info);
      const unsigned visibility = ELF64_ST_VISIBILITY(sym.st_other);
      if (sym.st_shndx == SHN_UNDEF || bind == STB_LOCAL) continue;
      if (visibility != STV_DEFAULT && visibility != STV_PROTECTED) continue;
      if (sym.st_name >= strings.size()) continue;
      const char* name = strings.data() + sym.st_name;
      size_t len = strnlen(name, strings.size() - sym.st_name);
      if (len == 0 || len == strings.size() - sym.st_name) continue;  // empty or unterminated
      names.emplace_back(name, len);
    }
  }
  return names;
}

}  // namespace

Status CheckElfHeader(const fs::path& path) {
  std::error_code ec;
  fs::file_status status = fs::status(path, ec);
  if (ec) return Status::Error("cannot be read: " + ec.message());
  if (fs::is_directory(status)) return Status::Error("not a regular file (it is a directory)");
  if (!fs::is_regular_file(status)) return Status::Error("not a regular file");

  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Status::Error(std::string("cannot be read: ") + std::strerror(errno));
  std::array<unsigned char, 64> header{};
  ssize_t got = ReadAt(fd.get(), header.data(), header.size(), 0);
  if (got < 0) return Status::Error(std::string("cannot be read: ") + std::strerror(errno));
  const size_t n = static_cast<size_t>(got);

  if (n == 0) return Status::Error("not an ELF shared object (the file is empty)");
  if (n < SELFMAG || std::memcmp(header.data(), ELFMAG, SELFMAG) != 0) {
    return Status::Error("not an ELF shared object (file starts with " +
                         DescribeBytes(header.data(), std::min<size_t>(n, 8)) + ")");
  }
  std::optional<MachineId> file = ReadMachineId(header.data(), n);
  if (!file) return Status::Error("not an ELF shared object (truncated ELF header)");

  if (const std::optional<MachineId>& host = HostMachine()) {
    if (file->data != host->data) {
      return Status::Error(std::string("built for another machine (") + ByteOrderName(file->data) +
                           " ELF, this host is " + ByteOrderName(host->data) + ")");
    }
    if (file->machine != host->machine) {
      return Status::Error("built for another machine (e_machine " + std::to_string(file->machine) +
                           ", this host is " + std::to_string(host->machine) + ")");
    }
    if (file->elf_class != host->elf_class) {
      return Status::Error(std::string("built for another machine (") + ClassName(file->elf_class) +
                           " ELF, this host is " + ClassName(host->elf_class) + ")");
    }
  }
  if (file->type != ET_DYN) {
    return Status::Error("ELF file is not a shared object (it is " + TypeName(file->type) + ")");
  }
  if (n < sizeof(Ehdr)) return Status::Error("not an ELF shared object (truncated ELF header)");
  return Status::OK();
}

Result<std::vector<std::string>> ExportedSymbols(const fs::path& path) {
  std::vector<std::string> names;
  std::string boost_error;
  try {
    boost::dll::library_info info(path);
    names = info.symbols();
  } catch (const std::exception& e) {
    boost_error = e.what();
  }
  // Boost 1.74's library_info reads only `.symtab`, which `strip` removes; `.dynsym` survives
  // stripping and is what dlopen() resolves against, so it is read as well.
  Result<std::vector<std::string>> dynamic = DynamicSymbols(path);
  if (!dynamic.ok()) {
    if (!boost_error.empty()) {
      return Status::Error("cannot read the ELF symbol tables: " + boost_error + "; " +
                           dynamic.status().message());
    }
  } else {
    names.insert(names.end(), dynamic->begin(), dynamic->end());
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

Status CheckEntrySymbol(const std::vector<std::string>& symbols) {
  const std::string_view prefix = WEIR_ENTRY_SYMBOL_PREFIX;
  std::vector<std::string> other_majors;
  for (const std::string& s : symbols) {
    if (s == WEIR_ENTRY_SYMBOL) return Status::OK();
    if (s.size() > prefix.size() && s.compare(0, prefix.size(), prefix) == 0) {
      std::string major = s.substr(prefix.size());
      if (std::all_of(major.begin(), major.end(),
                      [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })) {
        other_majors.push_back(std::move(major));
      }
    }
  }
  if (other_majors.empty()) {
    return Status::Error("no weir entry symbol (expected " WEIR_ENTRY_SYMBOL
                         "); is this a weir plugin?");
  }
  std::string majors;
  for (const std::string& m : other_majors) majors += (majors.empty() ? "" : ", ") + m;
  return Status::Error("built for weir ABI major " + majors + ", this host speaks major " +
                       std::to_string(WEIR_ABI_MAJOR));
}

}  // namespace weir::host::internal
