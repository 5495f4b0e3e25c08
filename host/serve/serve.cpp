// host/serve/serve.cpp — the `weir serve` daemon.
#include "serve/serve.hpp"
