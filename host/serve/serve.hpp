// host/serve/serve.hpp — the `weir serve` daemon. (Helper-owned: the serve work fills it in.)
#ifndef WEIR_HOST_SERVE_SERVE_HPP
#define WEIR_HOST_SERVE_SERVE_HPP

namespace weir::host {}  // namespace weir::host

#endif  // WEIR_HOST_SERVE_SERVE_HPP
