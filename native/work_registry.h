// The native calls one JavaScript environment (the main thread, or one worker_thread) has
// started. Tearing that environment down (worker.terminate(), process exit) aborts them and
// waits until none is still executing, so no worker thread touches the environment's
// thread-safe functions or buffers once it is gone; work that had not started yet skips its
// body. Completion callbacks that arrive during teardown settle nothing (see worker.h).
#pragma once
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <unordered_set>

namespace vidlm {

using AbortFlag = std::shared_ptr<std::atomic<bool>>;

class WorkRegistry {
 public:
  // JS thread, when a call is queued: its abort flag is set on teardown.
  void add(const AbortFlag & flag) {
    std::lock_guard<std::mutex> lock(m_);
    flags_.insert(flag.get());
    if (closing_) flag->store(true);
  }
  // Worker thread, first thing in Execute: false once the environment is closing (skip the work).
  bool enter() {
    std::lock_guard<std::mutex> lock(m_);
    if (closing_) return false;
    executing_++;
    return true;
  }
  // Worker thread, last thing in Execute (only after enter() returned true).
  void leave() {
    std::lock_guard<std::mutex> lock(m_);
    if (--executing_ == 0) idle_.notify_all();  // under the lock: the waiter cannot free us first
  }
  // When a call is done with its flag (its worker is destroyed).
  void remove(const AbortFlag & flag) {
    std::lock_guard<std::mutex> lock(m_);
    auto it = flags_.find(flag.get());
    if (it != flags_.end()) flags_.erase(it);
  }
  // The environment's cleanup hook: abort everything, wait for running bodies to return.
  void closeAndWait() {
    std::unique_lock<std::mutex> lock(m_);
    closing_ = true;
    for (std::atomic<bool> * f : flags_) f->store(true);
    idle_.wait(lock, [this] { return executing_ == 0; });
  }
  bool closing() {
    std::lock_guard<std::mutex> lock(m_);
    return closing_;
  }

 private:
  std::mutex m_;
  std::condition_variable idle_;
  std::unordered_multiset<std::atomic<bool> *> flags_;
  int executing_ = 0;
  bool closing_ = false;
};

}  // namespace vidlm
