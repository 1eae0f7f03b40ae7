// A llama_context over a loaded model: the KV cache with per-sequence positions. One call runs
// at a time (lib/ queues them); prefill and generate run off the JavaScript thread.
#pragma once
#include <napi.h>

#include <atomic>
#include <memory>
#include <vector>

#include "busy.h"
#include "compute.h"
#include "errors.h"
#include "model.h"

namespace vidlm {

struct ContextState {
  std::shared_ptr<ModelState> model;
  llama_context * ctx = nullptr;
  int nCtx = 0, nBatch = 0, nSeqMax = 1;
  std::vector<llama_pos> nPast;  // next position of each sequence
  int logitsSeq = -1;            // the sequence whose last token's logits are current, or -1
  std::atomic<bool> busy{false};  // BusyGuard: one call at a time
  ComputeSettings compute;        // threads and polling for the next graphs (setCompute)
  LlamaCompute llamaCompute;      // worker thread, under the busy claim
  ~ContextState();
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
  Napi::Value SetCompute(const Napi::CallbackInfo & info);
  Napi::Value Dispose(const Napi::CallbackInfo & info);

  std::shared_ptr<ContextState> state_;
};

// A sequence-id argument (default 0), checked against the context's sequences.
int SeqArg(Napi::Env env, const Napi::Value & v, const ContextState & s);

// llama_decode found no free KV cell (it returned 1) although the sequence's positions fit: other
// sequences hold cells, or M-RoPE media take more cells than positions. What the call evaluated of
// `seq` since `start` is taken back; the failure is ERR_CONTEXT_FULL, as the check before the work
// refuses a plan, with `needed` the cells the call asked for.
Failure KvCellsFull(ContextState & s, int seq, llama_pos start, int needed);

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
// Workers, defined in prefill.cpp, prefill_media.cpp and generate.cpp; `busy` is the claim on
// the context, which the worker holds until it is done.
Napi::Value StartPrefill(const Napi::CallbackInfo & info, std::shared_ptr<ContextState> state, BusyGuard busy);
Napi::Value StartPrefillMedia(const Napi::CallbackInfo & info, std::shared_ptr<ContextState> state, BusyGuard busy);
Napi::Value StartGenerate(const Napi::CallbackInfo & info, std::shared_ptr<ContextState> state, BusyGuard busy);

}  // namespace vidlm
