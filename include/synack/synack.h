/// @file
/// The one include for applications built against an installed Synack (`#include <synack/synack.h>`
/// with `pkg-config --cflags synack` or `find_package(Synack)`): the socket API and the runtime that
/// starts engines. In the source tree the same headers are "lib/api/synack.h" and "apps/common/runtime.h".
#pragma once

#include "apps/common/runtime.h"
#include "lib/api/synack.h"
#include "synack/version.h"

/// @mainpage Synack API
/// Synack is a kernel-bypass TCP/IP stack on DPDK: one engine per lcore, each with its own connections,
/// and a zero-copy socket API polled on that lcore. Applications include `<synack/synack.h>` (this file);
/// the model, the events and the mbuf ownership rules are described in lib/api/synack.h. The classes to
/// start from: synack::Stack (or synack::Loopback), synack::Application, synack::Engine, synack::TcpLayer
/// and synack::Mbuf. Every call that takes or returns an Mbuf says who owns it afterwards.
