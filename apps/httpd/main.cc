// synack-httpd: brings one port up with an IPv4 address, answers ARP and ping, and serves HTTP/1.1 on
// --port: every GET (any path) gets `200 OK` with a fixed body of --body-size bytes; HEAD gets the same
// headers without the body; other methods get 405. Requests are parsed incrementally per connection
// (split across segments, or several pipelined in one segment, are both fine) from a bounded buffer;
// keep-alive is the default for HTTP/1.1, `Connection: close` (or HTTP/1.0 without keep-alive) makes
// the server close first once the response is queued. Responses are built once at start-up and copied
// into the send buffer as it frees up (large bodies follow the peer's pace through kWritable).
// Against slow clients (slowloris): a request head must arrive completely within --header-timeout of
// the connection's start or of its first byte, an idle keep-alive connection (or one whose client does
// not read its response) is reset after --idle-timeout, and no client address may hold more than
// --max-conns-per-source connections per engine (beyond, RST at accept).
// One instance per engine; SIGINT/SIGTERM stop them and print their counters.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "apps/common/runtime.h"

namespace synack::app {
namespace {

// Request line plus headers may not exceed this; the request is refused with 414/431 otherwise.
constexpr uint32_t kMaxRequestHead = 8 * 1024;
// Bodies up to this size are sent in the same copy as the headers (one segment for small responses).
constexpr size_t kCoalesceBody = 16 * 1024;

// ---------------------------------------------------------------------------------------------------
// Request parsing (RFC 9112). Pure functions over the buffered bytes.

bool IsTchar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool IsToken(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), IsTchar); }

// ASCII case-insensitive comparison (header names and connection options, RFC 9110 5.1 and 7.6.1).
bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (absl::ascii_tolower(static_cast<unsigned char>(a[i])) !=
        absl::ascii_tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Length of the header block (request line through the empty line, inclusive) if `buf` holds all of it,
// else 0. Lines end in CRLF or a bare LF (RFC 9112 section 2.2). The search restarts at `*scan` and
// leaves there the earliest point a later call must look again from.
size_t FindHeadEnd(std::string_view buf, uint32_t* scan) {
  size_t i = *scan;
  while (true) {
    const size_t nl = buf.find('\n', i);
    if (nl == std::string_view::npos) break;
    if (nl + 1 < buf.size() && buf[nl + 1] == '\n') return nl + 2;
    if (nl + 2 < buf.size() && buf[nl + 1] == '\r' && buf[nl + 2] == '\n') return nl + 3;
    if (nl + 2 >= buf.size()) {  // the empty line may still be coming
      *scan = static_cast<uint32_t>(nl);
      return 0;
    }
    i = nl + 1;
  }
  *scan = static_cast<uint32_t>(buf.size());
  return 0;
}

enum class Method : uint8_t { kGet, kHead, kOther };

struct Request {
  Method method = Method::kOther;
  bool keep_alive = true;
  bool http10 = false;
  uint64_t content_length = 0;  // request body bytes to skip
};

// Parses a complete header block; returns 0 or the HTTP status to refuse it with.
int ParseHead(std::string_view head, Request& r) {
  // Split off the request line.
  size_t eol = head.find('\n');
  std::string_view line = head.substr(0, eol);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  head.remove_prefix(eol + 1);

  // request-line = method SP request-target SP HTTP-version
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return 400;
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(method) || target.empty()) return 400;
  for (char c : target) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return 400;
  }
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !absl::ascii_isdigit(version[5]) || version[6] != '.' ||
      !absl::ascii_isdigit(version[7])) {
    return 400;
  }
  if (version[5] != '1') return 505;
  r.http10 = version[7] == '0';
  r.method = method == "GET" ? Method::kGet : method == "HEAD" ? Method::kHead : Method::kOther;

  bool close = false;
  bool keep_alive = false;
  bool have_length = false;
  int hosts = 0;
  while (!head.empty()) {
    eol = head.find('\n');
    line = head.substr(0, eol);
    head.remove_prefix(eol == std::string_view::npos ? head.size() : eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;                                      // end of headers
    if (line.front() == ' ' || line.front() == '\t') return 400;  // obsolete line folding
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return 400;
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = TrimOws(line.substr(colon + 1));
    if (!IsToken(name)) return 400;  // also refuses whitespace before the colon (RFC 9112 5.1)
    if (EqualsIgnoreCase(name, "connection")) {
      std::string_view rest = value;
      while (!rest.empty()) {
        const size_t comma = rest.find(',');
        const std::string_view opt = TrimOws(rest.substr(0, comma));
        rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
        if (EqualsIgnoreCase(opt, "close")) close = true;
        if (EqualsIgnoreCase(opt, "keep-alive")) keep_alive = true;
      }
    } else if (EqualsIgnoreCase(name, "content-length")) {
      if (value.empty() || value.size() > 15) return 400;
      uint64_t n = 0;
      for (char c : value) {
        if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return 400;
        n = n * 10 + static_cast<uint64_t>(c - '0');
      }
      if (have_length && n != r.content_length) return 400;  // conflicting lengths (RFC 9112 6.3)
      have_length = true;
      r.content_length = n;
    } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
      return 501;  // request bodies in chunks are not supported
    } else if (EqualsIgnoreCase(name, "host")) {
      ++hosts;
    }
  }
  if (!r.http10 && hosts != 1) return 400;  // RFC 9112 3.2: exactly one Host in HTTP/1.1
  r.keep_alive = !close && (!r.http10 || keep_alive);
  return 0;
}

