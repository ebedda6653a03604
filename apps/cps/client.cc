#include "apps/cps/client.h"

#include <algorithm>
#include <iterator>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "apps/common/addr_flags.h"
#include "apps/cps/cps.h"
#include "apps/cps/flood.h"

namespace synack::app::cps {
namespace {

constexpr uint32_t kMaxConcurrency = 16384;
constexpr uint32_t kMaxRequest = 1400;  // one segment: the server answers what one read returns

const char* FailureName(Failure f) {
  switch (f) {
    case Failure::kRefused:
      return "refused";
    case Failure::kReset:
      return "reset";
    case Failure::kTimedOut:
      return "timed out";
    case Failure::kNoArp:
      return "no route/ARP reply";
    case Failure::kOutOfPorts:
      return "out of ports";
    case Failure::kTableFull:
      return "table full";
    case Failure::kClosedEarly:
      return "closed before the response";
    case Failure::kOther:
      return "other";
    case Failure::kCount:
      break;
  }
  return "?";
}

// The reason's key in --json's "failures".
const char* FailureKey(Failure f) {
  static constexpr const char* kKeys[] = {"refused",      "reset",      "timed_out",    "no_arp",
                                          "out_of_ports", "table_full", "closed_early", "other"};
  static_assert(std::size(kKeys) == static_cast<size_t>(Failure::kCount));
  return kKeys[static_cast<size_t>(f)];
}

}  // namespace

absl::Status CpsClient::Start(Engine& engine) {
  absl::StatusOr<Ipv4Addr> hop = ConnectNextHop(engine, config_.dst);
  if (!hop.ok()) return hop.status();
  next_hop_ = *hop;
  slots_.resize(config_.concurrency);
  free_slots_.reserve(config_.concurrency);
  for (uint32_t i = config_.concurrency; i > 0; --i) free_slots_.push_back(i - 1);
  start_ = engine.tcp().now();
  end_ = start_ + config_.duration;
  progress_.Start(start_, ok_, config_.output.interval);
  intervals_.reserve(static_cast<size_t>(config_.duration.ns() / config_.output.interval.ns()) + 2);
  next_expiry_scan_ = start_;
  SnapshotTimeWait(engine);
  tw_start_ = tw_tick_ = tw_;
  const PortRange servers{config_.port, static_cast<uint16_t>(config_.port + config_.ports - 1)};
  std::printf(
      "cps client: %s:%s, concurrency %u, %s, %s\n", config_.dst.ToString().c_str(), servers.ToString().c_str(),
      config_.concurrency,
      config_.request == 0 ? "connect/close" : absl::StrCat(config_.request, "-byte request/response").c_str(),
      config_.connections != 0
          ? absl::StrCat("up to ", config_.connections, " connections or ", FormatDuration(config_.duration)).c_str()
          : absl::StrCat("for ", FormatDuration(config_.duration)).c_str());
  std::printf("4-tuples: %s, source ports %s\n", TupleSpace().c_str(), config_.ephemeral.ToString().c_str());
  std::fflush(stdout);
  return absl::OkStatus();
}

void CpsClient::OnEvent(Engine& engine, const Event& e) {
  if (e.user_data == 0 || e.user_data > slots_.size()) return;
  const uint32_t si = static_cast<uint32_t>(e.user_data - 1);
  if (!(slots_[si].id == e.conn)) return;  // a connection this slot has finished with
  Slot& s = slots_[si];
  TcpLayer& tcp = engine.tcp();
  const Instant now = tcp.now();
  switch (e.type) {
    case EventType::kConnected:
      latency_.Record(now - s.started);
      s.connected = true;
      if (config_.request == 0) {
        config_.abortive ? tcp.Abort(e.conn) : tcp.Close(e.conn);
        Finish(si, now, std::nullopt);
        return;
      }
      s.deadline = now + config_.connect_timeout;
      SendRequest(tcp, s);
      break;
    case EventType::kWritable:
      SendRequest(tcp, s);
      break;
    case EventType::kReadable:
      if (ReadResponse(tcp, s)) {
        config_.abortive ? tcp.Abort(e.conn) : tcp.Close(e.conn);
        Finish(si, now, std::nullopt);
      }
      break;
    case EventType::kPeerClosed: {
      const bool complete = ReadResponse(tcp, s);
      tcp.Close(e.conn);
      Finish(si, now, complete ? std::nullopt : std::optional<Failure>(Failure::kClosedEarly));
      break;
    }
    case EventType::kClosed:
      Finish(si, now, Classify(engine, e.error));
      break;
    case EventType::kAccepted:
      break;
  }
}

void CpsClient::OnPoll(Engine& engine, Instant now) {
  if (done_) return;
  if (!stopping_ && (now >= end_ || StopRequested() || (config_.connections != 0 && started_ >= config_.connections))) {
    stopping_ = true;
  }
  if (!resolved_) resolved_ = engine.Resolved(next_hop_);
  if (!stopping_ && now >= backoff_until_) {
    // One connection until the server's MAC is known (the neighbour queue holds only a few packets), then K.
    const uint32_t limit = resolved_ ? config_.concurrency : 1;
    while (inflight_ < limit && (config_.connections == 0 || started_ < config_.connections)) {
      if (!Open(engine, now)) break;
    }
  }
  if (config_.request != 0 && now >= next_expiry_scan_) ExpireResponses(engine, now);
  if (progress_.Due(now)) Report(engine, now);
  if (stopping_ && inflight_ == 0) {
    if (progress_.Pending(now)) Report(engine, now);  // the last (partial) interval: the run ends here
    done_ = true;
    finished_ = now;
    SnapshotTimeWait(engine);
  }
}

void CpsClient::PrintSummary(FILE* out, Instant now, bool running) const {
  const Instant end = done_ ? finished_ : now;
  const double secs = std::max((end - start_).seconds(), 1e-9);
  std::fprintf(
      out, "cps: %llu ok, %llu failed in %.2f s: %.0f conns/s (concurrency %u, %s)%s\n",
      static_cast<unsigned long long>(ok_), static_cast<unsigned long long>(failed_), secs,
      static_cast<double>(ok_) / secs, config_.concurrency,
      config_.request == 0 ? "connect/close" : absl::StrCat(config_.request, "-byte request").c_str(),
      done_ ? "" : absl::StrCat(running ? " [running, " : " [interrupted with ", inflight_, " in flight]").c_str());
  if (latency_.count() > 0) {
    std::fprintf(out, "connect latency: p50 %s  p99 %s  p99.9 %s  max %s  (%llu samples)\n",
                 FormatDuration(latency_.Percentile(0.50)).c_str(), FormatDuration(latency_.Percentile(0.99)).c_str(),
                 FormatDuration(latency_.Percentile(0.999)).c_str(), FormatDuration(latency_.max()).c_str(),
                 static_cast<unsigned long long>(latency_.count()));
  }
  if (failed_ > 0) {
    std::string line = "failures:";
    for (size_t i = 0; i < failures_.size(); ++i) {
      if (failures_[i] != 0) absl::StrAppend(&line, " ", FailureName(static_cast<Failure>(i)), " ", failures_[i], ";");
    }
    line.pop_back();
    std::fprintf(out, "%s\n", line.c_str());
  }
  // The tuple-space report: once connects ran out of 4-tuples or had to take over TIME-WAIT ones.
  const uint64_t out_of_ports = failures_[static_cast<size_t>(Failure::kOutOfPorts)];
  const uint64_t reused = tw_.reused - tw_start_.reused;
  if (out_of_ports != 0 || reused != 0) {
    std::fprintf(out, "tuple space: %s\n", TupleSpace().c_str());
    std::fprintf(out,
                 "tuple reuse: %llu TIME-WAIT 4-tuples taken over by connect (%.0f/s), %llu in TIME-WAIT at the "
                 "end; one comes back 1 s after its close at the earliest (with timestamps; 60 s without), so "
                 "~%llu conns/s at most\n",
                 static_cast<unsigned long long>(reused), static_cast<double>(reused) / secs,
                 static_cast<unsigned long long>(tw_.entries), static_cast<unsigned long long>(Tuples()));
    if (out_of_ports != 0) {
      std::fprintf(out,
                   "tuple space exhausted: %llu connects found no free 4-tuple; the tuple space, not the stack, "
                   "limits this run: widen it with --connect ADDR:LO-HI (the server: --port LO-HI), "
                   "--ip-count or --ephemeral-ports\n",
                   static_cast<unsigned long long>(out_of_ports));
    }
  }
  std::fflush(out);
}

void CpsClient::AddParametersJson(JsonWriter& w) const {
  w.String("server", config_.dst.ToString())
      .Uint("port", config_.port)
      .Uint("ports", config_.ports)
      .String("ephemeral_ports", config_.ephemeral.ToString())
      .Uint("concurrency", config_.concurrency)
      .Double("duration_s", config_.duration.seconds())
      .Uint("connections", config_.connections)
      .Uint("request_bytes", config_.request)
      .Double("connect_timeout_s", config_.connect_timeout.seconds())
      .String("close", config_.abortive ? "rst" : "fin")
      .Uint("tuples", Tuples());
}

void CpsClient::AddResultsJson(JsonWriter& w, Instant now) const {
  w.BeginArray("intervals");
  for (const IntervalRecord& i : intervals_) {
    const double secs = std::max(i.length.seconds(), 1e-9);
    w.BeginObject()
        .Double("start_s", (i.end - i.length).seconds())
        .Double("end_s", i.end.seconds())
        .Double("seconds", i.length.seconds())
        .Uint("ok", i.ok)
        .Uint("failed", i.failed)
        .Double("conns_per_s", static_cast<double>(i.ok) / secs)
        .Uint("inflight", i.inflight)
        .Uint("time_wait_reused", i.tw_reused)
        .Uint("no_4tuple", i.out_of_ports)
        .EndObject();
  }
  w.EndArray();
  const Instant end = done_ ? finished_ : now;
  const double secs = std::max((end - start_).seconds(), 1e-9);
  w.BeginObject("summary")
      .Uint("ok", ok_)
      .Uint("failed", failed_)
      .Double("seconds", secs)
      .Double("conns_per_s", static_cast<double>(ok_) / secs)
      .Bool("interrupted", !done_)
      .Uint("inflight", done_ ? 0 : inflight_);
  if (latency_.count() > 0) {
    w.BeginObject("connect_latency_ns")
        .Int("p50", latency_.Percentile(0.50).ns())
        .Int("p99", latency_.Percentile(0.99).ns())
        .Int("p999", latency_.Percentile(0.999).ns())
        .Int("max", latency_.max().ns())
        .Uint("samples", latency_.count())
        .EndObject();
  }
  w.BeginObject("failures");
  for (size_t i = 0; i < failures_.size(); ++i) w.Uint(FailureKey(static_cast<Failure>(i)), failures_[i]);
  w.EndObject();
  w.Uint("time_wait_reused", tw_.reused - tw_start_.reused).Uint("time_wait_entries", tw_.entries);
  w.EndObject();
}

uint64_t CpsClient::Tuples() const {
  return uint64_t{config_.addresses} * config_.ports * config_.ephemeral.size() /
         std::max<uint32_t>(config_.engines, 1);
}

std::string CpsClient::TupleSpace() const {
  const uint64_t all = uint64_t{config_.addresses} * config_.ports * config_.ephemeral.size();
  std::string s = absl::StrCat(config_.addresses, config_.addresses == 1 ? " address x " : " addresses x ",
                               config_.ports, config_.ports == 1 ? " server port" : " server ports", " x ",
                               config_.ephemeral.size(), " ephemeral ports = ", all, " 4-tuples");
  if (config_.engines > 1) {
    absl::StrAppend(&s, " (RSS gives this engine of ", config_.engines, " ~", Tuples(), ")");
  }
  return s;
}

void CpsClient::SnapshotTimeWait(const Engine& engine) {
  tw_.reused = engine.tcp().counters().time_wait_reused_by_connect;
  tw_.entries = engine.tcp().time_wait_entries();
}

bool CpsClient::Open(Engine& engine, Instant now) {
  const uint16_t port = static_cast<uint16_t>(config_.port + next_port_);
  next_port_ = next_port_ + 1 == config_.ports ? 0 : next_port_ + 1;
  absl::StatusOr<ConnId> id = engine.tcp().Connect(config_.dst, port, config_.connect_timeout);
  if (!id.ok()) {
    // Out of ports or table full: count it and try again a little later instead of spinning.
    Failure why = Failure::kOther;
    if (absl::StrContains(id.status().message(), "ephemeral")) {
      why = Failure::kOutOfPorts;
    } else if (id.status().code() == absl::StatusCode::kResourceExhausted) {
      why = Failure::kTableFull;
    }
    Count(why);
    backoff_until_ = now + Duration::Milliseconds(10);
    return false;
  }
  const uint32_t si = free_slots_.back();
  free_slots_.pop_back();
  slots_[si] = Slot{*id, now, Instant::Never(), 0, 0, false};
  engine.tcp().SetUserData(*id, uint64_t{si} + 1);
  ++inflight_;
  ++started_;
  return true;
}

void CpsClient::SendRequest(TcpLayer& tcp, Slot& s) {
  if (s.sent < config_.request) {
    s.sent += static_cast<uint32_t>(tcp.SendCopy(
        s.id, ConstBytes(reinterpret_cast<const uint8_t*>(request_bytes_.data()) + s.sent, config_.request - s.sent)));
  }
}

bool CpsClient::ReadResponse(TcpLayer& tcp, Slot& s) {
  uint8_t buf[2048];
  while (size_t n = tcp.RecvCopy(s.id, MutableBytes(buf, sizeof(buf)))) s.received += static_cast<uint32_t>(n);
  return s.connected && s.received >= config_.request;
}

std::optional<Failure> CpsClient::Classify(Engine& engine, TcpError error) const {
  switch (error) {
    case TcpError::kRefused:
      return Failure::kRefused;
    case TcpError::kReset:
      return Failure::kReset;
    case TcpError::kTimedOut:
      return !engine.Resolved(next_hop_) ? Failure::kNoArp : Failure::kTimedOut;
    case TcpError::kNone:
      return Failure::kClosedEarly;
    case TcpError::kAborted:
      return Failure::kOther;
    case TcpError::kUnreachable:
      return Failure::kNoArp;
  }
  return Failure::kOther;
}

void CpsClient::ExpireResponses(Engine& engine, Instant now) {
  next_expiry_scan_ = now + Duration::Milliseconds(1);
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    if (s.id.valid() && s.connected && s.deadline <= now) {
      engine.tcp().Abort(s.id);
      Finish(i, now, Failure::kTimedOut);
    }
  }
}

