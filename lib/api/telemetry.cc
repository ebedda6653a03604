#include "lib/api/telemetry.h"

#include <cstdio>
#include <iterator>
#include <mutex>
#include <string_view>
#include <utility>

#include <rte_telemetry.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "synack/version.h"

namespace synack {
namespace {

struct Registry {
  std::mutex mu;
  std::vector<const TelemetrySource*> sources;  // the last one answers
};

// Never destroyed: the telemetry thread may run a command while the process exits.
Registry& TheRegistry() {
  static Registry* r = new Registry();
  return *r;
}

void ErrorReply(rte_tel_data* d, const std::string& message) {
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_string(d, "error", message.c_str());
}

// The engines a command's parameter names: none or "all": every engine; "N": engine N.
bool SelectEngines(const TelemetrySource& src, const char* params, std::vector<size_t>* out, std::string* error) {
  const std::string p(params == nullptr ? "" : absl::StripAsciiWhitespace(params));
  out->clear();
  if (p.empty() || p == "all") {
    for (size_t i = 0; i < src.engines.size(); ++i) out->push_back(i);
    return true;
  }
  size_t i = 0;
  if (!absl::SimpleAtoi(p, &i) || i >= src.engines.size()) {
    *error = absl::StrCat("no engine '", p, "': give 0..", src.engines.size() - 1, " or all");
    return false;
  }
  out->push_back(i);
  return true;
}

// The latest snapshot of every engine asked for (heap: the telemetry thread's, not the engines').
std::vector<EngineSnapshot> ReadSnapshots(const TelemetrySource& src, const std::vector<size_t>& which) {
  std::vector<EngineSnapshot> snaps(which.size());
  for (size_t k = 0; k < which.size(); ++k) {
    if (!src.engines[which[k]].engine->telemetry().Read(&snaps[k])) snaps[k] = EngineSnapshot{};
  }
  return snaps;
}

std::string EngineName(const std::vector<size_t>& which, size_t engines) {
  return which.size() == 1 && engines > 1 ? absl::StrCat(which[0]) : "all";
}

// A dict key as DPDK 22.11 accepts it (letters, digits, '_' and '/'): "tcp.syn_received" becomes
// "tcp/syn_received", "SYN-SENT" becomes "SYN_SENT".
std::string TelemetryName(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c == '.') {
      c = '/';
    } else if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '/') {
      c = '_';
    }
  }
  return out;
}

// Every command: the registry is locked while it reads; no source, or a bad parameter, answers an error.
template <typename F>
int WithSource(const char* params, rte_tel_data* d, F&& f) {
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  if (r.sources.empty()) {
    ErrorReply(d, "no live synack stack in this process");
    return 0;
  }
  const TelemetrySource& src = *r.sources.back();
  std::vector<size_t> which;
  std::string error;
  if (!SelectEngines(src, params, &which, &error)) {
    ErrorReply(d, error);
    return 0;
  }
  f(src, which);
  return 0;
}

void AddU64Column(rte_tel_data* d, const char* name, const std::vector<uint64_t>& values) {
  rte_tel_data* a = rte_tel_data_alloc();
  if (a == nullptr) return;
  rte_tel_data_start_array(a, RTE_TEL_U64_VAL);
  for (uint64_t v : values) rte_tel_data_add_array_u64(a, v);
  rte_tel_data_add_dict_container(d, name, a, /*keep=*/0);
}

void AddStringColumn(rte_tel_data* d, const char* name, const std::vector<std::string>& values) {
  rte_tel_data* a = rte_tel_data_alloc();
  if (a == nullptr) return;
  rte_tel_data_start_array(a, RTE_TEL_STRING_VAL);
  for (const std::string& v : values) rte_tel_data_add_array_string(a, v.c_str());
  rte_tel_data_add_dict_container(d, name, a, /*keep=*/0);
}

