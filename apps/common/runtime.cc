#include "apps/common/runtime.h"

#include <sys/stat.h>
#include <unistd.h>

#include <rte_ethdev.h>

#include "absl/strings/str_cat.h"

namespace synack::app {

std::vector<cli::FlagSpec> SynDefenceFlags() {
  return {
      {"syn-cookies", true,
       "off | when-full | always: answer SYNs with SYN cookies (default when-full: when the half-open queue is full)"},
      {"syn-backlog", true, "half-open (SYN-RECEIVED) connections per listener (default 1024)"},
      {"max-half-open", true, "half-open connections per engine over all listeners (default 4096)"},
      {"syn-rate-per-source", true,
       "SYNs per second one source address may send before they are dropped (default 0: no limit)"},
      {"syn-burst-per-source", true, "SYNs a quiet source may send at once under --syn-rate-per-source (default 32)"},
      {"syn-shed", true,
       "on | off: when a receive burst comes back full, drop new SYNs from unknown sources beyond an adaptive "
       "budget before parsing them (default on)"},
  };
}

absl::StatusOr<SynDefenceOptions> ParseSynDefence(const cli::Flags& flags, SynDefenceOptions d) {
  if (std::optional<std::string> c = flags.Get("syn-cookies")) {
    std::optional<SynCookieMode> m = ParseSynCookieMode(*c);
    if (!m)
      return absl::InvalidArgumentError(absl::StrCat("--syn-cookies: '", *c, "' is not one of off, when-full, always"));
    d.cookies = *m;
  }
  absl::StatusOr<int64_t> backlog = flags.GetInt("syn-backlog", d.syn_backlog, 1, 1 << 24);
  if (!backlog.ok()) return backlog.status();
  d.syn_backlog = static_cast<uint32_t>(*backlog);
  absl::StatusOr<int64_t> half_open = flags.GetInt("max-half-open", d.max_half_open, 1, 1 << 24);
  if (!half_open.ok()) return half_open.status();
  d.max_half_open = static_cast<uint32_t>(*half_open);
  absl::StatusOr<int64_t> rate = flags.GetInt("syn-rate-per-source", d.rate_per_source, 0, 100000000);
  if (!rate.ok()) return rate.status();
  d.rate_per_source = static_cast<uint32_t>(*rate);
  absl::StatusOr<int64_t> burst = flags.GetInt("syn-burst-per-source", d.burst_per_source, 1, 1000000);
  if (!burst.ok()) return burst.status();
  d.burst_per_source = static_cast<uint32_t>(*burst);
  if (std::optional<std::string> v = flags.Get("syn-shed")) {
    if (*v != "on" && *v != "off")
      return absl::InvalidArgumentError(absl::StrCat("--syn-shed: '", *v, "' is not on or off"));
    d.shed = *v == "on";
  }
  return d;
}

void SynDefenceOptions::ApplyTo(TcpLayerConfig& tcp) const {
  tcp.syn_cookies = cookies;
  tcp.syn_backlog = syn_backlog;
  tcp.max_half_open = max_half_open;
  tcp.syn_limit.rate = rate_per_source;
  tcp.syn_limit.burst = burst_per_source;
  tcp.shed_syns_under_overload = shed;
}

std::string SynDefenceOptions::Describe() const {
  std::string s = absl::StrCat("syn cookies ", SynCookieModeName(cookies), ", syn backlog ", syn_backlog,
                               " per listener, ", max_half_open, " half-open per engine");
  if (!shed) absl::StrAppend(&s, ", no SYN shedding");
  if (rate_per_source > 0) {
    absl::StrAppend(&s, ", ", rate_per_source, " SYN/s per source (burst ", burst_per_source, ")");
  }
  return s;
}

void TuningOptions::ApplyTo(TcpLayerConfig& tcp) const {
  tcp.tcp.congestion = congestion;
  tcp.tcp.nodelay = nodelay;
  if (snd_buffer != 0) tcp.tcp.snd_buffer = snd_buffer;
  if (rcv_buffer != 0) tcp.tcp.rcv_buffer = rcv_buffer;
}

std::string TuningOptions::Describe() const {
  return absl::StrCat(CongestionAlgorithmName(congestion), nodelay ? ", no-delay" : ", nagle",
                      snd_buffer != 0 ? absl::StrCat(", snd buffer ", snd_buffer) : "",
                      rcv_buffer != 0 ? absl::StrCat(", rcv buffer ", rcv_buffer) : "",
                      impair.enabled() ? absl::StrCat(", impaired link: ", impair.Describe()) : "");
}

std::vector<cli::FlagSpec> TuningFlags() {
  return {{"congestion", true, "congestion control: cubic (default) or newreno"},
          {"nodelay", false, "send small segments at once (no Nagle)"},
          {"snd-buffer", true, "send buffer per connection in bytes, 4096..67108864 (default 262144)"},
          {"rcv-buffer", true,
           "receive buffer (and largest window) per connection in bytes, 4096..67108864 (default 262144); "
           "a path of bandwidth B and round trip R needs B*R"},
          {"impair", true,
           "put a seeded impaired link on every engine's traffic, e.g. loss=1%,burst=0.5%/25%,reorder=2%,"
           "reorder_delay=500us,dup=0.5%,corrupt=0.1%,delay=1ms,rate=10g,queue=1000,seed=7"},
          {"profile", false,
           "measure where each engine's cycles go (rx, parse, lookup, tcp, deliver/tx build, timers, tx, app; "
           "one poll in 16) and print it with the counters"},
          {"pcap", true,
           "FILE[,count=N]: write every frame each engine receives from and sends to its port to the pcapng FILE "
           "(the first N packets only with count=N); copies the writer cannot keep up with are dropped and "
           "counted as capture.dropped, never waited for"},
          {"pdump", false,
           "let dpdk-dumpcap capture from this process (dpdk-dumpcap --file-prefix P -i PORT -w FILE): runs "
           "on mounted hugepages with DPDK's shared configuration, as a secondary cannot attach to a --no-huge "
           "process; implies --hugepages (without --in-memory), needs free hugepages"}};
}

absl::StatusOr<TuningOptions> ParseTuning(const cli::Flags& flags) {
  TuningOptions t;
  if (std::optional<std::string> c = flags.Get("congestion")) {
    if (*c == "cubic") {
      t.congestion = CongestionAlgorithm::kCubic;
    } else if (*c == "newreno" || *c == "reno") {
      t.congestion = CongestionAlgorithm::kNewReno;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--congestion: '", *c, "' is not cubic or newreno"));
    }
  }
  t.nodelay = flags.Has("nodelay");
  t.profile = flags.Has("profile");
  for (const char* name : {"snd-buffer", "rcv-buffer"}) {
    if (!flags.Has(name)) continue;
    absl::StatusOr<int64_t> v = flags.GetInt(name, 0, 4096, 64 << 20);
    if (!v.ok()) return v.status();
    (std::string_view(name) == "snd-buffer" ? t.snd_buffer : t.rcv_buffer) = static_cast<uint32_t>(*v);
  }
  if (std::optional<std::string> spec = flags.Get("pcap")) {
    absl::StatusOr<CaptureConfig> c = ParseCaptureSpec(*spec);
    if (!c.ok()) return c.status();
    // Refuse a file that cannot be created before DPDK starts.
    const size_t slash = c->path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : c->path.substr(0, slash);
    struct stat st;
    if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat("--pcap: ", c->path, ": directory ", dir, " does not exist"));
    }
    if (access(dir.c_str(), W_OK) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("--pcap: ", c->path, ": directory ", dir, " is not writable"));
    }
    t.capture = *c;
  }
  t.pdump = flags.Has("pdump");
  if (std::optional<std::string> spec = flags.Get("impair")) {
    absl::StatusOr<ImpairConfig> imp = ParseImpairSpec(*spec);
    if (!imp.ok()) return imp.status();
    t.impair = *imp;
  }
  return t;
}

