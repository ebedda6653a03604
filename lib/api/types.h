/// @file
/// The application-facing vocabulary of Synack's socket API: connection ids, events, send outcomes and
/// connection errors. Plain values, any core. They are defined below the API, where TcpLayer uses them
/// (lib/core/events.h, TcpError in lib/tcp/connection.h); this header re-exports them. Start at
/// lib/api/synack.h.
#pragma once

#include "lib/core/events.h"     // ConnId, Event, EventType, EventName, SendStatus
#include "lib/tcp/connection.h"  // TcpError: why a connection ended