// ---------------------------------------------------------------------------------------------------
// The server.

struct HttpCounters {
  uint64_t connections = 0;
  uint64_t requests = 0;        // complete request heads parsed
  uint64_t responses = 0;       // responses fully queued to TCP
  uint64_t bad_requests = 0;    // refused with a 4xx/5xx status
  uint64_t server_closes = 0;   // connections we closed first
  uint64_t body_bytes = 0;      // body bytes queued
  uint64_t source_limited = 0;  // connections reset at accept: their address had --max-conns-per-source
};

struct HttpLimits {
  Duration header_timeout = Duration::Seconds(10);
  Duration idle_timeout = Duration::Seconds(60);
  uint32_t max_conns_per_source = 0;  // 0: none
};

class HttpServer : public App {
 public:
  HttpServer(uint16_t port, size_t body_size, HttpLimits limits)
      : port_(port), limits_(limits), body_(body_size, '\0') {
    for (size_t i = 0; i < body_size; ++i) body_[i] = static_cast<char>('a' + i % 26);
    auto ok = [&](const char* connection) {
      return absl::StrCat("HTTP/1.1 200 OK\r\nServer: synack-httpd\r\nContent-Type: text/plain\r\nContent-Length: ",
                          body_size, "\r\n", connection, "\r\n");
    };
    const char* connection[3] = {"", "Connection: keep-alive\r\n", "Connection: close\r\n"};
    for (int v = 0; v < 3; ++v) {
      get_head_[v] = ok(connection[v]);
      head_head_[v] = ok(connection[v]);
      if (body_size <= kCoalesceBody) get_full_[v] = get_head_[v] + body_;
    }
    for (int status : {400, 405, 414, 431, 501, 505}) {
      const char* reason = status == 400   ? "Bad Request"
                           : status == 405 ? "Method Not Allowed"
                           : status == 414 ? "URI Too Long"
                           : status == 431 ? "Request Header Fields Too Large"
                           : status == 501 ? "Not Implemented"
                                           : "HTTP Version Not Supported";
      const std::string body = absl::StrCat(reason, "\n");
      std::string text =
          absl::StrCat("HTTP/1.1 ", status, " ", reason, "\r\nServer: synack-httpd\r\nContent-Type: text/plain\r\n",
                       status == 405 ? "Allow: GET, HEAD\r\n" : "", "Content-Length: ", body.size(),
                       "\r\nConnection: close\r\n\r\n", body);
      errors_.push_back({status, std::move(text)});
    }
  }

  absl::Status Start(Engine& engine) override {
    if (absl::Status s = engine.tcp().Listen(port_); !s.ok()) return s;
    if (engine.index() != 0) return absl::OkStatus();  // one readiness line, from the main lcore's engine
    std::printf("listening on %s:%u (http)\n", engine.local().addr.ToString().c_str(), port_);
    std::fflush(stdout);
    return absl::OkStatus();
  }

