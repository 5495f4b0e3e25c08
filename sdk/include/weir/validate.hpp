// sdk/include/weir/validate.hpp — checks a plugin descriptor against the v1 contract.
//
// Header-only, shared by the host's loader (which refuses a plugin whose descriptor fails) and
// the conformance kit (which reports the same failure to a plugin author), so both say the
// same thing in the same words.
//
//   weir::Status s = weir::ValidateDescriptor(descriptor, host_minor_min, host_minor_max);
//   if (!s.ok()) std::cerr << s.message() << "\n";  // "descriptor: destination vtable has NULL 'flush'"
#ifndef WEIR_VALIDATE_HPP
#define WEIR_VALIDATE_HPP

#include <cctype>
#include <string>
#include <string_view>

#include "weir/plugin.hpp"

namespace weir {

/// True for a valid plugin name: [a-z0-9][a-z0-9-]*, at most 64 characters.
inline bool IsValidPluginName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0);
    if (!ok) return false;
  }
  return true;
}

/// Returns OK or the first problem found, prefixed "descriptor: ".
inline Status ValidateDescriptor(const weir_plugin& d, uint32_t minor_min = 0,
                                 uint32_t minor_max = WEIR_ABI_MINOR) {
  auto bad = [](const std::string& what) { return Status::Error("descriptor: " + what); };
  if (d.struct_size < WEIR_PLUGIN_SIZE_1_0) {
    return bad("struct_size " + std::to_string(d.struct_size) + " is smaller than the v1.0 size " +
               std::to_string(WEIR_PLUGIN_SIZE_1_0));
  }
  if (d.abi_minor < minor_min || d.abi_minor > minor_max) {
    return bad("answered ABI minor " + std::to_string(d.abi_minor) + ", outside the host's " +
               std::to_string(minor_min) + ".." + std::to_string(minor_max));
  }
  if (d.name == nullptr) return bad("name is NULL");
  if (!IsValidPluginName(d.name)) {
    return bad("name '" + std::string(d.name) + "' must match [a-z0-9][a-z0-9-]* (max 64)");
  }
  if (d.version == nullptr || d.version[0] == '\0') return bad("version is NULL or empty");
  // The service member exists only from 1.1 on, and only if the plugin's struct is that large.
  const bool has_service_member = d.abi_minor >= 1 && d.struct_size >= WEIR_PLUGIN_SIZE_1_1;
  const uint32_t known_kinds = WEIR_KIND_SOURCE | WEIR_KIND_DESTINATION |
                               (has_service_member ? WEIR_KIND_SERVICE : 0u);
  if (d.kinds == 0 || (d.kinds & ~known_kinds) != 0) {
    return bad("kinds " + std::to_string(d.kinds) +
               (has_service_member
                    ? " must be WEIR_KIND_SOURCE, WEIR_KIND_DESTINATION and/or WEIR_KIND_SERVICE"
                    : " must be WEIR_KIND_SOURCE and/or WEIR_KIND_DESTINATION (WEIR_KIND_SERVICE "
                      "needs ABI minor 1 and a 1.1-sized descriptor)"));
  }
  if (d.stream_count == 0 || d.streams == nullptr) return bad("declares no streams");
  for (size_t i = 0; i < d.stream_count; ++i) {
    if (d.streams[i] == nullptr || d.streams[i][0] == '\0') {
      return bad("stream " + std::to_string(i) + " is NULL or empty");
    }
  }
  if (d.config_schema == nullptr) return bad("config_schema is NULL");
  {
    std::string_view s(d.config_schema);
    size_t b = s.find_first_not_of(" \t\r\n");
    size_t e = s.find_last_not_of(" \t\r\n");
    if (b == std::string_view::npos || s[b] != '{' || s[e] != '}') {
      return bad("config_schema is not a JSON object");
    }
  }
  const bool is_source = (d.kinds & WEIR_KIND_SOURCE) != 0;
  const bool is_destination = (d.kinds & WEIR_KIND_DESTINATION) != 0;
  if (is_source != (d.source != nullptr)) {
    return bad(is_source ? "kinds says source but the source vtable is NULL"
                         : "source vtable given but kinds does not say source");
  }
  if (is_destination != (d.destination != nullptr)) {
    return bad(is_destination ? "kinds says destination but the destination vtable is NULL"
                              : "destination vtable given but kinds does not say destination");
  }
  if (const weir_source_vtable* v = d.source) {
    if (v->struct_size < sizeof(weir_source_vtable)) {
      return bad("source vtable struct_size " + std::to_string(v->struct_size) + " < " +
                 std::to_string(sizeof(weir_source_vtable)));
    }
    if (v->open == nullptr) return bad("source vtable has NULL 'open'");
    if (v->check == nullptr) return bad("source vtable has NULL 'check'");
    if (v->read == nullptr) return bad("source vtable has NULL 'read'");
    if (v->close == nullptr) return bad("source vtable has NULL 'close'");
  }
  if (const weir_destination_vtable* v = d.destination) {
    if (v->struct_size < sizeof(weir_destination_vtable)) {
      return bad("destination vtable struct_size " + std::to_string(v->struct_size) + " < " +
                 std::to_string(sizeof(weir_destination_vtable)));
    }
    if (v->open == nullptr) return bad("destination vtable has NULL 'open'");
    if (v->check == nullptr) return bad("destination vtable has NULL 'check'");
    if (v->write == nullptr) return bad("destination vtable has NULL 'write'");
    if (v->flush == nullptr) return bad("destination vtable has NULL 'flush'");
    if (v->close == nullptr) return bad("destination vtable has NULL 'close'");
  }
  if (has_service_member) {
    const bool is_service = (d.kinds & WEIR_KIND_SERVICE) != 0;
    if (is_service != (d.service != nullptr)) {
      return bad(is_service ? "kinds says service but the service vtable is NULL"
                            : "service vtable given but kinds does not say service");
    }
    if (const weir_service_vtable* v = d.service) {
      if (v->struct_size < sizeof(weir_service_vtable)) {
        return bad("service vtable struct_size " + std::to_string(v->struct_size) + " < " +
                   std::to_string(sizeof(weir_service_vtable)));
      }
      if (v->open == nullptr) return bad("service vtable has NULL 'open'");
      if (v->run == nullptr) return bad("service vtable has NULL 'run'");
      if (v->close == nullptr) return bad("service vtable has NULL 'close'");
    }
  }
  return Status::OK();
}

/// The descriptor's service vtable, or NULL when it has none or predates 1.1.
inline const weir_service_vtable* ServiceOf(const weir_plugin& d) {
  if (d.abi_minor < 1 || d.struct_size < WEIR_PLUGIN_SIZE_1_1) return nullptr;
  return d.service;
}

}  // namespace weir

#endif  // WEIR_VALIDATE_HPP
