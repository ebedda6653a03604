// Parsed<T>: the outcome of parsing untrusted bytes — a validated representation or the drop reason.
// Header-only, any core.
#pragma once

#include <cassert>
#include <utility>

#include "lib/net/counters.h"

namespace synack {

template <typename T>
class Parsed {
 public:
  Parsed(T value) : value_(std::move(value)), ok_(true) {}  // NOLINT: implicit by design
  Parsed(Drop error) : error_(error), ok_(false) {}         // NOLINT: implicit by design
  bool ok() const { return ok_; }
  Drop error() const {
    assert(!ok_);
    return error_;
  }
  const T& operator*() const {
    assert(ok_);
    return value_;
  }
  const T* operator->() const {
    assert(ok_);
    return &value_;
  }

 private:
  T value_{};
  Drop error_ = Drop::kCount;
  bool ok_;
};

}  // namespace synack