  void OnEvent(Engine& engine, const Event& e) override {
    TcpLayer& tcp = engine.tcp();
    switch (e.type) {
      case EventType::kAccepted: {
        ++counters_.connections;
        const Ipv4Addr source = tcp.Flow(e.conn) ? tcp.Flow(e.conn)->remote : Ipv4Addr{};
        if (limits_.max_conns_per_source != 0) {
          uint32_t& n = per_source_[source.v];
          if (n >= limits_.max_conns_per_source) {
            ++counters_.source_limited;
            tcp.Abort(e.conn);
            break;
          }
          ++n;
        }
        Conn& c = conns_[e.conn.index];
        c = Conn{};
        c.id = e.conn;
        c.source = source;
        Arm(tcp, c, Wait::kHead);  // the first request head, from the connection's start
        if (!spare_.empty()) {
          c.buf = std::move(spare_.back());
          spare_.pop_back();
        } else {
          c.buf = std::make_unique<char[]>(kMaxRequestHead);
        }
        Serve(tcp, e.conn);
        break;
      }
      case EventType::kReadable:
      case EventType::kWritable:
        Serve(tcp, e.conn);
        break;
      case EventType::kPeerClosed:
        if (auto it = conns_.find(e.conn.index); it != conns_.end() && it->second.id == e.conn) {
          it->second.peer_closed = true;
          Serve(tcp, e.conn);
        }
        break;
      case EventType::kClosed:
        if (auto it = conns_.find(e.conn.index); it != conns_.end() && it->second.id == e.conn) Release(it);
        break;
      case EventType::kConnected:
        break;
    }
  }

  // Connections whose send found the mempool empty get no kWritable of their own: retry them here.
  void OnPoll(Engine& engine, Instant now) override {
    if (stalled_.empty()) return;
    retry_.swap(stalled_);
    for (ConnId id : retry_) Serve(engine.tcp(), id);
    retry_.clear();
  }

  const HttpCounters& counters() const { return counters_; }

  // Prints the sum of every instance's counters (one instance per engine).
  static void PrintCounters(FILE* out, const std::vector<std::unique_ptr<HttpServer>>& servers) {
    HttpCounters sum;
    for (const auto& s : servers) {
      const HttpCounters& c = s->counters();
      sum.connections += c.connections;
      sum.requests += c.requests;
      sum.responses += c.responses;
      sum.bad_requests += c.bad_requests;
      sum.server_closes += c.server_closes;
      sum.body_bytes += c.body_bytes;
      sum.source_limited += c.source_limited;
    }
    PrintCounters(out, sum);
  }

  static void PrintCounters(FILE* out, const HttpCounters& counters_) {
    std::fprintf(
        out,
        "  http.connections %llu\n  http.requests %llu\n  http.responses %llu\n  http.bad_requests %llu\n"
        "  http.server_closes %llu\n  http.body_bytes %llu\n  http.source_limited %llu\n",
        static_cast<unsigned long long>(counters_.connections), static_cast<unsigned long long>(counters_.requests),
        static_cast<unsigned long long>(counters_.responses), static_cast<unsigned long long>(counters_.bad_requests),
        static_cast<unsigned long long>(counters_.server_closes), static_cast<unsigned long long>(counters_.body_bytes),
        static_cast<unsigned long long>(counters_.source_limited));
    std::fflush(out);
  }

 private:
  enum Variant { kKeepAlive, kKeepAlive10, kClose };
  // What the connection's timeout is currently measuring.
  enum class Wait : uint8_t { kNone, kHead, kIdle, kResponse };

  struct Conn {
    ConnId id;
    std::unique_ptr<char[]> buf;  // kMaxRequestHead bytes of received, unparsed request
    uint32_t len = 0;             // bytes in buf
    uint32_t scan = 0;            // FindHeadEnd resumes here
    uint64_t discard = 0;         // request body bytes still to skip
    // The response being queued: part[0] then part[1], `sent` bytes of them so far. Both point into
    // the server's prebuilt responses.
    std::string_view part[2];
    size_t sent = 0;
    bool responding = false;
    bool close_after = false;  // close once the response is queued
    bool peer_closed = false;
    bool counts_body = false;
    Wait wait = Wait::kNone;
    Ipv4Addr source;
  };