int CmdInfo(const char*, const char* params, rte_tel_data* d) {
  return WithSource("", d, [&](const TelemetrySource& src, const std::vector<size_t>& all) {
    static_cast<void>(params);
    const std::vector<EngineSnapshot> snaps = ReadSnapshots(src, all);
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_string(d, "version", SYNACK_VERSION);
    rte_tel_data_add_dict_string(d, "kind", src.kind.c_str());
    rte_tel_data_add_dict_u64(d, "engines", src.engines.size());
    rte_tel_data_add_dict_string(d, "dispatch", src.dispatch.c_str());
    AddStringColumn(d, "ports", src.ports);
    std::vector<std::string> roles, addresses, macs;
    std::vector<uint64_t> publishes, listeners, connections;
    for (size_t i = 0; i < src.engines.size(); ++i) {
      roles.push_back(src.engines[i].role);
      addresses.push_back(src.engines[i].address);
      macs.push_back(src.engines[i].mac);
      publishes.push_back(snaps[i].publishes);
      listeners.push_back(snaps[i].listeners_total);
      connections.push_back(snaps[i].connections);
    }
    AddStringColumn(d, "engine_role", roles);
    AddStringColumn(d, "engine_address", addresses);
    AddStringColumn(d, "engine_mac", macs);
    AddU64Column(d, "engine_listeners", listeners);
    AddU64Column(d, "engine_connections", connections);
    AddU64Column(d, "engine_snapshots", publishes);
    rte_tel_data_add_dict_u64(d, "snapshot_period_ms", 100);
  });
}

// Counters summed over `snaps`, named as PrintEngineCounters names them, in the engines' counter order.
std::vector<std::pair<std::string, uint64_t>> CounterTotals(const std::vector<EngineSnapshot>& snaps) {
  std::vector<std::pair<std::string, uint64_t>> totals;
  absl::flat_hash_map<std::string, size_t> at;
  auto add = [&](std::string name, uint64_t v) {
    auto [it, inserted] = at.try_emplace(name, totals.size());
    if (inserted) totals.emplace_back(std::move(name), 0);
    totals[it->second].second += v;
  };
  for (const EngineSnapshot& s : snaps) {
    s.net.ForEach([&](std::string_view n, uint64_t v) { add(std::string(n), v); });
    s.layer.ForEach([&](std::string_view n, uint64_t v) { add(absl::StrCat("tcp.", std::string(n)), v); });
    s.tcp.ForEach([&](std::string_view n, uint64_t v) { add(absl::StrCat("tcp.", std::string(n)), v); });
    add("pool.frames_in_use", s.frames_in_use);
    if (s.tx_impaired)
      s.tx_impair.ForEach([&](std::string_view n, uint64_t v) { add(absl::StrCat("impair.tx.", std::string(n)), v); });
    if (s.rx_impaired)
      s.rx_impair.ForEach([&](std::string_view n, uint64_t v) { add(absl::StrCat("impair.rx.", std::string(n)), v); });
    add("tcp.connections", s.connections);
    add("tcp.time_wait", s.time_wait);
    add("tcp.orphans", s.orphans);
    add("tcp.half_open", s.half_open);
    add("tcp.loss_states_in_use", s.loss_states);
  }
  // State transitions that happened ("tcp.transitions.SYN-SENT.ESTABLISHED"), after the scalars.
  for (size_t from = 0; from < kTcpStateCount; ++from) {
    for (size_t to = 0; to < kTcpStateCount; ++to) {
      uint64_t v = 0;
      for (const EngineSnapshot& s : snaps) v += s.tcp.transitions[from][to];
      if (v == 0) continue;
      add(absl::StrCat("tcp.transitions.", StateName(static_cast<TcpState>(from)), ".",
                       StateName(static_cast<TcpState>(to))),
          v);
    }
  }
  return totals;
}

