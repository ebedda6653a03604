// The one include for applications built against an installed Synack (`#include <synack/synack.h>`
// with `pkg-config --cflags synack` or `find_package(Synack)`): the socket API and the runtime that
// starts engines. In the source tree the same headers are "lib/api/synack.h" and "apps/common/runtime.h".
#pragma once

#include "apps/common/runtime.h"
#include "lib/api/synack.h"
#include "synack/version.h"