  // Sets the connection's timeout for what it now waits for (only when that changes, so a trickle of
  // bytes cannot keep pushing it back): a request head gets --header-timeout from its first byte (or
  // the connection's start), anything else — idle keep-alive, a response the client does not read —
  // gets --idle-timeout.
  void Arm(TcpLayer& tcp, Conn& c, Wait w) {
    if (c.wait == w) return;
    c.wait = w;
    tcp.SetTimeout(c.id, w == Wait::kHead ? limits_.header_timeout : limits_.idle_timeout);  // 0: none
  }
  using ConnMap = absl::flat_hash_map<uint32_t, Conn>;

  // Does whatever the connection can do now: finish queuing the current response, then parse and answer
  // buffered or newly received requests one at a time, until the send buffer is full, more request bytes
  // are needed, or the connection is closed.
  void Serve(TcpLayer& tcp, ConnId id) {
    auto it = conns_.find(id.index);
    if (it == conns_.end() || it->second.id != id) return;
    Conn& c = it->second;
    while (true) {
      if (c.responding) {
        if (!SendPending(tcp, c)) return;  // resumed on kWritable (or from OnPoll)
        c.responding = false;
        ++counters_.responses;
        if (c.counts_body) counters_.body_bytes += body_.size();
        if (c.close_after) {
          ++counters_.server_closes;
          CloseAndRelease(tcp, it);
          return;
        }
      }
      // Skip a request body (GET with Content-Length).
      if (c.discard > 0) {
        const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(c.discard, c.len));
        Consume(c, n);
        c.discard -= n;
        if (c.discard > 0) {
          if (Fill(tcp, c) == 0 && !ReadMoreOrClose(tcp, it)) return;
          if (c.len == 0) return;
          continue;
        }
      }
      // Leading empty lines before a request line are ignored (RFC 9112 2.2).
      uint32_t skip = 0;
      while (skip < c.len &&
             (c.buf[skip] == '\n' || (c.buf[skip] == '\r' && skip + 1 < c.len && c.buf[skip + 1] == '\n'))) {
        skip += c.buf[skip] == '\r' ? 2 : 1;
      }
      Consume(c, skip);
      const std::string_view buffered(c.buf.get(), c.len);
      const size_t head_len = FindHeadEnd(buffered, &c.scan);
      if (head_len == 0) {
        if (c.len > 0) Arm(tcp, c, Wait::kHead);
        if (c.len == kMaxRequestHead) {
          // The request head does not fit: 414 while still in the request line, 431 in the headers.
          Refuse(c, buffered.find('\n') == std::string_view::npos ? 414 : 431);
          continue;
        }
        if (Fill(tcp, c) > 0) continue;
        if (!ReadMoreOrClose(tcp, it)) return;
        if (c.len == 0 && c.wait == Wait::kResponse) Arm(tcp, c, Wait::kIdle);  // keep-alive, between requests
        return;
      }
      Arm(tcp, c, Wait::kResponse);  // the client must take the response, progressing at least every idle timeout
      ++counters_.requests;
      Request r;
      const int status = ParseHead(buffered.substr(0, head_len), r);
      Consume(c, static_cast<uint32_t>(head_len));
      if (status != 0) {
        Refuse(c, status);
      } else if (r.method == Method::kOther) {
        Refuse(c, 405);
      } else {
        const Variant v = !r.keep_alive ? kClose : r.http10 ? kKeepAlive10 : kKeepAlive;
        c.close_after = !r.keep_alive;
        c.discard = r.content_length;
        c.counts_body = r.method == Method::kGet;
        if (r.method == Method::kHead) {
          Respond(c, head_head_[v], {});
        } else if (!get_full_[v].empty()) {
          Respond(c, get_full_[v], {});
        } else {
          Respond(c, get_head_[v], body_);
        }
      }
    }
  }

  // After Fill found nothing: with the peer's side closed and no request able to complete, closes.
  // Returns false if the connection is gone.
  bool ReadMoreOrClose(TcpLayer& tcp, ConnMap::iterator it) {
    if (!it->second.peer_closed) return true;
    CloseAndRelease(tcp, it);
    return false;
  }

  // Copies received bytes into the request buffer; returns how many.
  size_t Fill(TcpLayer& tcp, Conn& c) {
    const size_t n =
        tcp.RecvCopy(c.id, MutableBytes(reinterpret_cast<uint8_t*>(c.buf.get()) + c.len, kMaxRequestHead - c.len));
    c.len += static_cast<uint32_t>(n);
    return n;
  }

  static void Consume(Conn& c, uint32_t n) {
    if (n == 0) return;
    std::memmove(c.buf.get(), c.buf.get() + n, c.len - n);
    c.len -= n;
    c.scan = 0;
  }

  void Respond(Conn& c, std::string_view a, std::string_view b) {
    c.part[0] = a;
    c.part[1] = b;
    c.sent = 0;
    c.responding = true;
  }

  void Refuse(Conn& c, int status) {
    ++counters_.bad_requests;
    for (const auto& [code, text] : errors_) {
      if (code == status) Respond(c, text, {});
    }
    c.close_after = true;
    c.counts_body = false;
    c.len = 0;  // nothing after a refused request is parsed
    c.scan = 0;
    c.discard = 0;
  }

  // Queues as much of the current response (head, then body) as the send buffer takes; true when all
  // of it is queued. Partial progress is kept in `c.sent` and resumed on kWritable.
  bool SendPending(TcpLayer& tcp, Conn& c) {
    const size_t total = c.part[0].size() + c.part[1].size();
    while (c.sent < total) {
      const bool first = c.sent < c.part[0].size();
      const std::string_view p = first ? c.part[0] : c.part[1];
      const size_t off = first ? c.sent : c.sent - c.part[0].size();
      const size_t want = p.size() - off;
      const uint64_t no_mbufs = tcp.counters().no_mbufs;
      const size_t n = tcp.SendCopy(c.id, ConstBytes(reinterpret_cast<const uint8_t*>(p.data() + off), want));
      c.sent += n;
      if (n > 0 && c.wait == Wait::kResponse) tcp.SetTimeout(c.id, limits_.idle_timeout);  // progress: a fresh wait
      if (n < want) {
        if (tcp.counters().no_mbufs != no_mbufs) stalled_.push_back(c.id);
        return false;
      }
    }
    return true;
  }

  // Orderly close (FIN after the queued response). Unread bytes would turn the close into a RST that
  // could destroy the response at the client, so they are read and dropped first.
  void CloseAndRelease(TcpLayer& tcp, ConnMap::iterator it) {
    Conn& c = it->second;
    while (tcp.RecvCopy(c.id, MutableBytes(reinterpret_cast<uint8_t*>(c.buf.get()), kMaxRequestHead)) > 0) {
    }
    tcp.Close(c.id);
    Release(it);
  }

  void Release(ConnMap::iterator it) {
    if (it->second.buf) spare_.push_back(std::move(it->second.buf));
    if (limits_.max_conns_per_source != 0) {
      auto n = per_source_.find(it->second.source.v);
      if (n != per_source_.end() && --n->second == 0) per_source_.erase(n);
    }
    conns_.erase(it);
  }

  uint16_t port_;
  HttpLimits limits_;
  absl::flat_hash_map<uint32_t, uint32_t> per_source_;  // open connections per client address
  std::string body_;
  std::string get_head_[3];   // per Variant: status line and headers of a GET response
  std::string head_head_[3];  // per Variant: the same for HEAD (padded for its own length)
  std::string get_full_[3];   // per Variant: GET headers and body together (small bodies only)
  std::vector<std::pair<int, std::string>> errors_;
  ConnMap conns_;
  std::vector<std::unique_ptr<char[]>> spare_;  // request buffers of closed connections, reused
  std::vector<ConnId> stalled_;
  std::vector<ConnId> retry_;
  HttpCounters counters_;
};

