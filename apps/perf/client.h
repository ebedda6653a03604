// synack-perf --client role: PerfClient opens N connections (streams) and sends as fast as the send
// buffers take it — each mbuf comes from AllocTxMbuf, is filled once with the stream's pattern and handed
// to Send (the stack transmits that very mbuf) — prints Gbit/s per second and a summary, closes first and
// waits (bounded) for the server's FIN. ClientConfig is its part of the command line (--client and
// --loopback share it).
// Ownership: the client owns one Stream per connection (sized by --streams at Start); each connection
// carries its stream in the API's user_data, and the stream keeps the ConnId so that events for a
// connection it has ended are told apart. An mbuf refused with kWouldBlock stays in its stream.
// Threading: Start/OnEvent/OnPoll on the client engine's lcore; PrintSummary and the accessors on the
// main thread after the run.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "apps/common/json.h"
#include "apps/common/modes.h"
#include "apps/common/report.h"

namespace synack::app::perf {

struct ClientConfig {
  Ipv4Addr dst;
  uint16_t port = 5201;
  uint32_t streams = 1;
  Duration duration = Duration::Seconds(5);
  uint64_t bytes = 0;    // total over all streams; 0: until the duration ends
  OutputOptions output;  // --json, --interval
};

// The client flags of `mode` (--client also takes --connect). Errors name the flag and the fix.
absl::StatusOr<ClientConfig> ParseClient(const cli::Flags& flags, Mode mode);

class PerfClient : public App {
 public:
  explicit PerfClient(const ClientConfig& config) : config_(config) {}

  absl::Status Start(Engine& engine) override;
  // Events whose user_data names no stream of ours are not ours.
  void OnEvent(Engine& engine, const Event& e) override;
  void OnPoll(Engine& engine, Instant now) override;
  bool Done() const override { return done_; }

  bool ok() const { return done_ && failed_ == 0 && sent_ > 0; }
  uint64_t sent() const { return sent_; }

  void PrintSummary(FILE* out, TcpLayer& tcp, Instant now) const;
  // --json: the client's part of "start" (its parameters), then "intervals" (one object per progress line)
  // and "summary" (bytes, Gbit/s, retransmits, each stream), as keys of the open object.
  void AddParametersJson(JsonWriter& w) const;
  void AddResultsJson(JsonWriter& w, TcpLayer& tcp, Instant now) const;
  const OutputOptions& output() const { return config_.output; }

 private:
  enum class Phase : uint8_t { kIdle, kConnecting, kSending, kClosing, kDone, kFailed };
  struct Stream {
    ConnId id;
    Phase phase = Phase::kIdle;
    bool blocked = false;  // Send said kWouldBlock; kWritable follows
    uint16_t chunk = 0;
    uint64_t quota = 0;  // 0: no limit
    uint64_t sent = 0;   // bytes the stack took (stream offset of the next byte)
    Mbuf pending;        // filled for offset `sent`, refused with kWouldBlock
    Instant ended;
    std::string why;
  };

  // Sends until the send buffer is full (kWouldBlock: keep the mbuf, wait for kWritable) or the quota is met.
  void Fill(TcpLayer& tcp, Stream& s);
  // Our FIN goes after the queued data; the server answers with its own once it has read everything.
  void StartClose(TcpLayer& tcp, Stream& s, Instant now);
  void End(Stream& s, Instant now, std::optional<std::string> failure);
  void Finish(Instant now);
  void Report(TcpLayer& tcp, Instant now);

  // One progress line: its end (since the first connection), length, and the figures it printed.
  struct IntervalRecord {
    Duration end;
    Duration length;
    uint64_t bytes = 0;
    uint64_t retransmits = 0;  // in the interval
  };

  ClientConfig config_;
  std::vector<IntervalRecord> intervals_;  // reserved for the whole --duration
  uint64_t retransmits_at_tick_ = 0;
  Ipv4Addr next_hop_;
  std::vector<Stream> streams_;  // a connection's user_data is its stream + 1
  PerSecond progress_;
  Instant started_at_, t0_, end_, send_end_, close_deadline_, finished_;
  uint64_t sent_ = 0;
  uint64_t no_mbufs_ = 0;
  uint32_t opened_ = 0;
  uint32_t connected_ = 0;
  uint32_t ended_ = 0;
  uint32_t failed_ = 0;
  uint16_t chunk_ = 0;
  bool resolved_ = false;
  bool stopping_ = false;
  bool done_ = false;
};

class PerfServer;
// --json: the whole document of a client run — "start" (common part and the client's parameters),
// "intervals", "summary", in loopback "server" (bytes received, verify errors), and "counters" with every
// counter of the client's engines (and, in loopback, the server's). Main thread, after the run; `tcp` is the
// client's engine's layer.
JsonWriter ResultJson(const PerfClient& client, Mode mode, TcpLayer& tcp,
                      const std::vector<const Engine*>& client_engines, const Engine* server_engine,
                      const PerfServer* server);

}  // namespace synack::app::perf