int CmdCounters(const char*, const char* params, rte_tel_data* d) {
  return WithSource(params, d, [&](const TelemetrySource& src, const std::vector<size_t>& which) {
    const std::vector<EngineSnapshot> snaps = ReadSnapshots(src, which);
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_string(d, "engine", EngineName(which, src.engines.size()).c_str());
    uint64_t publishes = 0;
    for (const EngineSnapshot& s : snaps) publishes += s.publishes;
    rte_tel_data_add_dict_u64(d, "snapshots", publishes);
    // A telemetry dict holds RTE_TEL_MAX_DICT_ENTRIES: the scalars come first, the state transitions after
    // them; what does not fit is said, not silently dropped.
    const std::vector<std::pair<std::string, uint64_t>> totals = CounterTotals(snaps);
    const size_t room = RTE_TEL_MAX_DICT_ENTRIES - 3;  // "engine", "snapshots", "truncated"
    for (size_t i = 0; i < totals.size() && i < room; ++i) {
      rte_tel_data_add_dict_u64(d, TelemetryName(totals[i].first).c_str(), totals[i].second);
    }
    if (totals.size() > room) rte_tel_data_add_dict_u64(d, "truncated", totals.size() - room);
  });
}

int CmdListeners(const char*, const char* params, rte_tel_data* d) {
  return WithSource(params, d, [&](const TelemetrySource& src, const std::vector<size_t>& which) {
    const std::vector<EngineSnapshot> snaps = ReadSnapshots(src, which);
    std::vector<uint64_t> engine, port, syn_queue, syn_backlog, accept_queue, accept_backlog, syns, sent, validated;
    uint64_t half_open = 0, total = 0;
    for (size_t k = 0; k < snaps.size(); ++k) {
      const EngineSnapshot& s = snaps[k];
      half_open += s.half_open;
      total += s.listeners_total;
      for (uint32_t i = 0; i < s.listeners_count; ++i) {
        const ListenerSnapshot& l = s.listeners[i];
        engine.push_back(which[k]);
        port.push_back(l.port);
        syn_queue.push_back(l.syn_queue);
        syn_backlog.push_back(l.syn_backlog);
        accept_queue.push_back(l.accept_queue);
        accept_backlog.push_back(l.accept_backlog);
        syns.push_back(l.stats.syn_received);
        sent.push_back(l.stats.cookies_sent);
        validated.push_back(l.stats.cookies_validated);
      }
    }
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_string(d, "engine", EngineName(which, src.engines.size()).c_str());
    rte_tel_data_add_dict_u64(d, "listeners", total);
    rte_tel_data_add_dict_u64(d, "listed", port.size());
    rte_tel_data_add_dict_u64(d, "half_open", half_open);
    AddU64Column(d, "engine_index", engine);
    AddU64Column(d, "port", port);
    AddU64Column(d, "syn_queue", syn_queue);
    AddU64Column(d, "syn_backlog", syn_backlog);
    AddU64Column(d, "accept_queue", accept_queue);
    AddU64Column(d, "accept_backlog", accept_backlog);
    AddU64Column(d, "syn_received", syns);
    AddU64Column(d, "cookies_sent", sent);
    AddU64Column(d, "cookies_validated", validated);
  });
}

int CmdConns(const char*, const char* params, rte_tel_data* d) {
  return WithSource(params, d, [&](const TelemetrySource& src, const std::vector<size_t>& which) {
    const std::vector<EngineSnapshot> snaps = ReadSnapshots(src, which);
    std::vector<uint64_t> engine, send_q, recv_q, cwnd, flight, rto, srtt;
    std::vector<std::string> local, remote, state;
    uint64_t total = 0;
    bool truncated = false;
    for (size_t k = 0; k < snaps.size(); ++k) {
      const EngineSnapshot& s = snaps[k];
      total += s.connections;
      truncated |= s.conns_truncated;
      for (uint32_t i = 0; i < s.conns_count; ++i) {
        if (local.size() == kTelemetryReplyConns) {
          truncated = true;
          break;
        }
        const ConnSnapshot& c = s.conns[i];
        engine.push_back(which[k]);
        local.push_back(absl::StrCat(c.key.local.ToString(), ":", c.key.local_port));
        remote.push_back(absl::StrCat(c.key.remote.ToString(), ":", c.key.remote_port));
        state.push_back(StateName(c.state));
        send_q.push_back(c.send_queue);
        recv_q.push_back(c.recv_queue);
        cwnd.push_back(c.cwnd);
        flight.push_back(c.flight);
        rto.push_back(c.rto_us);
        srtt.push_back(c.srtt_us);
      }
    }
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_string(d, "engine", EngineName(which, src.engines.size()).c_str());
    rte_tel_data_add_dict_u64(d, "connections", total);
    rte_tel_data_add_dict_u64(d, "listed", local.size());
    rte_tel_data_add_dict_u64(d, "truncated", truncated ? 1 : 0);
    AddU64Column(d, "engine_index", engine);
    AddStringColumn(d, "local", local);
    AddStringColumn(d, "remote", remote);
    AddStringColumn(d, "state", state);
    AddU64Column(d, "send_q", send_q);
    AddU64Column(d, "recv_q", recv_q);
    AddU64Column(d, "cwnd", cwnd);
    AddU64Column(d, "flight", flight);
    AddU64Column(d, "rto_us", rto);
    AddU64Column(d, "srtt_us", srtt);
  });
}

