#include "lib/tcp/seq_ranges.h"

namespace synack {

int64_t SeqRanges::Add(SeqNum left, SeqNum right) {
  if (!(left < right)) return 0;
  // First range whose right edge reaches `left` (it touches or overlaps, or lies beyond).
  int i = 0;
  while (i < n_ && r_[i].right < left) ++i;
  // Ranges [i, j) overlap or touch [left, right).
  int j = i;
  while (j < n_ && r_[j].left <= right) ++j;
  if (i == j) {  // disjoint: insert at i
    if (n_ == kCapacity) return -1;
    for (int k = n_; k > i; --k) r_[k] = r_[k - 1];
    r_[i] = SeqRange{left, right};
    ++n_;
    return right - left;
  }
  uint32_t covered_before = 0;
  for (int k = i; k < j; ++k) {
    const SeqNum l = SeqMax(r_[k].left, left), r = SeqMin(r_[k].right, right);
    if (l < r) covered_before += static_cast<uint32_t>(r - l);
  }
  const SeqRange merged{SeqMin(r_[i].left, left), SeqMax(r_[j - 1].right, right)};
  r_[i] = merged;
  const int removed = j - i - 1;
  for (int k = i + 1; k + removed < n_; ++k) r_[k] = r_[k + removed];
  n_ -= removed;
  return static_cast<int64_t>(right - left) - covered_before;
}

void SeqRanges::RemoveBelow(SeqNum seq) {
  int drop = 0;
  while (drop < n_ && r_[drop].right <= seq) ++drop;
  for (int k = 0; k + drop < n_; ++k) r_[k] = r_[k + drop];
  n_ -= drop;
  if (n_ > 0 && r_[0].left < seq) r_[0].left = seq;
}

const SeqRange* SeqRanges::Find(SeqNum seq) const {
  for (int i = 0; i < n_; ++i) {
    if (InHalfOpen(r_[i].left, seq, r_[i].right)) return &r_[i];
  }
  return nullptr;
}

bool SeqRanges::Covers(SeqNum left, SeqNum right) const {
  if (!(left < right)) return true;
  for (int i = 0; i < n_; ++i) {
    if (r_[i].left <= left && right <= r_[i].right) return true;
  }
  return false;
}

uint32_t SeqRanges::Bytes() const {
  uint32_t n = 0;
  for (int i = 0; i < n_; ++i) n += r_[i].size();
  return n;
}

uint32_t SeqRanges::BytesAbove(SeqNum seq) const {
  uint32_t n = 0;
  for (int i = n_ - 1; i >= 0; --i) {
    if (r_[i].right <= seq) break;
    n += static_cast<uint32_t>(r_[i].right - SeqMax(r_[i].left, seq));
  }
  return n;
}

}  // namespace synack
