// linux_cps: a Linux kernel baseline for the connection-rate comparisons in bench/, the kernel-socket
// counterpart of Synack's synack-cps (apps/cps). Modes:
//   server  accepts and closes every connection at once (with --request: echoes one read first);
//   client  keeps K non-blocking connects in flight and reports connections/s, connect latency
//           percentiles and failures by reason, in a summary line the benchmark scripts parse;
//   sink / bulk      bulk throughput like iperf: N streams write as fast as they can, the sink discards;
//   echo / pingpong  request/response latency: one connection, B bytes out and back, RTT percentiles.
// Bench tooling, not part of the stack: POSIX/Linux sockets and epoll only, no threads beyond the main one.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <string>
#include <vector>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace {

using u64 = unsigned long long;         // counters, printed with %llu
constexpr uint32_t kMaxRequest = 2048;  // the server echoes what one read of this size returns
constexpr uint32_t kMaxConcurrency = 65536;
constexpr int kMaxEvents = 1024;
constexpr int64_t kNsPerSec = 1000000000;
constexpr size_t kReadChunk = 64 * 1024;   // sink and echo servers read this much at a time
constexpr size_t kBulkChunk = 256 * 1024;  // bulk writes this buffer over and over
constexpr uint32_t kMaxStreams = 64;
constexpr uint32_t kMaxPingSize = 65536;
constexpr size_t kMaxSamples = 20000000;  // pingpong stops early when this many RTTs are recorded

constexpr char kUsage[] =
    "linux_cps: connection-rate baseline over Linux kernel sockets (compare with synack-cps).\n\n"
    "  linux_cps server --port P [--bind ADDR] [--request] [--cpu N] [--duration S]\n"
    "      close each accepted connection at once (with --request: read up to 2048 bytes, echo them,\n"
    "      close); prints 'listening on ADDR:P' when ready; runs until SIGINT/SIGTERM or --duration.\n"
    "      SO_REUSEPORT: several servers (one per --cpu) may share a port, and so may a stale one.\n"
    "  linux_cps client --connect ADDR:P [--concurrency 16] [--duration 5] [--request 0] [--cpu N]\n"
    "                   [--timeout-ms 1000] [--bind-range A.B.C.D-E]\n"
    "      keep K connects in flight: connect, close (or send --request bytes, max 2048, read as many\n"
    "      back); each must be done within --timeout-ms. --bind-range round-robins the source address\n"
    "      over A.B.C.D..A.B.C.E. Prints 't=Ns conns/s=R ok=N failed=F inflight=K' each second, then\n"
    "      'linux cps: ok=N failed=F seconds=S conns_per_s=R p50_us=X p99_us=Y p999_us=Z' and\n"
    "      'failures: none' or 'failures: REASON=N ...' (refused reset timeout short_reply other:ERRNO).\n"
    "  linux_cps sink --port P [--bind ADDR] [--cpu N] [--duration S]\n"
    "      accept any number of connections, read and discard everything (64 KiB reads); prints\n"
    "      'listening on ADDR:P', and at exit 'linux sink: connections=N bytes=B'.\n"
    "  linux_cps bulk --connect ADDR:P [--streams 1] [--duration 5] [--cpu N] [--mss M] [--congestion ALG]\n"
    "                 [--drain]\n"
    "      N streams (max 64) write a 256 KiB buffer over and over for the duration, then close; --mss\n"
    "      sets TCP_MAXSEG (88-32767) and --congestion TCP_CONGESTION (e.g. cubic; root may pick one\n"
    "      outside tcp_allowed_congestion_control) before connect. Prints 't=Ns gbit/s=X' each second,\n"
    "      then 'linux bulk: streams=N seconds=S bytes=B gbit_per_s=X' (bytes the client wrote).\n"
    "      --drain: at the end shut down the sending side and wait (at most 10 s) until the sink has read\n"
    "      everything and closed; seconds then run from the start to the last close (goodput, like\n"
    "      synack-perf), and the line ends with 'drained=K/N' (streams whose close was seen).\n"
    "  linux_cps echo --port P [--bind ADDR] [--cpu N] [--duration S]\n"
    "      echo everything read back on the same connection (TCP_NODELAY, any number of connections);\n"
    "      prints 'listening on ADDR:P', and at exit 'linux echo: connections=N bytes=B'.\n"
    "  linux_cps pingpong --connect ADDR:P [--size 64] [--duration 5] [--cpu N] [--busy-poll]\n"
    "      one connection (TCP_NODELAY, blocking): write B bytes (max 65536), read B back, record the\n"
    "      round trip; --busy-poll spins on non-blocking reads instead. Prints 'linux pingpong: size=B\n"
    "      round_trips=N seconds=S p50_us=X p99_us=Y p999_us=Z mean_us=W'.\n"
    "  Servers run until SIGINT/SIGTERM or --duration (0: no limit). --cpu N pins the process to CPU N.\n"
    "  Exit status: 0 ok (client: ok>0 and failed=0; bulk: bytes>0; pingpong: round_trips>0), 1 client\n"
    "  failures, 2 bad flags or set-up errors.\n";

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * kNsPerSec + ts.tv_nsec;
}

