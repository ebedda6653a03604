#include "lib/tcp/segment.h"

#include "absl/strings/str_cat.h"

namespace synack {

std::string TcpFlagsToString(uint8_t flags) {
  // Bit order, lowest first, so the common pairs read "SYN|ACK" and "FIN|ACK".
  static constexpr struct {
    uint8_t bit;
    const char* name;
  } kNames[] = {
      {tcp_flags::kFin, "FIN"}, {tcp_flags::kSyn, "SYN"}, {tcp_flags::kRst, "RST"}, {tcp_flags::kPsh, "PSH"},
      {tcp_flags::kAck, "ACK"}, {tcp_flags::kUrg, "URG"}, {tcp_flags::kEce, "ECE"}, {tcp_flags::kCwr, "CWR"},
  };
  if (flags == 0) return "none";
  std::string out;
  for (const auto& n : kNames) {
    if ((flags & n.bit) == 0) continue;
    if (!out.empty()) out += '|';
    out += n.name;
  }
  return out;
}

std::string ToString(const TcpSegment& s) {
  std::string out = absl::StrCat(TcpFlagsToString(s.flags), " seq=", s.seq.raw(), " ack=", s.ack.raw(),
                                 " win=", s.window, " len=", s.payload_len);
  if (s.flags & tcp_flags::kUrg) absl::StrAppend(&out, " urg=", s.urgent);
  const TcpOptions& o = s.options;
  std::string opts;
  auto add = [&opts](const auto&... parts) {
    if (!opts.empty()) opts += ',';
    absl::StrAppend(&opts, parts...);
  };
  if (o.mss) add("mss ", *o.mss);
  if (o.window_scale) add("ws ", *o.window_scale);
  if (o.sack_permitted) add("sackOK");
  if (o.timestamps) add("ts ", o.timestamps->tsval, "/", o.timestamps->tsecr);
  if (o.sack_count > 0) {
    std::string blocks;
    for (uint8_t i = 0; i < o.sack_count && i < o.sack.size(); ++i) {
      absl::StrAppend(&blocks, " ", o.sack[i].left.raw(), "-", o.sack[i].right.raw());
    }
    add("sack", blocks);
  }
  if (!opts.empty()) absl::StrAppend(&out, " <", opts, ">");
  return out;
}

}  // namespace synack
