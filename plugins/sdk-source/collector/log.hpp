// plugins/sdk-source/collector/log.hpp — the logging callback the collector reports through.
//
// The collector never logs a token or write key, nor request bodies.
//
//   LogFn log = [](LogLevel level, std::string_view message) { spdlog::info("{}", message); };
#ifndef WEIR_SDK_SOURCE_COLLECTOR_LOG_HPP
#define WEIR_SDK_SOURCE_COLLECTOR_LOG_HPP

#include <functional>
#include <string_view>

namespace weir::sdksource {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

/// Called from any collector thread, possibly concurrently; must be thread-safe. An empty
/// function discards messages.
using LogFn = std::function<void(LogLevel level, std::string_view message)>;

}  // namespace weir::sdksource

#endif  // WEIR_SDK_SOURCE_COLLECTOR_LOG_HPP