[[noreturn]] void Die(const std::string& flag, const std::string& what) {
  std::fprintf(stderr, "linux_cps: %s: %s\n", flag.c_str(), what.c_str());
  std::exit(2);
}

sockaddr_in MakeAddr(uint32_t host_order_addr, uint16_t port) {
  return {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = {htonl(host_order_addr)}, .sin_zero = {}};
}

bool EpollAdd(int ep, int fd, uint32_t events, uint64_t data) {
  epoll_event ev{.events = events, .data = {.u64 = data}};
  return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool WouldBlock(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

// Flags as name -> value ("" for switches); the last occurrence wins.
using FlagMap = std::map<std::string, std::string>;

// `specs` maps each flag of the mode to whether it takes a value.
FlagMap ParseFlags(int argc, char** argv, const std::map<std::string, bool>& specs) {
  FlagMap flags;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto spec = specs.find(arg);
    if (spec == specs.end()) Die(arg, std::string("unknown flag for ") + argv[1] + " (see linux_cps --help)");
    if (spec->second && i + 1 >= argc) Die(arg, "missing value (give it after the flag)");
    flags[arg] = spec->second ? argv[++i] : "";
  }
  return flags;
}

const std::string* Get(const FlagMap& flags, const char* name) {
  const auto it = flags.find(name);
  return it == flags.end() ? nullptr : &it->second;
}

uint64_t ParseUint(const std::string& flag, const std::string& text, uint64_t lo, uint64_t hi) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || text[0] == '-' || *end != '\0' || errno != 0 || v < lo || v > hi) {
    Die(flag, "'" + text + "' is not in " + std::to_string(lo) + "-" + std::to_string(hi) +
                  " (give a whole number in that range)");
  }
  return v;
}

double ParseSeconds(const std::string& flag, const std::string& text, bool allow_zero) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(v) || v < 0 || (v == 0 && !allow_zero) || v > 1e6) {
    Die(flag, "'" + text + "' is not a duration (give seconds, " + (allow_zero ? "0" : "above 0") + " to 1e6)");
  }
  return v;
}

uint32_t ParseIpv4(const std::string& flag, const std::string& text) {  // host order
  in_addr a{};
  if (inet_pton(AF_INET, text.c_str(), &a) != 1) Die(flag, "'" + text + "' is not an IPv4 address (e.g. 127.0.0.1)");
  return ntohl(a.s_addr);
}

void PinToCpu(const FlagMap& flags) {
  const std::string* text = Get(flags, "--cpu");
  if (text == nullptr) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(ParseUint("--cpu", *text, 0, CPU_SETSIZE - 1), &set);
  if (sched_setaffinity(0, sizeof(set), &set) != 0) {
    Die("--cpu", "cannot pin to CPU " + *text + ": " + std::strerror(errno) + " (pick one of 0-" +
                     std::to_string(sysconf(_SC_NPROCESSORS_ONLN) - 1) + ")");
  }
}

void SetUp() {
  std::signal(SIGINT, OnSignal);  // epoll_wait is never restarted: it returns EINTR at once
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);
  rlimit rl;  // as many descriptors as allowed: the server may hold many connections at once
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

// ADDR:PORT of --connect (required).
sockaddr_in ParseTarget(const FlagMap& flags) {
  if (Get(flags, "--connect") == nullptr)
    Die("--connect", "required (give the server as ADDR:PORT, e.g. 127.0.0.1:6001)");
  const std::string& target = *Get(flags, "--connect");
  const size_t colon = target.rfind(':');
  if (colon == std::string::npos)
    Die("--connect", "'" + target + "' has no port (give ADDR:PORT, e.g. 127.0.0.1:6001)");
  return MakeAddr(ParseIpv4("--connect", target.substr(0, colon)),
                  static_cast<uint16_t>(ParseUint("--connect", target.substr(colon + 1), 1, 65535)));
}

// ---------------------------------------------------------------------------------------------------
// Servers

struct Listener {
  int lfd = -1;
  int ep = -1;  // lfd registered with data lfd
  int64_t deadline = INT64_MAX;
};

