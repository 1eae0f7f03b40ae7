#include "progress.h"

#include "worker.h"

namespace vidlm {

Progress::Progress(Napi::Env env, const Napi::Value & callback, const char * name) {
  if (!callback.IsFunction()) return;
  tsfn_ = Napi::ThreadSafeFunction::New(env, callback.As<Napi::Function>(), name, 0, 1);
  tsfn_.Unref(env);  // progress alone must not keep the process alive
  active_ = true;
}

Progress::~Progress() { release(); }

void Progress::release() {
  if (active_) {
    active_ = false;
    tsfn_.Release();
  }
}

void Progress::abandon() { active_ = false; }

void Progress::report(float fraction) {
  if (!active_) return;
  const int pct = static_cast<int>(fraction * 100.0f);
  int prev = last_.load();
  if (pct <= prev || !last_.compare_exchange_strong(prev, pct)) return;
  tsfn_.NonBlockingCall([fraction](Napi::Env env, Napi::Function fn) {
    if (env != nullptr) CallQuietly(env, fn, Napi::Number::New(env, fraction));
  });
}

}  // namespace vidlm
