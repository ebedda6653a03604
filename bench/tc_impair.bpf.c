// tc (cls_bpf, direct action) programs that impair a Linux forwarding path for scripts/bench_loss.sh, on a
// kernel without netem. Built by the script with clang -target bpf, one object per setting:
//   -DLOSS_PPM=N    section "loss": drops N frames per million at random (bpf_get_prandom_u32); attach
//                   it to the *ingress* of a forwarding namespace's interfaces, so that a drop is a loss
//                   on the wire (on a host's own egress the kernel would retry it locally instead);
//   -DDELAY_NS=N    section "delay": an earliest departure time (EDT) of now + N ns in skb->tstamp,
//                   never earlier than what the skb already carries (so a flow's order is kept); it
//                   delays nothing unless the egress qdisc honours skb->tstamp (sch_fq, sch_etf).
// Bench tooling, not part of the stack.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf_helpers.h>

#ifndef LOSS_PPM
#define LOSS_PPM 0
#endif
#ifndef DELAY_NS
#define DELAY_NS 0
#endif

SEC("loss")
int impair_loss(struct __sk_buff* skb) {
  // Uniform in [0, 2^32): drop when below LOSS_PPM / 1e6 of the range.
  const __u64 threshold = (__u64)LOSS_PPM * 4294967296ull / 1000000ull;
  if ((__u64)bpf_get_prandom_u32() < threshold) return TC_ACT_SHOT;
  return TC_ACT_OK;
}

SEC("delay")
int impair_delay(struct __sk_buff* skb) {
  const __u64 at = bpf_ktime_get_ns() + DELAY_NS;
  if (skb->tstamp < at) skb->tstamp = at;
  return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