// The set-up all servers share: --port, --bind, --duration and --cpu, a non-blocking SO_REUSEPORT
// listener on an epoll set, and 'listening on ADDR:P' once ready.
Listener Listen(const FlagMap& flags) {
  if (Get(flags, "--port") == nullptr) Die("--port", "required (e.g. --port 6001)");
  const uint16_t port = static_cast<uint16_t>(ParseUint("--port", *Get(flags, "--port"), 0, 65535));
  const std::string bind_text = Get(flags, "--bind") ? *Get(flags, "--bind") : "0.0.0.0";
  const uint32_t bind_addr = ParseIpv4("--bind", bind_text);
  const double duration = Get(flags, "--duration") ? ParseSeconds("--duration", *Get(flags, "--duration"), true) : 0;
  PinToCpu(flags);

  const int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  sockaddr_in sa = MakeAddr(bind_addr, port);
  if (lfd < 0 || bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 || listen(lfd, 65535) != 0) {
    Die("--port", "cannot listen on " + bind_text + ":" + std::to_string(port) + ": " + std::strerror(errno) +
                      " (pick a free port or another --bind address)");
  }
  socklen_t len = sizeof(sa);
  getsockname(lfd, reinterpret_cast<sockaddr*>(&sa), &len);  // the real port when --port 0
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0 || !EpollAdd(ep, lfd, EPOLLIN, static_cast<uint64_t>(lfd))) Die("epoll", std::strerror(errno));
  std::printf("listening on %s:%u\n", bind_text.c_str(), ntohs(sa.sin_port));
  std::fflush(stdout);
  return {lfd, ep, duration > 0 ? NowNs() + static_cast<int64_t>(duration * 1e9) : INT64_MAX};
}

// Accepts what is pending on the listener; calls on_accept(fd) for each non-blocking connection.
template <typename OnAccept>
void AcceptAll(int lfd, u64& errors, OnAccept&& on_accept) {
  for (;;) {
    const int fd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      on_accept(fd);
      continue;
    }
    if (WouldBlock(errno)) break;
    ++errors;
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      const timespec pause{0, 1000000};  // out of descriptors or memory: let closes catch up
      nanosleep(&pause, nullptr);
      break;
    }  // else ECONNABORTED and the like: the next one may be fine
  }
}

int RunServer(const FlagMap& flags) {
  const bool request = Get(flags, "--request") != nullptr;
  const Listener listener = Listen(flags);
  const int lfd = listener.lfd, ep = listener.ep;
  const int64_t deadline = listener.deadline;

  u64 accepted = 0, answered = 0, errors = 0;
  char buf[kMaxRequest];
  // Reads one request and echoes it, then closes; with nothing there yet, waits for it (registered once).
  // A client that closes without a request (read returns 0) is not an error of ours.
  const auto answer = [&](int fd, bool registered) {
    const ssize_t r = read(fd, buf, sizeof(buf));
    if (r < 0 && WouldBlock(errno)) {
      if (registered || EpollAdd(ep, fd, EPOLLIN, static_cast<uint64_t>(fd))) return;
      ++errors;
    } else if (r > 0) {
      if (send(fd, buf, static_cast<size_t>(r), MSG_NOSIGNAL) == r)
        ++answered;
      else
        ++errors;
    } else if (r < 0) {
      ++errors;
    }
    close(fd);
  };
  epoll_event events[kMaxEvents];
  while (g_stop == 0 && NowNs() < deadline) {
    const int n = epoll_wait(ep, events, kMaxEvents, 100);
    if (n < 0 && errno != EINTR) Die("epoll_wait", std::strerror(errno));
    for (int i = 0; i < n; ++i) {
      if (static_cast<int>(events[i].data.u64) != lfd) {
        answer(static_cast<int>(events[i].data.u64), true);
        continue;
      }
      AcceptAll(lfd, errors, [&](int fd) {
        ++accepted;
        if (request)
          answer(fd, false);
        else
          close(fd);
      });
    }
  }
  std::printf("linux cps server: accepted %llu, answered %llu, errors %llu\n", accepted, answered, errors);
  return 0;
}

// ---------------------------------------------------------------------------------------------------
// Client

// Binds `fd` to source address `addr` with IP_BIND_ADDRESS_NO_PORT, so connect() picks the port for the
// whole 4-tuple: each source address gets its own ephemeral range towards the server.
bool BindSource(int fd, uint32_t addr) {
  const int one = 1;
  setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
  const sockaddr_in local = MakeAddr(addr, 0);
  return bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof(local)) == 0;
}

struct ClientConfig {
  sockaddr_in dst{};
  uint32_t concurrency = 16;
  double duration = 5;
  uint32_t request = 0;
  int64_t timeout_ns = kNsPerSec;
  uint32_t bind_base = 0;  // host order; bind_count == 0: no --bind-range
  uint32_t bind_count = 0;
};

class Client {
 public:
  explicit Client(const ClientConfig& config) : config_(config), slots_(config.concurrency) {
    free_.reserve(config.concurrency);
    for (uint32_t i = config.concurrency; i > 0; --i) free_.push_back(i - 1);
    latencies_.reserve(1u << 20);
    payload_.fill('x');
  }

