// The native half of an AbortSignal: lib/native.ts forwards the signal's 'abort' event to
// token.abort(); workers poll the shared flag between steps and in llama.cpp's callbacks.
#pragma once
#include <napi.h>

#include <atomic>
#include <memory>

#include "work_registry.h"

namespace vidlm {

class AbortToken : public Napi::ObjectWrap<AbortToken> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit AbortToken(const Napi::CallbackInfo & info);
  const AbortFlag & flag() const { return flag_; }

  // The flag of an optional AbortToken argument; a fresh, never-set flag when absent.
  static AbortFlag From(Napi::Env env, const Napi::Value & value);

 private:
  Napi::Value Abort(const Napi::CallbackInfo & info);
  Napi::Value Aborted(const Napi::CallbackInfo & info);
  AbortFlag flag_;
};

inline bool IsAborted(const AbortFlag & f) { return f && f->load(std::memory_order_relaxed); }

}  // namespace vidlm
