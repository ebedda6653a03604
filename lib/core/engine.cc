#include "lib/core/engine.h"

#include <rte_ethdev.h>

#include "lib/base/log.h"
#include "lib/core/clock.h"

namespace synack {

Engine::Engine(const EngineConfig& config, rte_mempool* pool, rte_mempool* indirect_pool)
    : config_(config),
      pool_(pool),
      indirect_pool_(indirect_pool),
      stack_(config.net, pool),
      tcp_(config.tcp, stack_, pool, indirect_pool) {
  if (config_.dispatch.steering != nullptr) {
    const size_t n = config_.dispatch.steering->engines();
    config_.dispatch.to.resize(n, nullptr);
    config_.dispatch.from.resize(n, nullptr);
  }
  if (config_.tx_impair.enabled()) tx_impair_ = std::make_unique<Impairment>(config_.tx_impair);
  if (config_.rx_impair.enabled()) rx_impair_ = std::make_unique<Impairment>(config_.rx_impair);
  profile_.Enable(config_.profile_every);
  if (profile_.enabled()) tcp_.profile_ = &profile_;
}

void Engine::Start(Instant now) {
  RefreshLogLevels();
  SYNACK_LOG_DEBUG(
      kCore, "engine %u started: port %u, TX queue %u, %zu RX queue(s), %s",
      static_cast<unsigned>(config_.dispatch.index), static_cast<unsigned>(config_.port_id),
      static_cast<unsigned>(config_.queue_id), config_.rx_queues.size(),
      config_.dispatch.steering != nullptr ? "flows steered between its engines" : "the only engine on its port");
  tcp_.set_now(now);
  // One gratuitous ARP per address is enough; siblings share the port.
  if (config_.dispatch.index == 0) stack_.Start(now);
  next_poll_ = now + config_.poll_interval;
  Flush(now);
}

void Engine::Flush(Instant now) {
  auto tx = [this](rte_mbuf** pkts, uint16_t n) -> uint16_t {
    auto send = [this](rte_mbuf** p, uint16_t k) { return rte_eth_tx_burst(config_.port_id, config_.queue_id, p, k); };
    if (config_.capture == nullptr) [[likely]]
      return send(pkts, n);
    return config_.capture->Transmit(config_.port_id, config_.queue_id, pkts, n, send);
  };
  if (tx_impair_ == nullptr) {
    // Frames the device does not take stay in the outbox and are retried on the next poll.
    stack_.mutable_counters().tx_frames += stack_.outbox().Drain(tx);
    return;
  }
  // Through the impaired link: it takes everything; what is due goes to the device (the rest of a
  // partial take stays in the link, in order).
  stack_.mutable_counters().tx_frames += stack_.outbox().Drain([this, now](rte_mbuf** pkts, uint16_t n) {
    tx_impair_->Submit(now, pkts, n);
    return n;
  });
  tx_impair_->Release(now, tx);
  // What the link sent back (ICMP errors from its "router") arrives on our own receive path.
  rte_mbuf* back[16];
  for (size_t n; (n = tx_impair_->TakeReflected(back, 16)) > 0;) {
    for (size_t i = 0; i < n; ++i) Input(now, Mbuf(back[i]));
  }
}

void Engine::HandTo(uint16_t engine, Mbuf&& frame) {
  Mbuf m(std::move(frame));
  rte_ring* r = config_.dispatch.to[engine];
  if (r == nullptr || rte_ring_sp_enqueue(r, m.get()) != 0) {
    stack_.mutable_counters().Count(Drop::kDispatchRingFull);
    return;  // `m` frees the frame
  }
  static_cast<void>(m.release());  // the owner engine has it now
  ++stack_.mutable_counters().dispatched_out;
}

void Engine::PrefetchHeaders(const rte_mbuf* m) {
  const char* p = rte_pktmbuf_mtod(m, const char*);
  rte_prefetch0(p);
  rte_prefetch0(p + RTE_CACHE_LINE_SIZE);
}

void Engine::Receive(Instant now, Mbuf&& frame) {
  Mbuf m(std::move(frame));
  const RssSteering* steering = config_.dispatch.steering;
  if (steering == nullptr || steering->engines() == 1) return Input(now, std::move(m));
  // The owner is computed from the ports in the first segment; a chained frame is gathered into one
  // buffer only when they are not there (the payload of a TCP segment stays where it lies).
  ConstBytes bytes = m.bytes();
  std::optional<FrameTuple> t = PeekIpv4Tcp(bytes);
  if (!t && !m.contiguous() && rte_pktmbuf_linearize(m.get()) == 0) {
    ++stack_.mutable_counters().rx_linearized;
    bytes = m.bytes();
    t = PeekIpv4Tcp(bytes);
  }
  if (t) {
    const uint16_t owner = steering->OwnerOf(t->src, t->dst, t->src_port, t->dst_port);
    const rte_mbuf* mb = m.get();
    if ((mb->ol_flags & RTE_MBUF_F_RX_RSS_HASH) && steering->OwnerOfHash(mb->hash.rss) != owner) {
      ++stack_.mutable_counters().rss_hash_mismatch;  // the device's RSS disagrees; software decides
    }
    if (owner != config_.dispatch.index) return HandTo(owner, std::move(m));
    return Input(now, std::move(m));
  }
  if (bytes.size() >= 14 && LoadBe16(bytes.data() + 12) == kEtherTypeArp) {
    for (uint16_t j = 0; j < steering->engines(); ++j) {
      if (j == config_.dispatch.index) continue;
      rte_mbuf* copy = rte_pktmbuf_copy(m.get(), pool_, 0, UINT32_MAX);
      if (copy == nullptr) {
        stack_.mutable_counters().Count(Drop::kMempoolEmpty);
        continue;
      }
      HandTo(j, Mbuf(copy));
    }
  }
  Input(now, std::move(m));
}

std::optional<Ipv4Addr> Engine::NextHop(Ipv4Addr dst) const {
  const NetConfig& nc = stack_.config();
  if (nc.local.Contains(dst)) return dst;
  return nc.gateway;
}

std::optional<MacAddr> Engine::NextHopMac(Ipv4Addr dst) const {
  std::optional<Ipv4Addr> hop = NextHop(dst);
  if (!hop) return std::nullopt;
  const MacAddr* mac = stack_.neighbors().Find(*hop);
  if (mac == nullptr) return std::nullopt;
  return *mac;
}

bool Engine::Resolved(Ipv4Addr dst) const { return NextHopMac(dst).has_value(); }

bool Engine::Probe(Instant now, Ipv4Addr dst) { return stack_.SendEchoRequest(now, dst, 0x5ca, 1, 8); }

uint16_t Engine::PollOnce(Instant now) {
  constexpr uint16_t kMaxBurst = 64;
  rte_mbuf* pkts[kMaxBurst];
  const uint16_t burst = config_.burst < kMaxBurst ? config_.burst : kMaxBurst;
  tcp_.set_now(now);
  profile_.BeginPoll();
  uint16_t total = 0;
  // Frames siblings forwarded arrived earlier than anything still on our queues: take them first, so
  // a flow whose frames switch queues (tun's automq follows our TX queue) is not reordered here.
  for (size_t j = 0; j < config_.dispatch.from.size(); ++j) {
    rte_ring* r = config_.dispatch.from[j];
    if (r == nullptr) continue;
    const unsigned n = rte_ring_sc_dequeue_burst(r, reinterpret_cast<void**>(pkts), burst, nullptr);
    stack_.mutable_counters().dispatched_in += n;
    profile_.Mark(Phase::kRxBurst);
    for (unsigned i = 0; i < n; ++i) {
      Mbuf m(pkts[i]);
      ConstBytes b = m.bytes();
      if (b.size() >= 14 && LoadBe16(b.data() + 12) == kEtherTypeArp) {
        stack_.LearnArp(now, std::move(m));
      } else {
        Input(now, std::move(m));
      }
      profile_.Mark(Phase::kTcp);  // what the frame cost after its lookups, when TCP did not mark it
    }
    total = static_cast<uint16_t>(total + n);
  }
  for (uint16_t q : config_.rx_queues) {
    uint16_t n = rte_eth_rx_burst(config_.port_id, q, pkts, burst);
    // Captured as the device delivered them, before any impairment or processing.
    if (config_.capture != nullptr) [[unlikely]]
      config_.capture->Received(config_.port_id, q, pkts, n);
    if (rx_impair_ != nullptr) {
      // Through the impaired link before the stack sees them: take all, process what is due.
      rx_impair_->Submit(now, pkts, n);
      n = 0;
      rx_impair_->Release(now, [&](rte_mbuf** due, uint16_t k) {
        const uint16_t take = std::min<uint16_t>(k, static_cast<uint16_t>(burst - n));
        for (uint16_t i = 0; i < take; ++i) pkts[n + i] = due[i];
        n = static_cast<uint16_t>(n + take);
        return take;
      });
    }
    // Headers span two cache lines (Ethernet + IPv4 + a TCP header with options); the frames were
    // written by the device or another core. The mbuf headers of the whole burst are fetched at once
    // (finding a frame's bytes needs its buf_addr and data_off), then the frames' header lines.
    profile_.Mark(Phase::kRxBurst);
    for (uint16_t i = 0; i < n; ++i) rte_prefetch0(pkts[i]);
    // A full burst means the ring holds more: new SYNs beyond the budget are dropped unparsed, and the
    // admitted ones wait until the burst's segments of known flows (and cookie ACKs) have been run.
    tcp_.BeginRxBurst(n, burst);
    if (tcp_.rx_overloaded()) {
      for (uint16_t i = 0; i < n; ++i) PrefetchHeaders(pkts[i]);
      TcpLayer::RxTriage verdict[kMaxBurst];
      tcp_.TriageBurst(std::span<rte_mbuf* const>(pkts, n), verdict);
      rte_mbuf* shed[kMaxBurst];
      rte_mbuf* deferred[kMaxBurst];
      uint16_t n_shed = 0;
      uint16_t n_deferred = 0;
      for (uint16_t i = 0; i < n; ++i) {
        if (verdict[i] == TcpLayer::RxTriage::kShed) shed[n_shed++] = pkts[i];
      }
      rte_pktmbuf_free_bulk(shed, n_shed);
      profile_.Mark(Phase::kParse);  // peeking and shedding: what the flood costs before any parsing
      for (uint16_t i = 0; i < n; ++i) {
        if (verdict[i] == TcpLayer::RxTriage::kDefer) {
          deferred[n_deferred++] = pkts[i];
        } else if (verdict[i] == TcpLayer::RxTriage::kProcess) {
          Receive(now, Mbuf(pkts[i]));
          profile_.Mark(Phase::kTcp);
        }
      }
      for (uint16_t i = 0; i < n_deferred; ++i) {
        Receive(now, Mbuf(deferred[i]));
        profile_.Mark(Phase::kTcp);
      }
    } else {
      constexpr uint16_t kAhead = 4;
      for (uint16_t i = 0; i < n && i < kAhead; ++i) PrefetchHeaders(pkts[i]);
      for (uint16_t i = 0; i < n; ++i) {
        if (i + kAhead < n) PrefetchHeaders(pkts[i + kAhead]);
        Receive(now, Mbuf(pkts[i]));
        profile_.Mark(Phase::kTcp);  // what the frame cost after its lookups, when TCP did not mark it
      }
    }
    total += n;
  }
  tcp_.Poll(now);
  if (now >= next_poll_) {
    tcp_.Unreachable(now, stack_.Poll(now));
    next_poll_ = now + config_.poll_interval;
    if (telemetry_.Due(now)) PublishTelemetry(now);
  }
  profile_.Mark(Phase::kTimers);
  if (!stack_.outbox().empty() || (tx_impair_ != nullptr && tx_impair_->held() > 0)) Flush(now);
  profile_.Mark(Phase::kTxBurst);
  profile_.EndPoll(total);
  return total;
}

void Engine::PublishTelemetry(Instant now) {
  RefreshLogLevels();  // a level changed at run time (rte_log_set_level) takes effect here
  FillEngineSnapshot(*this, now, &telemetry_.scratch());
  telemetry_.Publish(now);
}

void Engine::Run(const std::atomic<bool>& stop) {
  TscClock clock;
  Start(clock.Now());
  while (!stop.load(std::memory_order_relaxed)) PollOnce(clock.Now());
  Flush(clock.Now());
}

}  // namespace synack