  int Run() {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) Die("epoll", std::strerror(errno));
    const int64_t start = NowNs(), end = start + static_cast<int64_t>(config_.duration * 1e9);
    int64_t next_report = start + kNsPerSec, last_report = start, next_scan = start, drain_until = 0;
    u64 ok_at_report = 0;
    bool stopping = false;
    epoll_event events[kMaxEvents];
    for (;;) {
      const int64_t now = NowNs();
      if (!stopping && (now >= end || g_stop != 0)) {  // start no more; give those in flight timeout-ms
        stopping = true;
        drain_until = now + config_.timeout_ns;
      }
      // Before the exit test: the second that ends with the run has its line even when nothing is in
      // flight at that moment (at --concurrency 1, often), so a run of S seconds prints S lines.
      if (now >= next_report) {
        std::printf("t=%llds conns/s=%.0f ok=%llu failed=%llu inflight=%u\n",
                    static_cast<long long>((now - start) / kNsPerSec),
                    static_cast<double>(ok_ - ok_at_report) * 1e9 / static_cast<double>(now - last_report), ok_,
                    failed_, inflight_);
        std::fflush(stdout);
        ok_at_report = ok_;
        last_report = now;
        next_report = std::max(next_report + kNsPerSec, now + 1);
      }
      if (stopping && (inflight_ == 0 || now >= drain_until)) break;
      for (size_t n = stopping ? 0 : free_.size(); n > 0; --n) {  // a slot whose start failed waits a round
        const uint32_t i = free_.back();
        free_.pop_back();
        Start(i);
      }
      if (now >= next_scan) {
        ExpireBefore(now - config_.timeout_ns);
        next_scan = now + std::min<int64_t>(10000000, config_.timeout_ns / 10);
      }
      const int n = epoll_wait(ep_, events, kMaxEvents, 10);
      if (n < 0 && errno != EINTR) Die("epoll_wait", std::strerror(errno));
      for (int k = 0; k < n; ++k) OnEvent(static_cast<uint32_t>(events[k].data.u64), events[k].events);
    }
    ExpireBefore(INT64_MAX);  // what is still in flight after the drain timed out
    PrintSummary(static_cast<double>(NowNs() - start) / 1e9);
    return ok_ > 0 && failed_ == 0 ? 0 : 1;
  }

 private:
  enum class State : uint8_t { kConnecting, kSending, kReceiving };
  struct Slot {  // fd -1: free; done: bytes sent, then bytes received
    int fd = -1;
    State state = State::kConnecting;
    uint32_t done = 0;
    int64_t start_ns = 0;
  };
  static constexpr int kOk = -1;
  static constexpr int kShortReply = -2;  // EOF before the whole reply

  void Start(uint32_t i) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Abort(i, fd, errno);
    if (config_.bind_count > 0) {
      const uint32_t source = config_.bind_base + next_source_;
      next_source_ = next_source_ + 1 == config_.bind_count ? 0 : next_source_ + 1;
      if (!BindSource(fd, source)) return Abort(i, fd, errno);
    }
    Slot& s = slots_[i];
    s.start_ns = NowNs();
    const sockaddr* dst = reinterpret_cast<const sockaddr*>(&config_.dst);
    if (connect(fd, dst, sizeof(config_.dst)) != 0 && errno != EINPROGRESS) return Abort(i, fd, errno);
    // Edge-triggered: one registration serves connect, send and receive.
    if (!EpollAdd(ep_, fd, EPOLLIN | EPOLLOUT | EPOLLET, i)) return Abort(i, fd, errno);
    s.fd = fd;
    s.state = State::kConnecting;
    s.done = 0;
    ++inflight_;
  }

  void ExpireBefore(int64_t started_before_ns) {
    for (uint32_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].fd >= 0 && slots_[i].start_ns <= started_before_ns) Finish(i, ETIMEDOUT);
    }
  }

  // A start that failed before the connection was in flight.
  void Abort(uint32_t i, int fd, int err) {
    if (fd >= 0) close(fd);
    Count(err);
    free_.push_back(i);
  }

  void OnEvent(uint32_t i, uint32_t events) {
    Slot& s = slots_[i];
    if (s.fd < 0) return;
    if (s.state == State::kConnecting) {
      int err = 0;
      socklen_t len = sizeof(err);
      if (getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      if (err != 0) return Finish(i, err);
      if ((events & EPOLLOUT) == 0) return;
      const int64_t tenths_us = (NowNs() - s.start_ns) / 100;
      latencies_.push_back(static_cast<uint32_t>(std::min<int64_t>(tenths_us, UINT32_MAX)));
      if (config_.request == 0) return Finish(i, kOk);
      s.state = State::kSending;
    }
    if (s.state == State::kSending) {
      while (s.done < config_.request) {
        const ssize_t w = send(s.fd, payload_.data() + s.done, config_.request - s.done, MSG_NOSIGNAL);
        if (w < 0) return WouldBlock(errno) ? void() : Finish(i, errno);
        s.done += static_cast<uint32_t>(w);
      }
      s.state = State::kReceiving;
      s.done = 0;
      return;  // the reply's arrival is a new edge
    }
    for (;;) {  // kReceiving
      const ssize_t r = read(s.fd, reply_.data(), reply_.size());
      if (r == 0) return Finish(i, kShortReply);
      if (r < 0) return WouldBlock(errno) ? void() : Finish(i, errno);
      s.done += static_cast<uint32_t>(r);
      if (s.done >= config_.request) return Finish(i, kOk);
    }
  }

  // Ends an in-flight connection with kOk, kShortReply or an errno. A normal close, no SO_LINGER: the
  // client enters TIME-WAIT when it closes first, as a real client would.
  void Finish(uint32_t i, int result) {
    close(slots_[i].fd);
    slots_[i].fd = -1;
    --inflight_;
    if (result == kOk)
      ++ok_;
    else
      Count(result);
    free_.push_back(i);
  }

  void Count(int result) {
    ++failed_;
    if (result == ECONNREFUSED)
      ++refused_;
    else if (result == ECONNRESET || result == EPIPE)
      ++reset_;
    else if (result == ETIMEDOUT)
      ++timeout_;
    else if (result == kShortReply)
      ++short_reply_;
    else
      ++other_[static_cast<size_t>(std::clamp(result, 0, static_cast<int>(other_.size()) - 1))];
  }

  void PrintSummary(double seconds) {
    std::sort(latencies_.begin(), latencies_.end());
    const auto pct_us = [&](double q) {
      if (latencies_.empty()) return 0.0;
      const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(latencies_.size())));
      return latencies_[std::clamp<size_t>(rank, 1, latencies_.size()) - 1] / 10.0;
    };
    std::printf("linux cps: ok=%llu failed=%llu seconds=%.2f conns_per_s=%.0f p50_us=%.1f p99_us=%.1f p999_us=%.1f\n",
                ok_, failed_, seconds, static_cast<double>(ok_) / std::max(seconds, 1e-9), pct_us(0.50), pct_us(0.99),
                pct_us(0.999));
    std::string line = failed_ == 0 ? "failures: none" : "failures:";
    const auto add = [&](const std::string& name, u64 n) {
      if (n != 0) line += " " + name + "=" + std::to_string(n);
    };
    add("refused", refused_);
    add("reset", reset_);
    add("timeout", timeout_);
    add("short_reply", short_reply_);
    for (int e = 0; e < static_cast<int>(other_.size()); ++e) {
      const char* name = strerrorname_np(e);
      add(std::string("other:") + (name != nullptr ? name : "errno" + std::to_string(e)), other_[e]);
    }
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }

  const ClientConfig config_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;       // free slot indices (a stack, reserved up front)
  std::vector<uint32_t> latencies_;  // connect latencies in tenths of a microsecond
  std::array<char, kMaxRequest> payload_;
  std::array<char, kMaxRequest> reply_;
  int ep_ = -1;
  uint32_t inflight_ = 0;
  uint32_t next_source_ = 0;
  u64 ok_ = 0, failed_ = 0, refused_ = 0, reset_ = 0, timeout_ = 0, short_reply_ = 0;
  std::array<u64, 256> other_{};  // by errno
};