int Main(int argc, char** argv) {
  std::vector<cli::FlagSpec> specs = CommonFlags();
  specs.push_back({"port", true, "TCP port to serve (default 80)"});
  specs.push_back({"body-size", true, "bytes in every GET response body, 0..67108864 (default 128)"});
  specs.push_back({"header-timeout", true,
                   "seconds a request head may take to arrive, from the connection's start or its first byte "
                   "(default 10; 0 = none)"});
  specs.push_back({"idle-timeout", true,
                   "seconds an idle keep-alive connection, or a response the client does not read, may wait "
                   "(default 60; 0 = none)"});
  specs.push_back({"max-conns-per-source", true,
                   "connections one client address may hold per engine; more are reset at accept "
                   "(default: a quarter of --max-connections; 0 = no limit)"});
  cli::SplitArgs split = cli::Split(argc, argv);
  if (cli::PrintVersionIfAsked(split, "synack-httpd")) return 0;
  auto fail = [](absl::string_view msg) {
    std::fprintf(stderr, "synack-httpd: %.*s\n", static_cast<int>(msg.size()), msg.data());
    return 2;
  };
  absl::StatusOr<cli::Flags> flags = cli::Flags::Parse(split.app, specs);
  if (!flags.ok()) return fail(flags.status().message());
  if (flags->Has("help")) {
    std::fputs(cli::Usage("synack-httpd",
                          "HTTP/1.1 server: GET of any path returns a fixed body of --body-size bytes; also answers "
                          "ARP and ping.",
                          specs)
                   .c_str(),
               stdout);
    return 0;
  }
  absl::StatusOr<CommonOptions> common = ParseCommon(*flags);
  if (!common.ok()) return fail(common.status().message());
  absl::StatusOr<int64_t> port = flags->GetInt("port", 80, 1, 65535);
  if (!port.ok()) return fail(port.status().message());
  absl::StatusOr<int64_t> body_size = flags->GetInt("body-size", 128, 0, 64 << 20);
  if (!body_size.ok()) return fail(body_size.status().message());
  HttpLimits limits;
  absl::StatusOr<int64_t> header_timeout = flags->GetInt("header-timeout", 10, 0, 86400);
  if (!header_timeout.ok()) return fail(header_timeout.status().message());
  limits.header_timeout = Duration::Seconds(*header_timeout);
  absl::StatusOr<int64_t> idle_timeout = flags->GetInt("idle-timeout", 60, 0, 86400);
  if (!idle_timeout.ok()) return fail(idle_timeout.status().message());
  limits.idle_timeout = Duration::Seconds(*idle_timeout);
  absl::StatusOr<int64_t> per_source =
      flags->GetInt("max-conns-per-source", std::max<int64_t>(1, common->max_connections / 4), 0, 1 << 24);
  if (!per_source.ok()) return fail(per_source.status().message());
  limits.max_conns_per_source = static_cast<uint32_t>(*per_source);

  absl::StatusOr<std::unique_ptr<Stack>> rt = CreateStack("synack-httpd", split, *common, TcpLayerConfig{});
  if (!rt.ok()) return fail(rt.status().message());
  std::printf("port: %s\n", (*rt)->port().Describe().c_str());
  std::printf("device: %s\n", (*rt)->port().DescribeDevice().c_str());
  std::printf("engines: %s\n", (*rt)->dispatch().c_str());
  std::printf("listeners: %s\n", common->syn.Describe().c_str());
  std::printf("http limits: header timeout %llds, idle timeout %llds, %u connections per source\n",
              static_cast<long long>(*header_timeout), static_cast<long long>(*idle_timeout),
              limits.max_conns_per_source);
  InstallStopSignals();
  // One server per engine, each listening on the port on its own lcore.
  std::vector<std::unique_ptr<HttpServer>> servers;
  std::vector<App*> apps;
  for (size_t i = 0; i < (*rt)->engines(); ++i) {
    servers.push_back(
        std::make_unique<HttpServer>(static_cast<uint16_t>(*port), static_cast<size_t>(*body_size), limits));
    apps.push_back(servers.back().get());
  }
  if (absl::Status s = (*rt)->RunAll(apps); !s.ok()) return fail(s.message());
  (*rt)->PrintCounters(stdout, "synack-httpd: stopped; counters:");
  HttpServer::PrintCounters(stdout, servers);
  return 0;
}

}  // namespace
}  // namespace synack::app

int main(int argc, char** argv) { return synack::app::Main(argc, argv); }
