// EventQueue: oldest first, exactly `capacity` events held (the next refused, nothing overwritten), and
// order kept across the ring's wrap-around.
#include "lib/core/event_queue.h"

#include <gtest/gtest.h>

namespace synack {
namespace {

QueuedEvent Ev(uint32_t i) {
  return QueuedEvent{i, EventType::kReadable, TcpError::kNone, static_cast<uint16_t>(80 + i)};
}

TEST(EventQueue, HoldsExactlyItsCapacityOldestFirst) {
  EventQueue q(3);
  QueuedEvent e;
  EXPECT_FALSE(q.Pop(&e));
  EXPECT_TRUE(q.Push(Ev(1)));
  EXPECT_TRUE(q.Push(Ev(2)));
  EXPECT_TRUE(q.Push(Ev(3)));   // capacity: accepted
  EXPECT_FALSE(q.Push(Ev(4)));  // one over: refused
  EXPECT_EQ(q.size(), 3u);
  for (uint32_t want : {1u, 2u, 3u}) {
    ASSERT_TRUE(q.Pop(&e));
    EXPECT_EQ(e.index, want);
    EXPECT_EQ(e.local_port, 80 + want);
  }
  EXPECT_FALSE(q.Pop(&e));
}

TEST(EventQueue, KeepsOrderAcrossTheWrap) {
  EventQueue q(4);
  QueuedEvent e;
  uint32_t next_in = 0, next_out = 0;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(q.Push(Ev(next_in++)));
    for (int i = 0; i < (round % 2 == 0 ? 2 : 4) && q.Pop(&e); ++i) ASSERT_EQ(e.index, next_out++);
    while (q.size() > 1) ASSERT_TRUE(q.Pop(&e) && e.index == next_out++);
  }
  while (q.Pop(&e)) ASSERT_EQ(e.index, next_out++);
  EXPECT_EQ(next_out, next_in);
}

}  // namespace
}  // namespace synack