int RunClient(const FlagMap& flags) {
  const auto get = [&](const char* name) { return Get(flags, name); };
  ClientConfig c;
  c.dst = ParseTarget(flags);
  const auto num = [&](const char* flag, uint64_t lo, uint64_t hi, uint64_t otherwise) {
    return get(flag) ? ParseUint(flag, *get(flag), lo, hi) : otherwise;
  };
  c.concurrency = static_cast<uint32_t>(num("--concurrency", 1, kMaxConcurrency, 16));
  c.request = static_cast<uint32_t>(num("--request", 0, kMaxRequest, 0));
  c.timeout_ns = static_cast<int64_t>(num("--timeout-ms", 1, 600000, 1000)) * 1000000;
  if (get("--duration")) c.duration = ParseSeconds("--duration", *get("--duration"), false);
  if (const std::string* range = get("--bind-range")) {
    const size_t dash = range->rfind('-');
    if (dash == std::string::npos) Die("--bind-range", "'" + *range + "' is not A.B.C.D-E (e.g. 198.18.0.10-50)");
    c.bind_base = ParseIpv4("--bind-range", range->substr(0, dash));
    c.bind_count = static_cast<uint32_t>(ParseUint("--bind-range", range->substr(dash + 1), c.bind_base & 0xff, 255)) -
                   (c.bind_base & 0xff) + 1;
    for (uint32_t k = 0; k < c.bind_count; ++k) {  // every source must be ours, or each connect would fail
      const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      const bool ok = BindSource(fd, c.bind_base + k);  // fails with EBADF if socket() did
      const int err = errno;
      close(fd);
      if (!ok) {
        const in_addr addr{htonl(c.bind_base + k)};
        Die("--bind-range", std::string("cannot bind ") + inet_ntoa(addr) + ": " + std::strerror(err) +
                                " (add the addresses with 'ip addr add', or use a local range such as 127.0.0.10-50)");
      }
    }
  }
  PinToCpu(flags);
  return Client(c).Run();
}