std::vector<cli::FlagSpec> CommonFlags() {
  std::vector<cli::FlagSpec> syn = SynDefenceFlags();
  std::vector<cli::FlagSpec> flags = {
      {"ip", true, "our address with prefix length, e.g. 198.18.0.2/24 (required)"},
      {"ip-count", true,
       "own N consecutive addresses from --ip on, 1..256 (default 1): each answers ARP, and connects spread over "
       "them (more 4-tuples towards one server port)"},
      {"gateway", true, "next hop for off-link destinations, e.g. 198.18.0.1"},
      {"eth-port", true, "DPDK port id to use (default 0)"},
      {"mbufs", true, "mbufs in the pool (default 16383)"},
      {"max-connections", true, "connection table size per engine (default 4096)"},
      {"max-time-wait", true, "compact TIME-WAIT entries per engine (default: --max-connections)"},
      {"hugepages", false, "use mounted hugepages instead of --no-huge"},
      {"version", false, "print the version"},
      {"help", false, "print this help"},
  };
  flags.insert(flags.end() - 1, syn.begin(), syn.end());
  std::vector<cli::FlagSpec> tuning = TuningFlags();
  flags.insert(flags.end() - 1, tuning.begin(), tuning.end());
  return flags;
}

absl::StatusOr<CommonOptions> ParseCommon(const cli::Flags& flags) {
  CommonOptions o;
  std::optional<std::string> ip = flags.Get("ip");
  if (!ip) return absl::InvalidArgumentError("--ip is required (e.g. --ip 198.18.0.2/24)");
  absl::StatusOr<Ipv4Prefix> local = ParseIpv4Prefix(*ip);
  if (!local.ok()) return absl::InvalidArgumentError(absl::StrCat("--ip: ", local.status().message()));
  o.local = *local;
  absl::StatusOr<int64_t> count = flags.GetInt("ip-count", 1, 1, kMaxLocalAddresses);
  if (!count.ok()) return count.status();
  o.local_count = static_cast<uint32_t>(*count);
  // The last address must still be a host address of the prefix (below its broadcast address).
  const uint64_t last = uint64_t{o.local.addr.v} + o.local_count - 1;
  if (o.local_count > 1 && (o.local.len >= 31 || last >= o.local.broadcast().v)) {
    return absl::InvalidArgumentError(absl::StrCat("--ip-count: ", o.local_count, " addresses from ",
                                                   o.local.addr.ToString(), " run past the end of ", o.local.ToString(),
                                                   " (lower the count or widen the prefix)"));
  }
  if (std::optional<std::string> g = flags.Get("gateway")) {
    absl::StatusOr<Ipv4Addr> gw = ParseIpv4Addr(*g);
    if (!gw.ok()) return absl::InvalidArgumentError(absl::StrCat("--gateway: ", gw.status().message()));
    if (!o.local.Contains(*gw)) {
      return absl::InvalidArgumentError(absl::StrCat("--gateway: ", gw->ToString(), " is not inside ",
                                                     o.local.ToString(), " (pick an on-link next hop)"));
    }
    if (gw->v - o.local.addr.v < o.local_count) {
      return absl::InvalidArgumentError(absl::StrCat("--gateway: ", gw->ToString(),
                                                     " is one of our own addresses (--ip",
                                                     o.local_count > 1 ? ", --ip-count" : "", ")"));
    }
    o.gateway = *gw;
  }
  absl::StatusOr<int64_t> eth_port = flags.GetInt("eth-port", 0, 0, RTE_MAX_ETHPORTS - 1);
  if (!eth_port.ok()) return eth_port.status();
  o.eth_port = static_cast<uint16_t>(*eth_port);
  absl::StatusOr<int64_t> mbufs = flags.GetInt("mbufs", 16383, 1024, 16 << 20);
  if (!mbufs.ok()) return mbufs.status();
  o.mbufs = static_cast<uint32_t>(*mbufs);
  absl::StatusOr<int64_t> conns = flags.GetInt("max-connections", 4096, 1, 1 << 24);
  if (!conns.ok()) return conns.status();
  o.max_connections = static_cast<uint32_t>(*conns);
  absl::StatusOr<int64_t> tw = flags.GetInt("max-time-wait", *conns, 1, 1 << 24);
  if (!tw.ok()) return tw.status();
  o.max_time_wait = static_cast<uint32_t>(*tw);
  o.hugepages = flags.Has("hugepages");
  absl::StatusOr<SynDefenceOptions> syn = ParseSynDefence(flags);
  if (!syn.ok()) return syn.status();
  o.syn = *syn;
  absl::StatusOr<TuningOptions> tuning = ParseTuning(flags);
  if (!tuning.ok()) return tuning.status();
  o.tuning = *tuning;
  return o;
}

