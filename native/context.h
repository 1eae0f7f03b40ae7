// A llama_context over a loaded model: the KV cache with per-sequence positions. One call runs
// at a time (lib/ queues them); prefill and generate run off the JavaScript thread.
#pragma once
#include <napi.h>

#include <atomic>
#include <memory>
#include <vector>

#include "model.h"

namespace vidlm {

struct ContextState {
  std::shared_ptr<ModelState> model;
  llama_context * ctx = nullptr;
  int nCtx = 0, nBatch = 0, nSeqMax = 1;
  std::vector<llama_pos> nPast;  // next position of each sequence
  int logitsSeq = -1;            // the sequence whose last token's logits are current, or -1
  std::atomic<bool> busy{false};
  ~ContextState();
};

// Marks a context busy for the lifetime of a worker; a second concurrent call is a bug in lib/.
class BusyGuard {
 public:
  explicit BusyGuard(std::shared_ptr<ContextState> s) : s_(std::move(s)) {}
  BusyGuard(const BusyGuard &) = delete;
  BusyGuard & operator=(const BusyGuard &) = delete;
  ~BusyGuard() { if (s_) s_->busy = false; }
  void dismiss() { s_.reset(); }  // another guard has taken over
  static std::shared_ptr<ContextState> Claim(Napi::Env env, const std::shared_ptr<ContextState> & s);

 private:
  std::shared_ptr<ContextState> s_;
};

class Context : public Napi::ObjectWrap<Context> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Object NewInstance(Napi::Env env, std::shared_ptr<ContextState> state);
  explicit Context(const Napi::CallbackInfo & info);

 private:
  std::shared_ptr<ContextState> acquire(Napi::Env env);
  Napi::Value Tokenize(const Napi::CallbackInfo & info);
  Napi::Value Detokenize(const Napi::CallbackInfo & info);
  Napi::Value Prefill(const Napi::CallbackInfo & info);
  Napi::Value PrefillMedia(const Napi::CallbackInfo & info);
  Napi::Value Generate(const Napi::CallbackInfo & info);
  Napi::Value NPast(const Napi::CallbackInfo & info);
  Napi::Value KvCopy(const Napi::CallbackInfo & info);
  Napi::Value KvTruncate(const Napi::CallbackInfo & info);
  Napi::Value Size(const Napi::CallbackInfo & info);
  Napi::Value Dispose(const Napi::CallbackInfo & info);

  std::shared_ptr<ContextState> state_;
};

// A sequence-id argument (default 0), checked against the context's sequences.
int SeqArg(Napi::Env env, const Napi::Value & v, const ContextState & s);

// What prefill and prefillMedia resolve with.
inline Napi::Object PrefillSummary(Napi::Env env, int evaluated, int nPast, double ms) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("evaluated", evaluated);
  o.Set("nPast", nPast);
  o.Set("ms", ms);
  return o;
}

// model.createContext({ contextSize, batchSize, threads, flashAttention, kvType, sequences }) -> Promise<Context>
Napi::Value CreateContext(const Napi::CallbackInfo & info, std::shared_ptr<ModelState> model);
// Workers, defined in prefill.cpp and generate.cpp.
Napi::Value StartPrefill(const Napi::CallbackInfo & info, std::shared_ptr<ContextState> state);
Napi::Value StartPrefillMedia(const Napi::CallbackInfo & info, std::shared_ptr<ContextState> state);
Napi::Value StartGenerate(const Napi::CallbackInfo & info, std::shared_ptr<ContextState> state);

}  // namespace vidlm