// ---------------------------------------------------------------------------------------------------
// Sink and echo servers

// Reads every connection to the end: sink discards, echo sends it back on the same connection. An echo
// the socket does not take at once waits in `pending` (by fd), and its connection is not read meanwhile.
int RunStreamServer(const FlagMap& flags, bool echo) {
  const Listener listener = Listen(flags);
  const int lfd = listener.lfd, ep = listener.ep;
  const int64_t deadline = listener.deadline;
  u64 connections = 0, bytes = 0, errors = 0;
  std::vector<char> buf(kReadChunk);
  std::vector<std::string> pending;
  const auto watch = [&](int fd, uint32_t events) {
    epoll_event ev{.events = events, .data = {.u64 = static_cast<uint64_t>(fd)}};
    return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) == 0;
  };
  const auto drop = [&](int fd) {
    close(fd);  // also leaves the epoll set
    if (static_cast<size_t>(fd) < pending.size()) pending[static_cast<size_t>(fd)].clear();
  };
  const auto serve = [&](int fd) {
    if (static_cast<size_t>(fd) >= pending.size()) pending.resize(static_cast<size_t>(fd) + 1);
    std::string& out = pending[static_cast<size_t>(fd)];
    if (!out.empty()) {  // writable again: the rest of the echo first
      const ssize_t w = send(fd, out.data(), out.size(), MSG_NOSIGNAL);
      if (w < 0) return WouldBlock(errno) ? void() : drop(fd);
      out.erase(0, static_cast<size_t>(w));
      if (!out.empty()) return;
      if (!watch(fd, EPOLLIN)) return drop(fd);
    }
    for (int k = 0; k < 16; ++k) {  // a bounded batch per wake-up, fair to the other connections
      const ssize_t r = read(fd, buf.data(), buf.size());
      if (r < 0 && WouldBlock(errno)) return;
      if (r <= 0) return drop(fd);  // the peer closed, or an error
      bytes += static_cast<u64>(r);
      if (echo) {
        ssize_t w = send(fd, buf.data(), static_cast<size_t>(r), MSG_NOSIGNAL);
        if (w < 0 && WouldBlock(errno)) w = 0;
        if (w < 0) return drop(fd);
        if (w < r) {
          out.assign(buf.data() + w, static_cast<size_t>(r - w));
          return watch(fd, EPOLLOUT) ? void() : drop(fd);
        }
      }
      if (static_cast<size_t>(r) < buf.size()) return;  // drained for now
    }
  };
  epoll_event events[kMaxEvents];
  while (g_stop == 0 && NowNs() < deadline) {
    const int n = epoll_wait(ep, events, kMaxEvents, 100);
    if (n < 0 && errno != EINTR) Die("epoll_wait", std::strerror(errno));
    for (int i = 0; i < n; ++i) {
      const int fd = static_cast<int>(events[i].data.u64);
      if (fd != lfd) {
        serve(fd);
        continue;
      }
      AcceptAll(lfd, errors, [&](int cfd) {
        ++connections;
        const int one = 1;
        if (echo) setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (!EpollAdd(ep, cfd, EPOLLIN, static_cast<uint64_t>(cfd))) {
          ++errors;
          close(cfd);
        }
      });
    }
  }
  std::printf("linux %s: connections=%llu bytes=%llu\n", echo ? "echo" : "sink", connections, bytes);
  std::fflush(stdout);
  return 0;
}

// ---------------------------------------------------------------------------------------------------
// Bulk client

