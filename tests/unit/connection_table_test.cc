// ConnectionTable: records constructed once from the arguments and left as the caller put them, indices
// handed out from 0 and then last-freed-first, exactly `capacity` live (one more refused), a ConnId found
// only while its record is live and of its generation (stale after Free, also once the index is reused,
// and out of range), and the memory it reports.
#include "lib/core/connection_table.h"

#include <gtest/gtest.h>

namespace synack {
namespace {

struct Record {
  explicit Record(int v) : value(v) {}
  int value;
};

TEST(ConnectionTable, HandsOutExactlyItsCapacity) {
  ConnectionTable<Record> t(3, 7);
  EXPECT_EQ(t.capacity(), 3u);
  EXPECT_EQ(t.live(), 0u);
  EXPECT_EQ(t.Alloc(), 0u);
  EXPECT_EQ(t.Alloc(), 1u);
  EXPECT_FALSE(t.full());  // capacity - 1 live
  EXPECT_EQ(t.Alloc(), 2u);
  EXPECT_TRUE(t.full());  // capacity live
  EXPECT_EQ(t.live(), 3u);
  EXPECT_EQ(t.Alloc(), ConnectionTable<Record>::kNone);
  t.Free(1);
  EXPECT_FALSE(t.full());
  EXPECT_EQ(t.Alloc(), 1u);
}

TEST(ConnectionTable, FreedIndicesComeBackLastFirst) {
  ConnectionTable<Record> t(4, 0);
  for (int i = 0; i < 4; ++i) t.Alloc();
  t.Free(2);
  t.Free(0);
  EXPECT_EQ(t.Alloc(), 0u);
  EXPECT_EQ(t.Alloc(), 2u);
  EXPECT_EQ(t.Alloc(), ConnectionTable<Record>::kNone);
}

TEST(ConnectionTable, RecordsAreBuiltOnceAndKeptAsLeft) {
  ConnectionTable<Record> t(2, 42);
  EXPECT_EQ(t[0].value, 42);
  EXPECT_EQ(t[1].value, 42);
  const uint32_t i = t.Alloc();
  t[i].value = 5;
  t.Free(i);
  EXPECT_EQ(t.Alloc(), i);
  EXPECT_EQ(t[i].value, 5);  // the caller resets what it needs
}

TEST(ConnectionTable, FindOnlyTheLiveGeneration) {
  ConnectionTable<Record> t(2, 0);
  EXPECT_EQ(t.Find(ConnId{0, 0}), nullptr);  // free
  const uint32_t i = t.Alloc();
  const ConnId first = t.IdOf(i);
  EXPECT_TRUE(t.in_use(i));
  ASSERT_EQ(t.Find(first), &t[i]);
  EXPECT_EQ(t.Find(ConnId{i, first.generation + 1}), nullptr);  // a later generation
  EXPECT_EQ(t.Find(ConnId{2, 0}), nullptr);                     // index == capacity
  EXPECT_EQ(t.Find(ConnId{}), nullptr);                         // the invalid id
  t.Free(i);
  EXPECT_FALSE(t.in_use(i));
  EXPECT_EQ(t.Find(first), nullptr);  // stale at once
  ASSERT_EQ(t.Alloc(), i);            // the index again, a new generation
  const ConnId second = t.IdOf(i);
  EXPECT_NE(second, first);
  EXPECT_EQ(second.index, first.index);
  EXPECT_EQ(t.Find(first), nullptr);  // still stale
  EXPECT_EQ(t.Find(second), &t[i]);
  const ConnectionTable<Record>& ct = t;
  EXPECT_EQ(ct.Find(second), &t[i]);
}

TEST(ConnectionTable, ReportsItsFixedMemory) {
  ConnectionTable<Record> t(10, 0);
  EXPECT_EQ(t.MemoryBytes(), 10 * ConnectionTable<Record>::kSlotBytes + 10 * sizeof(uint32_t));
  EXPECT_GE(ConnectionTable<Record>::kSlotBytes, sizeof(Record) + sizeof(uint32_t) + 1);
  for (int i = 0; i < 10; ++i) t.Alloc();
  EXPECT_EQ(t.MemoryBytes(), 10 * ConnectionTable<Record>::kSlotBytes + 10 * sizeof(uint32_t));
}

}  // namespace
}  // namespace synack
