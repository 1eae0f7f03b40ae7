// One call at a time on a native resource that is not thread-safe: a llama_context (its KV
// cache and logits) or a model's mtmd_context (libmtmd's encoder keeps per-call state; two
// encodes at once corrupt the heap). lib/ queues the calls of each resource; a concurrent call
// that gets here anyway is refused with ERR_INVALID_ARG instead of racing.
#pragma once
#include <napi.h>

#include <atomic>
#include <memory>
#include <string>
#include <utility>

#include "errors.h"

namespace vidlm {

class BusyGuard {
 public:
  BusyGuard() = default;
  // JS thread: marks `flag` (which `owner` keeps alive) busy until the guard goes, or throws.
  static BusyGuard Claim(Napi::Env env, std::shared_ptr<void> owner, std::atomic<bool> & flag, const char * what) {
    bool expected = false;
    if (!flag.compare_exchange_strong(expected, true)) {
      Throw(env, "ERR_INVALID_STATE", std::string(what) + " is busy with another call; await it first");
    }
    BusyGuard g;
    g.owner_ = std::move(owner);
    g.flag_ = &flag;
    return g;
  }
  BusyGuard(BusyGuard && o) noexcept : owner_(std::move(o.owner_)), flag_(std::exchange(o.flag_, nullptr)) {}
  BusyGuard & operator=(BusyGuard && o) noexcept {
    if (this != &o) {
      release();
      owner_ = std::move(o.owner_);
      flag_ = std::exchange(o.flag_, nullptr);
    }
    return *this;
  }
  BusyGuard(const BusyGuard &) = delete;
  BusyGuard & operator=(const BusyGuard &) = delete;
  ~BusyGuard() { release(); }

 private:
  void release() {
    if (flag_) flag_->store(false);
    flag_ = nullptr;
    owner_.reset();
  }
  std::shared_ptr<void> owner_;
  std::atomic<bool> * flag_ = nullptr;
};

}  // namespace vidlm