int CmdTimeWait(const char*, const char* params, rte_tel_data* d) {
  return WithSource(params, d, [&](const TelemetrySource& src, const std::vector<size_t>& which) {
    const std::vector<EngineSnapshot> snaps = ReadSnapshots(src, which);
    std::vector<uint64_t> hist(kTimeWaitAgeBuckets, 0), bounds;
    uint64_t count = 0, oldest = 0;
    bool sampled = false;
    for (const EngineSnapshot& s : snaps) {
      const TimeWaitAges& a = s.time_wait_ages;
      count += a.count;
      oldest = std::max(oldest, a.oldest_ms);
      sampled |= a.sampled;
      for (uint32_t b = 0; b < kTimeWaitAgeBuckets; ++b) hist[b] += a.buckets[b];
    }
    for (uint32_t b : kTimeWaitAgeBoundsMs) bounds.push_back(b);
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_string(d, "engine", EngineName(which, src.engines.size()).c_str());
    rte_tel_data_add_dict_u64(d, "count", count);
    rte_tel_data_add_dict_u64(d, "oldest_ms", oldest);
    rte_tel_data_add_dict_u64(d, "sampled", sampled ? 1 : 0);
    AddU64Column(d, "age_upper_bounds_ms", bounds);  // the last bucket of age_histogram is open
    AddU64Column(d, "age_histogram", hist);
  });
}

// The phases of TcpPhases in the order /synack/latency lists them.
struct PhaseColumn {
  const char* name;
  LogHistogram TcpPhases::*histogram;
};
constexpr PhaseColumn kPhaseColumns[] = {
    {"open_passive", &TcpPhases::open_passive}, {"open_active", &TcpPhases::open_active},
    {"lifetime", &TcpPhases::lifetime},         {"close", &TcpPhases::close},
    {"time_wait", &TcpPhases::time_wait},
};

