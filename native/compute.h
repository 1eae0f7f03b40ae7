// Threads and waiting mode of ggml's CPU work, set per call from JavaScript (lib/threads decides;
// docs/deploy.md). The JS thread stores the wanted values; the worker running a call applies them
// before each graph (a decode, an encoder batch), so a call already running follows when lib/
// rebalances its budget between concurrent calls.
#pragma once
#include <napi.h>

#include <atomic>
#include <vector>

#include "ggml-cpu.h"
#include "llama.h"
#include "mtmd.h"

namespace vidlm {

struct ComputeSettings {
  std::atomic<int> threads{0};  // 0: leave as created
  std::atomic<int> poll{-1};    // -1: ggml's own per-graph thread pool; 0..100: a persistent pool polling at that level
};

// setCompute(threads, poll?) arguments, checked (ERR_INVALID_ARG) and stored.
void ReadCompute(Napi::Env env, const Napi::CallbackInfo & info, ComputeSettings & dst);

// A llama_context's threads: llama_set_n_threads, and the attached ggml threadpool when a polling
// level is set. Worker thread only, with the context claimed (BusyGuard).
class LlamaCompute {
 public:
  ~LlamaCompute();
  void Apply(llama_context * ctx, const ComputeSettings & want);
  // Frees the pools; call after llama_free (the context may still point at them until then).
  void Release();

 private:
  // Every pool made for this context, one per (threads, poll), kept until Release: llama_attach_threadpool
  // only records the new pool, and the CPU backend still points at the one before until its next graph,
  // when it pauses that one (ggml_backend_cpu_set_threadpool). A pool freed at the switch was paused after
  // its free: a use after free that hung llama_decode on the freed pool's mutex (test/threads/concurrent,
  // two asks at once, the budget moving a context between 1 and 2 threads). A paused pool resumes when
  // it is attached again.
  struct Pool {
    int threads, poll;
    ggml_threadpool * pool;
  };
  std::vector<Pool> pools_;
  ggml_threadpool * current_ = nullptr;
};

// libmtmd fixes its encoder's thread count at mtmd_init and has no setter. vidlm mirrors the head
// of its private struct (pinned llama.cpp tree) to change it between calls; CheckMtmdLayout proves
// the mirror against the values the context was made with, and where it does not match the count
// stays what loadModel set.
// computeCounters(): what LlamaCompute did, process-wide since load (tests: a generated token must
// not start threads of its own, nor change the thread count when the grant did not move).
//   graphs        LLM graphs run through Apply (one per llama_decode)
//   perGraphPool  of those, graphs with more than one thread and no persistent pool: ggml starts and
//                 joins that many threads for the one graph (under load a new thread waits for a core)
//   poolsMade     persistent pools made (a new one only when the count or polling level moves)
//   threadChanges llama_set_n_threads calls
Napi::Value ComputeCounters(const Napi::CallbackInfo & info);

bool CheckMtmdLayout(mtmd_context * m, int threads, bool vision, bool audio);
// Worker thread, with the encoder claimed; a no-op where the layout check failed or threads <= 0.
void ApplyMtmdThreads(mtmd_context * m, bool layoutOk, int threads);

}  // namespace vidlm