StackConfig MakeStackConfig(const std::string& program, const cli::SplitArgs& args, const CommonOptions& options,
                            const TcpLayerConfig& tcp) {
  StackConfig c;
  c.program = program;
  c.eal_args = args.eal;
  c.hugepages = options.hugepages;
  c.local = options.local;
  c.local_count = options.local_count;
  c.gateway = options.gateway;
  c.eth_port = options.eth_port;
  c.mbufs = options.mbufs;
  c.tcp = tcp;
  c.tcp.max_connections = options.max_connections;
  c.tcp.max_time_wait = options.max_time_wait;
  options.syn.ApplyTo(c.tcp);
  options.tuning.ApplyTo(c.tcp);
  c.impair = options.tuning.impair;
  c.profile = options.tuning.profile;
  c.capture = options.tuning.capture;
  c.pdump = options.tuning.pdump;
  return c;
}

absl::StatusOr<std::unique_ptr<Stack>> CreateStack(const std::string& program, const cli::SplitArgs& args,
                                                   const CommonOptions& options, const TcpLayerConfig& tcp) {
  absl::StatusOr<std::unique_ptr<Stack>> stack = Stack::Create(MakeStackConfig(program, args, options, tcp));
  if (stack.ok()) {
    PrintEalPrefix();
    PrintCapture((*stack)->capture(), options.tuning.pdump);
  }
  return stack;
}

void PrintCapture(const CaptureWriter* capture, bool pdump) {
  if (capture != nullptr) std::printf("%s\n", capture->Describe().c_str());
  if (pdump) {
    std::printf(
        "pdump: dpdk-dumpcap may attach: dpdk-dumpcap --file-prefix %s -D lists the ports, -i PORT -w FILE "
        "captures\n",
        EalFilePrefix().c_str());
  }
  std::fflush(stdout);
}

void PrintEalPrefix() {
  std::printf("eal: file prefix %s (dpdk-telemetry.py -f %s)\n", EalFilePrefix().c_str(), EalFilePrefix().c_str());
  std::fflush(stdout);
}

}  // namespace synack::app
