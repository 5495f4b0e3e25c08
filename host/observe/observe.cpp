// host/observe/observe.cpp — status snapshots and their renderings.
#include "observe/observe.hpp"