void CpsClient::Finish(uint32_t si, Instant now, std::optional<Failure> failure) {
  Slot& s = slots_[si];
  s.id = ConnId{};  // later events for the connection are stale
  free_slots_.push_back(si);
  --inflight_;
  if (failure) {
    Count(*failure);
    return;
  }
  if (ok_++ == 0) {
    std::printf("connected to %s (first connection after %s)\n", config_.dst.ToString().c_str(),
                FormatDuration(now - start_).c_str());
    std::fflush(stdout);
  }
}

void CpsClient::Count(Failure f) {
  ++failed_;
  ++failures_[static_cast<size_t>(f)];
}

void CpsClient::Report(Engine& engine, Instant now) {
  const PerSecond::Interval last = progress_.Tick(now, ok_);
  SnapshotTimeWait(engine);
  const uint64_t out_of_ports = failures_[static_cast<size_t>(Failure::kOutOfPorts)];
  std::string tuples;
  // TIME-WAIT reuse and 4-tuple exhaustion, in the seconds they happen.
  if (tw_.reused != tw_tick_.reused) {
    absl::StrAppend(&tuples, " tw_reused/s=",
                    static_cast<uint64_t>(static_cast<double>(tw_.reused - tw_tick_.reused) / last.elapsed.seconds()));
  }
  if (out_of_ports != out_of_ports_at_tick_) {
    absl::StrAppend(&tuples, " no_4tuple=", out_of_ports - out_of_ports_at_tick_);
  }
  intervals_.push_back({now - start_, last.elapsed, last.delta, failed_ - failed_at_tick_, inflight_,
                        tw_.reused - tw_tick_.reused, out_of_ports - out_of_ports_at_tick_});
  failed_at_tick_ = failed_;
  tw_tick_ = tw_;
  out_of_ports_at_tick_ = out_of_ports;
  std::printf("t=%ss conns/s=%.0f ok=%llu failed=%llu inflight=%u%s\n",
              ProgressTime(now - start_, progress_.period()).c_str(),
              static_cast<double>(last.delta) / last.elapsed.seconds(), static_cast<unsigned long long>(ok_),
              static_cast<unsigned long long>(failed_), inflight_, tuples.c_str());
  if (out_of_ports != 0 && !told_tuple_space_) {
    told_tuple_space_ = true;
    std::printf("out of 4-tuples: %s, each back 1 s after its close at the earliest (see the summary)\n",
                TupleSpace().c_str());
  }
  std::fflush(stdout);
}

