// MbufChain (the send queue, with range cursors) and MbufQueue (the receive queue, without) against a
// plain byte vector: random appends, front drops and ranges read forward (as the transmit path does) and
// backward (as retransmissions do) must see exactly the reference bytes, and every segment returns to
// the pool.
#include "lib/base/mbuf_chain.h"

#include <cstring>
#include <deque>
#include <random>
#include <vector>

#include <gtest/gtest.h>
#include <rte_mempool.h>

#include "tests/eal_env.h"

namespace synack {
namespace {

template <typename Chain>
std::vector<uint8_t> Read(const Chain& c, uint32_t off, uint32_t len) {
  std::vector<uint8_t> out;
  c.ForRange(off, len, [&](rte_mbuf* seg, uint16_t o, uint16_t n) {
    ASSERT_LE(o + n, seg->data_len);
    const uint8_t* p = rte_pktmbuf_mtod_offset(seg, const uint8_t*, o);
    out.insert(out.end(), p, p + n);
  });
  return out;
}

template <typename Chain>
class MbufChainTest : public ::testing::Test {};
using ChainTypes = ::testing::Types<MbufChain, MbufQueue>;
TYPED_TEST_SUITE(MbufChainTest, ChainTypes);

TYPED_TEST(MbufChainTest, RangesMatchAReferenceThroughAppendsAndDrops) {
  rte_mempool* pool = testing::TestPool();
  const unsigned in_use = rte_mempool_in_use_count(pool);
  std::mt19937 rng(5);
  {
    TypeParam chain;
    std::deque<uint8_t> ref;
    uint8_t next = 0;
    uint32_t sent = 0;  // like SND.NXT - SND.UNA: the transmit path's forward position
    for (int step = 0; step < 4000; ++step) {
      const int op = static_cast<int>(rng() % 10);
      if (op < 4 && chain.segments() < 500) {  // append 1..1500 bytes, sometimes as two segments
        Mbuf m = Mbuf::Alloc(pool);
        ASSERT_TRUE(m);
        const uint16_t n = static_cast<uint16_t>(1 + rng() % 1500);
        uint8_t* p = m.Append(n);
        for (uint16_t i = 0; i < n; ++i) ref.push_back(p[i] = next++);
        chain.Append(std::move(m));
      } else if (op < 6 && !ref.empty()) {  // acknowledge some bytes
        const uint32_t n = static_cast<uint32_t>(rng() % (ref.size() + 1));
        chain.DropFront(n);
        ref.erase(ref.begin(), ref.begin() + n);
        sent = sent > n ? sent - n : 0;
      } else if (!ref.empty()) {  // transmit forward, or retransmit from the front
        const bool retransmit = op == 9;
        const uint32_t off = retransmit ? 0 : std::min<uint32_t>(sent, static_cast<uint32_t>(ref.size()));
        const uint32_t len =
            std::min<uint32_t>(static_cast<uint32_t>(1 + rng() % 3000), static_cast<uint32_t>(ref.size()) - off);
        const std::vector<uint8_t> want(ref.begin() + off, ref.begin() + off + len);
        ASSERT_EQ(Read(chain, off, len), want) << "step " << step << " off " << off << " len " << len;
        if (!retransmit) sent = off + len;
      }
      ASSERT_EQ(chain.size(), ref.size());
    }
    std::vector<uint8_t> all(ref.size());
    ASSERT_EQ(chain.CopyFront(MutableBytes(all.data(), all.size())), ref.size());
    EXPECT_TRUE(std::equal(all.begin(), all.end(), ref.begin()));
  }
  EXPECT_EQ(rte_mempool_in_use_count(pool), in_use);
}

}  // namespace
}  // namespace synack
