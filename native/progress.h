// Reports a fraction in [0, 1] from a worker thread to a JavaScript callback without blocking
// the worker: calls are non-blocking and throttled to changes of at least 1%.
#pragma once
#include <napi.h>

#include <atomic>

namespace vidlm {

class Progress {
 public:
  Progress(Napi::Env env, const Napi::Value & callback, const char * name);
  ~Progress();
  void report(float fraction);  // any thread
  void release();               // JS thread, once the work is done
  void abandon();               // environment teardown: Node frees the function itself

 private:
  Napi::ThreadSafeFunction tsfn_;
  bool active_ = false;
  std::atomic<int> last_{-1};
};

}  // namespace vidlm
