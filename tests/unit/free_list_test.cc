// FreeList: a fresh list hands out 0 .. capacity-1 in order and then kNone (exactly `capacity` takes),
// a returned index is handed out next (last in, first out), and the sizes it reports.
#include "lib/base/free_list.h"

#include <gtest/gtest.h>

namespace synack {
namespace {

TEST(FreeList, HandsOutEveryIndexOnceLowestFirst) {
  FreeList f(3);
  EXPECT_EQ(f.size(), 3u);
  EXPECT_EQ(f.Take(), 0u);
  EXPECT_EQ(f.Take(), 1u);
  EXPECT_FALSE(f.empty());  // one left
  EXPECT_EQ(f.Take(), 2u);
  EXPECT_TRUE(f.empty());  // none left
  EXPECT_EQ(f.Take(), FreeList::kNone);
  EXPECT_EQ(f.size(), 0u);
  EXPECT_EQ(f.MemoryBytes(), 3 * sizeof(uint32_t));
}

TEST(FreeList, ReturnedIndexComesBackFirst) {
  FreeList f(4);
  for (int i = 0; i < 4; ++i) f.Take();
  f.Put(3);
  f.Put(1);
  EXPECT_EQ(f.size(), 2u);
  EXPECT_EQ(f.Take(), 1u);
  EXPECT_EQ(f.Take(), 3u);
  EXPECT_EQ(f.Take(), FreeList::kNone);
}

TEST(FreeList, EmptyPool) {
  FreeList f(0);
  EXPECT_TRUE(f.empty());
  EXPECT_EQ(f.Take(), FreeList::kNone);
}

}  // namespace
}  // namespace synack
