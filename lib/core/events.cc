#include "lib/core/events.h"

namespace synack {

const char* EventName(EventType t) {
  switch (t) {
    case EventType::kAccepted:
      return "accepted";
    case EventType::kConnected:
      return "connected";
    case EventType::kReadable:
      return "readable";
    case EventType::kWritable:
      return "writable";
    case EventType::kPeerClosed:
      return "peer-closed";
    case EventType::kClosed:
      return "closed";
  }
  return "?";
}

}  // namespace synack