int CmdLatency(const char*, const char* params, rte_tel_data* d) {
  return WithSource(params, d, [&](const TelemetrySource& src, const std::vector<size_t>& which) {
    const std::vector<EngineSnapshot> snaps = ReadSnapshots(src, which);
    // Summed over the engines asked for; `established` and `cookie_opens` come from the same snapshots, so
    // open_passive + open_active + cookie_opens == established (every opening but a cookie's is timed).
    std::vector<LogHistogram> merged(std::size(kPhaseColumns));
    uint64_t publishes = 0, established = 0, cookie_opens = 0;
    for (const EngineSnapshot& s : snaps) {
      publishes += s.publishes;
      established += s.tcp.transitions_to(TcpState::kEstablished);
      cookie_opens += s.layer.cookies_validated;
      for (size_t p = 0; p < std::size(kPhaseColumns); ++p) merged[p].Merge(s.tcp.phases.*kPhaseColumns[p].histogram);
    }
    std::vector<std::string> names;
    std::vector<uint64_t> count, mean, p50, p90, p99, max, bounds;
    for (size_t p = 0; p < std::size(kPhaseColumns); ++p) {
      const LogHistogram& h = merged[p];
      const uint64_t n = h.count();
      names.push_back(kPhaseColumns[p].name);
      count.push_back(n);
      mean.push_back(n == 0 ? 0 : h.sum_us / n);
      p50.push_back(h.QuantileUpperUs(0.5));
      p90.push_back(h.QuantileUpperUs(0.9));
      p99.push_back(h.QuantileUpperUs(0.99));
      max.push_back(h.QuantileUpperUs(1.0));
    }
    for (uint32_t b = 0; b + 1 < LogHistogram::kBuckets; ++b) bounds.push_back(LogHistogram::UpperBoundUs(b));
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_string(d, "engine", EngineName(which, src.engines.size()).c_str());
    rte_tel_data_add_dict_u64(d, "snapshots", publishes);
    rte_tel_data_add_dict_u64(d, "established", established);
    rte_tel_data_add_dict_u64(d, "cookie_opens", cookie_opens);
    AddStringColumn(d, "phase", names);
    AddU64Column(d, "count", count);
    AddU64Column(d, "mean_us", mean);
    AddU64Column(d, "p50_us", p50);  // percentiles: the upper bound of the bucket that holds them
    AddU64Column(d, "p90_us", p90);
    AddU64Column(d, "p99_us", p99);
    AddU64Column(d, "max_us", max);
    AddU64Column(d, "upper_bounds_us", bounds);  // of the buckets; the last bucket of each histogram is open
    for (size_t p = 0; p < std::size(kPhaseColumns); ++p) {
      AddU64Column(d, kPhaseColumns[p].name,
                   std::vector<uint64_t>(std::begin(merged[p].buckets), std::end(merged[p].buckets)));
    }
  });
}

void RegisterCommand(const char* cmd, telemetry_cb fn, const char* help) {
  if (int rc = rte_telemetry_register_cmd(cmd, fn, help); rc != 0) {
    std::fprintf(stderr, "synack: rte_telemetry_register_cmd(%s): %d\n", cmd, rc);
  }
}

void RegisterCommands() {
  RegisterCommand("/synack/info", CmdInfo,
                  "Synack: version, engines (role, address), ports, dispatch mode. No parameters");
  RegisterCommand("/synack/counters", CmdCounters,
                  "Synack: every counter. Parameter: engine index, or all (default: summed)");
  RegisterCommand("/synack/listeners", CmdListeners,
                  "Synack: per listener SYN/accept queues and backlogs, SYNs, cookies. Parameter: engine|all");
  RegisterCommand("/synack/conns", CmdConns,
                  "Synack: connections (4-tuple, state, queues, cwnd, rto, srtt), first 64. Parameter: engine|all");
  RegisterCommand("/synack/timewait", CmdTimeWait, "Synack: TIME-WAIT count and age histogram. Parameter: engine|all");
  RegisterCommand("/synack/latency", CmdLatency,
                  "Synack: handshake, lifetime, close and TIME-WAIT durations (log2 us histograms). Parameter: "
                  "engine|all");
}

}  // namespace

std::unique_ptr<TelemetryRegistration> TelemetryRegistration::Register(TelemetrySource source) {
  static std::once_flag once;
  std::call_once(once, RegisterCommands);
  auto src = std::make_unique<TelemetrySource>(std::move(source));
  for (TelemetrySource::EngineEntry& e : src->engines) {
    e.address = e.engine->local().ToString();
    e.mac = e.engine->mac().ToString();
  }
  Registry& r = TheRegistry();
  {
    std::lock_guard<std::mutex> lock(r.mu);
    r.sources.push_back(src.get());
  }
  return std::unique_ptr<TelemetryRegistration>(new TelemetryRegistration(std::move(src)));
}

TelemetryRegistration::~TelemetryRegistration() {
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);  // waits for a command reading this source
  std::erase(r.sources, source_.get());
}

std::string TelemetryPortLine(const PortInfo& port, const std::string& role) {
  return absl::StrCat(role.empty() ? "" : role + ": ", "port ", port.port_id, " ", port.name, " (", port.driver,
                      ") mac ", port.mac.ToString(), " mtu ", port.mtu, port.link_up ? " up" : " down");
}

size_t TelemetrySources() {
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  return r.sources.size();
}

}  // namespace synack