absl::StatusOr<bool> ParseCloseMode(const cli::Flags& flags) {
  const std::optional<std::string> v = flags.Get("close");
  if (!v || *v == "fin") return false;
  if (*v == "rst") return true;
  return absl::InvalidArgumentError(absl::StrCat("--close: '", *v, "' is not fin or rst"));
}

absl::StatusOr<ClientConfig> ParseClient(const cli::Flags& flags, Mode mode) {
  ClientConfig c;
  absl::StatusOr<bool> abortive = ParseCloseMode(flags);
  if (!abortive.ok()) return abortive.status();
  c.abortive = *abortive;
  absl::StatusOr<int64_t> k = flags.GetInt("concurrency", 16, 1, kMaxConcurrency);
  if (!k.ok()) return k.status();
  c.concurrency = static_cast<uint32_t>(*k);
  absl::StatusOr<Duration> duration = ParseDuration(flags);
  if (!duration.ok()) return duration.status();
  c.duration = *duration;
  absl::StatusOr<int64_t> n = flags.GetInt("connections", 0, 0, int64_t{1} << 50);
  if (!n.ok()) return n.status();
  c.connections = static_cast<uint64_t>(*n);
  absl::StatusOr<int64_t> request = flags.GetInt("request", 0, 0, kMaxRequest);
  if (!request.ok()) return request.status();
  c.request = static_cast<uint32_t>(*request);
  absl::StatusOr<int64_t> timeout = flags.GetInt("connect-timeout-ms", 1000, 1, 600000);
  if (!timeout.ok()) return timeout.status();
  c.connect_timeout = Duration::Milliseconds(*timeout);
  absl::StatusOr<OutputOptions> output = ParseOutput(flags);
  if (!output.ok()) return output.status();
  c.output = *output;
  absl::StatusOr<PortRange> ephemeral = GetPortRange(flags, "ephemeral-ports", c.ephemeral);
  if (!ephemeral.ok()) return ephemeral.status();
  c.ephemeral = *ephemeral;
  // The server ports: a range from --connect (client) or --port (loopback), or --ports N from the first.
  PortRange servers{5001, 5001};
  const char* range_flag = mode == Mode::kClient ? "--connect" : "--port";
  if (mode == Mode::kClient) {
    absl::StatusOr<EndpointRange> server = ParseConnectRange(flags, 5001);
    if (!server.ok()) return server.status();
    c.dst = server->addr;
    servers = server->ports;
  } else {
    absl::StatusOr<PortRange> port = GetPortRange(flags, "port", servers);
    if (!port.ok()) return port.status();
    servers = *port;
  }
  if (servers.size() > 1 && flags.Has("ports")) {
    return absl::InvalidArgumentError(absl::StrCat("--ports: ", range_flag, " already gives the server ports ",
                                                   servers.ToString(), "; drop --ports"));
  }
  absl::StatusOr<int64_t> ports =
      servers.size() > 1 ? int64_t{servers.size()} : flags.GetInt("ports", mode == Mode::kLoopback ? 32 : 1, 1, 1024);
  if (!ports.ok()) return ports.status();
  if (servers.lo + *ports - 1 > 65535) return absl::InvalidArgumentError("--ports: the last port would pass 65535");
  c.port = servers.lo;
  c.ports = static_cast<uint16_t>(*ports);
  return c;
}

