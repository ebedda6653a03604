// SeqRanges: a small, bounded set of disjoint sequence-number ranges [left, right), kept sorted and
// merged — the receiver's record of out-of-order data it holds (what its SACK blocks report) and the
// sender's record of what the peer SACKed (its scoreboard). At most kCapacity ranges: an Add that would
// need more is refused (the caller drops that segment or that SACK information; TCP recovers either way),
// so a hostile peer cannot make it grow. No allocation; plain value. Owned by one connection.
#pragma once

#include <array>
#include <cstdint>

#include "lib/tcp/seq.h"

namespace synack {

struct SeqRange {
  SeqNum left;
  SeqNum right;  // exclusive
  uint32_t size() const { return static_cast<uint32_t>(right - left); }
  friend bool operator==(const SeqRange&, const SeqRange&) = default;
};

class SeqRanges {
 public:
  static constexpr int kCapacity = 8;

  // Adds [left, right) (left < right), merging with ranges it overlaps or touches. Returns the bytes
  // not already covered, or -1 (nothing changed) when the result would need more than kCapacity ranges.
  int64_t Add(SeqNum left, SeqNum right);
  // Forgets everything below `seq` (trimming a range that straddles it).
  void RemoveBelow(SeqNum seq);
  void Clear() { n_ = 0; }

  bool empty() const { return n_ == 0; }
  int count() const { return n_; }
  const SeqRange& operator[](int i) const { return r_[i]; }
  // The range containing `seq`, or null.
  const SeqRange* Find(SeqNum seq) const;
  // Whether [left, right) is entirely covered.
  bool Covers(SeqNum left, SeqNum right) const;
  // Bytes covered in total, and at or above `seq`.
  uint32_t Bytes() const;
  uint32_t BytesAbove(SeqNum seq) const;
  // Bytes covered within [left, right).
  uint32_t BytesIn(SeqNum left, SeqNum right) const { return left < right ? BytesAbove(left) - BytesAbove(right) : 0; }
  // The highest right edge (meaningful only when not empty).
  SeqNum Highest() const { return r_[n_ - 1].right; }

 private:
  std::array<SeqRange, kCapacity> r_{};
  int n_ = 0;
};

}  // namespace synack