int RunBulk(const FlagMap& flags) {
  const auto get = [&](const char* name) { return Get(flags, name); };
  const sockaddr_in dst = ParseTarget(flags);
  const uint32_t streams =
      static_cast<uint32_t>(get("--streams") ? ParseUint("--streams", *get("--streams"), 1, kMaxStreams) : 1);
  const double duration = get("--duration") ? ParseSeconds("--duration", *get("--duration"), false) : 5;
  const int mss = get("--mss") ? static_cast<int>(ParseUint("--mss", *get("--mss"), 88, 32767)) : 0;
  const std::string* congestion = get("--congestion");
  const bool drain = get("--drain") != nullptr;
  PinToCpu(flags);
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) Die("epoll", std::strerror(errno));

  std::vector<int> fds(streams, -1);
  std::vector<bool> connected(streams, false);
  uint32_t alive = 0;
  const auto fail = [&](uint32_t i, int err) {  // the stream stops; the others go on
    std::fprintf(stderr, "linux_cps: --connect: stream %u: %s (is 'linux_cps sink' running there?)\n", i,
                 std::strerror(err));
    close(fds[i]);
    fds[i] = -1;
    --alive;
  };
  const int64_t start = NowNs(), end = start + static_cast<int64_t>(duration * 1e9);
  for (uint32_t i = 0; i < streams; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) Die("--streams", std::string("cannot open a socket: ") + std::strerror(errno) + " (use fewer)");
    if (mss != 0 && setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss)) != 0) {
      Die("--mss", "TCP_MAXSEG " + std::to_string(mss) + ": " + std::strerror(errno) + " (pick another value)");
    }
    if (congestion != nullptr && setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, congestion->data(),
                                            static_cast<socklen_t>(congestion->size())) != 0) {
      Die("--congestion", "TCP_CONGESTION " + *congestion + ": " + std::strerror(errno) +
                              " (see net.ipv4.tcp_available_congestion_control)");
    }
    fds[i] = fd;
    ++alive;
    if (connect(fd, reinterpret_cast<const sockaddr*>(&dst), sizeof(dst)) != 0 && errno != EINPROGRESS) {
      fail(i, errno);
    } else if (!EpollAdd(ep, fd, EPOLLOUT, i)) {
      fail(i, errno);
    }
  }

  std::vector<char> chunk(kBulkChunk, 'x');
  u64 bytes = 0, bytes_at_report = 0;
  int64_t next_report = start + kNsPerSec, last_report = start;
  epoll_event events[kMaxStreams];
  for (int64_t now = start; g_stop == 0 && now < end && alive > 0; now = NowNs()) {
    if (now >= next_report) {
      std::printf("t=%llds gbit/s=%.2f\n", static_cast<long long>((now - start) / kNsPerSec),
                  static_cast<double>(bytes - bytes_at_report) * 8 / static_cast<double>(now - last_report));
      std::fflush(stdout);
      bytes_at_report = bytes;
      last_report = now;
      next_report = std::max(next_report + kNsPerSec, now + 1);
    }
    const int n = epoll_wait(ep, events, static_cast<int>(kMaxStreams), 10);
    if (n < 0 && errno != EINTR) Die("epoll_wait", std::strerror(errno));
    for (int k = 0; k < n; ++k) {
      const uint32_t i = static_cast<uint32_t>(events[k].data.u64);
      if (fds[i] < 0) continue;
      if (!connected[i]) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        if (err != 0) {
          fail(i, err);
          continue;
        }
        connected[i] = true;
      }
      const ssize_t w = send(fds[i], chunk.data(), chunk.size(), MSG_NOSIGNAL);
      if (w > 0)
        bytes += static_cast<u64>(w);
      else if (w < 0 && !WouldBlock(errno))
        fail(i, errno);
    }
  }
  uint32_t drained = 0;
  if (drain) {
    // Goodput: FIN after the data, then wait until the sink has read it all and closed its side.
    uint32_t waiting = 0;
    for (uint32_t i = 0; i < streams; ++i) {
      if (fds[i] < 0 || !connected[i]) continue;
      epoll_event ev{.events = EPOLLIN | EPOLLRDHUP, .data = {.u64 = i}};
      if (shutdown(fds[i], SHUT_WR) == 0 && epoll_ctl(ep, EPOLL_CTL_MOD, fds[i], &ev) == 0) ++waiting;
    }
    const int64_t drain_end = NowNs() + 10 * kNsPerSec;
    std::vector<char> scratch(4096);
    while (drained < waiting && g_stop == 0 && NowNs() < drain_end) {
      const int n = epoll_wait(ep, events, static_cast<int>(kMaxStreams), 10);
      if (n < 0 && errno != EINTR) Die("epoll_wait", std::strerror(errno));
      for (int k = 0; k < n; ++k) {
        const uint32_t i = static_cast<uint32_t>(events[k].data.u64);
        if (fds[i] < 0) continue;
        const ssize_t r = read(fds[i], scratch.data(), scratch.size());
        if (r > 0 || (r < 0 && WouldBlock(errno))) continue;
        if (r == 0) ++drained;  // the sink's FIN: it read everything we wrote
        close(fds[i]);
        fds[i] = -1;
      }
    }
  }
  const double seconds = static_cast<double>(NowNs() - start) / 1e9;
  for (const int fd : fds) {
    if (fd >= 0) close(fd);
  }
  std::printf("linux bulk: streams=%u seconds=%.2f bytes=%llu gbit_per_s=%.2f", streams, seconds, bytes,
              static_cast<double>(bytes) * 8 / 1e9 / std::max(seconds, 1e-9));
  if (drain) std::printf(" drained=%u/%u", drained, streams);
  std::printf("\n");
  std::fflush(stdout);
  return bytes > 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------------
// Pingpong client