JsonWriter ResultJson(const CpsClient& client, Mode mode, const std::vector<const Engine*>& client_engines,
                      const Engine* server_engine, Instant now) {
  JsonWriter w;
  w.BeginObject().BeginObject("start");
  AddStartJson(w, kProgram, mode, client.output());
  client.AddParametersJson(w);
  w.EndObject();
  client.AddResultsJson(w, now);
  w.BeginObject("counters");
  AddCountersJson(w, "client", client_engines);
  if (server_engine != nullptr) AddCountersJson(w, "server", {server_engine});
  w.EndObject().EndObject();
  return w;
}

int RunClient(const cli::SplitArgs& split, const cli::Flags& flags) {
  absl::StatusOr<CommonOptions> common = ParseCommon(flags);
  if (!common.ok()) return Fail(common.status().message());
  absl::StatusOr<ClientConfig> config = ParseClient(flags, Mode::kClient);
  if (!config.ok()) return Fail(config.status().message());
  absl::StatusOr<std::optional<SynFloodOptions>> flood_options = ParseFlood(flags, config->duration);
  if (!flood_options.ok()) return Fail(flood_options.status().message());
  // The compact TIME-WAIT store holds one entry per 4-tuple the client's closes leave behind (up to 4 Mi
  // entries, 64 B each): when it is full, the oldest entries end early (tcp.time_wait_evicted).
  if (!flags.Has("max-connections")) common->max_connections = std::max<uint32_t>(65536, 4 * config->concurrency);
  if (!flags.Has("max-time-wait")) {
    const uint64_t tuples = uint64_t{common->local_count} * config->ports * config->ephemeral.size();
    common->max_time_wait =
        static_cast<uint32_t>(std::max<uint64_t>(common->max_connections, std::min<uint64_t>(tuples, 4u << 20)));
  }
  if (common->max_connections < 2 * config->concurrency) {
    return Fail(absl::StrCat("--concurrency: ", config->concurrency, " needs --max-connections of at least ",
                             2 * config->concurrency));
  }
  if (config->output.json && flags.Has("flood-only")) return Fail("--json: not with --flood-only (no client runs)");
  TcpLayerConfig tcp;
  tcp.ephemeral_lo = config->ephemeral.lo;
  tcp.ephemeral_hi = config->ephemeral.hi;
  JsonStdout json_out;
  if (config->output.json && !json_out.Begin()) return Fail("--json: cannot duplicate stdout");
  absl::StatusOr<std::unique_ptr<Stack>> rt = StartStack(kProgram, split, *common, tcp);
  if (!rt.ok()) return Fail(rt.status().message());
  config->engines = static_cast<uint32_t>((*rt)->engines());
  config->addresses = common->local_count;
  InstallStopSignals();
  std::unique_ptr<SynFlood> flood;
  if (*flood_options) {
    absl::StatusOr<std::unique_ptr<SynFlood>> f =
        MakeFlood(**flood_options, config->dst, config->port, (*rt)->engine().mac());
    if (!f.ok()) return Fail(f.status().message());
    flood = std::move(*f);
  }
  const Ipv4Addr next_hop = common->local.Contains(config->dst) ? config->dst : common->gateway.value_or(config->dst);
  if (flags.Has("flood-only")) {
    // No legitimate connections: only the flood, for --duration seconds.
    FloodOnly idle(next_hop, config->duration);
    WithSynFlood flooding(idle, *flood, next_hop);
    if (absl::Status s = (*rt)->Run(flooding); !s.ok()) return Fail(s.message());
    PrintFloodSummary(stdout, *flood, idle.elapsed());
    (*rt)->PrintCounters(stdout, "synack-cps: flood counters:");
    return flood->sent() > 0 ? 0 : 1;
  }
  CpsClient client(*config);
  std::optional<WithSynFlood> flooding;
  if (flood) flooding.emplace(client, *flood, next_hop);
  // The summary at exit, and on SIGUSR1 while the run goes on (on the main lcore, the client's).
  Stack& stack = **rt;
  auto summary = [&](FILE* out, const char* counters_title, bool running) {
    client.PrintSummary(out, stack.engine().tcp().now(), running);
    if (flood) PrintFloodSummary(out, *flood, client.elapsed(stack.engine().tcp().now()));
    stack.PrintCounters(out, counters_title);
  };
  stack.SetStatusPrinter([&](FILE* out) {
    std::fprintf(out, "status (SIGUSR1):\n");
    summary(out, "synack-cps: client counters (SIGUSR1):", true);
  });
  if (absl::Status s = stack.Run(flooding ? static_cast<App&>(*flooding) : client); !s.ok()) return Fail(s.message());
  summary(stdout, "synack-cps: client counters:", false);
  if (config->output.json) {
    std::vector<const Engine*> engines;
    for (size_t i = 0; i < stack.engines(); ++i) engines.push_back(&stack.engine(i));
    json_out.Write(ResultJson(client, Mode::kClient, engines, nullptr, stack.engine().tcp().now()));
  }
  return client.ok() > 0 && client.failed() == 0 ? 0 : 1;
}

}  // namespace synack::app::cps