int RunPingpong(const FlagMap& flags) {
  const auto get = [&](const char* name) { return Get(flags, name); };
  const sockaddr_in dst = ParseTarget(flags);
  const size_t size = get("--size") ? ParseUint("--size", *get("--size"), 1, kMaxPingSize) : 64;
  const double duration = get("--duration") ? ParseSeconds("--duration", *get("--duration"), false) : 5;
  const bool busy_poll = get("--busy-poll") != nullptr;
  PinToCpu(flags);

  std::vector<char> out(size, 'x'), in(size);
  std::vector<uint32_t> rtts;  // nanoseconds
  rtts.reserve(kMaxSamples);
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) Die("socket", std::strerror(errno));
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  // Blocking calls wake at least every 100 ms to check the deadline; connect may take the whole duration.
  const timeval tick{0, 100000}, whole{static_cast<time_t>(duration) + 1, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &whole, sizeof(whole));
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof(tick));
  const int64_t start = NowNs(), end = start + static_cast<int64_t>(duration * 1e9);
  // 0: done; 1: stopped by the deadline or a signal; 2: failed (errno, or 0: the server closed).
  int result = connect(fd, reinterpret_cast<const sockaddr*>(&dst), sizeof(dst)) == 0 ? 0 : 2;
  int err = errno == EINPROGRESS ? ETIMEDOUT : errno;  // EINPROGRESS: SO_SNDTIMEO ran out
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tick, sizeof(tick));
  const auto transfer = [&](bool sending) {
    uint32_t spins = 0;
    for (size_t done = 0; done < size;) {
      const ssize_t n = sending ? send(fd, out.data() + done, size - done, MSG_NOSIGNAL)
                                : recv(fd, in.data() + done, size - done, busy_poll ? MSG_DONTWAIT : 0);
      if (n > 0) {
        done += static_cast<size_t>(n);
        continue;
      }
      err = n == 0 ? 0 : errno;
      if (n == 0 || (err != EINTR && !WouldBlock(err))) return 2;
      if (g_stop != 0) return 1;
      if (busy_poll && !sending && (++spins & 1023) != 0) continue;  // the clock every 1024 spins
      if (NowNs() >= end) return 1;
    }
    return 0;
  };
  const int64_t measured_from = NowNs();
  int64_t t0 = measured_from;
  for (; result == 0 && g_stop == 0 && t0 < end && rtts.size() < kMaxSamples;) {
    if ((result = transfer(true)) != 0 || (result = transfer(false)) != 0) break;
    const int64_t t1 = NowNs();
    rtts.push_back(static_cast<uint32_t>(std::min<int64_t>(t1 - t0, UINT32_MAX)));
    t0 = t1;
  }
  close(fd);
  if (result == 2) {
    std::fprintf(stderr, "linux_cps: --connect: %s (is 'linux_cps echo' running there?)\n",
                 err == 0 ? "the server closed the connection" : std::strerror(err));
  }

  const double seconds = static_cast<double>(t0 - measured_from) / 1e9;  // up to the last whole round trip
  double sum = 0;
  for (const uint32_t ns : rtts) sum += ns;
  std::sort(rtts.begin(), rtts.end());
  const auto pct_us = [&](double q) {
    if (rtts.empty()) return 0.0;
    const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(rtts.size())));
    return rtts[std::clamp<size_t>(rank, 1, rtts.size()) - 1] / 1000.0;
  };
  std::printf(
      "linux pingpong: size=%zu round_trips=%zu seconds=%.2f p50_us=%.1f p99_us=%.1f p999_us=%.1f mean_us=%.1f\n", size,
      rtts.size(), seconds, pct_us(0.50), pct_us(0.99), pct_us(0.999),
      rtts.empty() ? 0.0 : sum / static_cast<double>(rtts.size()) / 1000.0);
  std::fflush(stdout);
  return rtts.empty() ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::fputs(kUsage, stdout);
      return 0;
    }
  }
  const std::string mode = argc > 1 ? argv[1] : "";
  SetUp();
  if (mode == "server") {
    return RunServer(ParseFlags(
        argc, argv, {{"--port", true}, {"--bind", true}, {"--request", false}, {"--cpu", true}, {"--duration", true}}));
  }
  if (mode == "client") {
    return RunClient(ParseFlags(argc, argv,
                                {{"--connect", true},
                                 {"--concurrency", true},
                                 {"--duration", true},
                                 {"--request", true},
                                 {"--cpu", true},
                                 {"--timeout-ms", true},
                                 {"--bind-range", true}}));
  }
  if (mode == "sink" || mode == "echo") {
    return RunStreamServer(
        ParseFlags(argc, argv, {{"--port", true}, {"--bind", true}, {"--cpu", true}, {"--duration", true}}),
        mode == "echo");
  }
  if (mode == "bulk") {
    return RunBulk(ParseFlags(argc, argv,
                              {{"--connect", true},
                               {"--streams", true},
                               {"--duration", true},
                               {"--cpu", true},
                               {"--mss", true},
                               {"--congestion", true},
                               {"--drain", false}}));
  }
  if (mode == "pingpong") {
    return RunPingpong(ParseFlags(
        argc, argv,
        {{"--connect", true}, {"--size", true}, {"--duration", true}, {"--cpu", true}, {"--busy-poll", false}}));
  }
  Die(mode.empty() ? "mode" : mode,
      "expected 'server', 'client', 'sink', 'bulk', 'echo' or 'pingpong' first (see linux_cps --help)");
}
