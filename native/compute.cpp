#include "compute.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "errors.h"
#include "ggml-backend.h"

namespace vidlm {

void ReadCompute(Napi::Env env, const Napi::CallbackInfo & info, ComputeSettings & dst) {
  const int threads = info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
  const int poll = info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : -1;
  if (threads < 1 || threads > 1024) Throw(env, "ERR_INVALID_ARG", "threads must be 1 to 1024, got " + std::to_string(threads));
  if (poll < -1 || poll > 100) Throw(env, "ERR_INVALID_ARG", "poll must be -1 or 0 to 100, got " + std::to_string(poll));
  dst.threads.store(threads);
  dst.poll.store(poll);
}

namespace {

struct Counters {
  std::atomic<uint64_t> graphs{0}, perGraphPool{0}, poolsMade{0}, threadChanges{0};
};
Counters & Count() {
  static Counters c;
  return c;
}

// The CPU backend's pool functions through its registry, as llama.cpp's common does: in the
// prebuilt packages the CPU backend is a plug-in that vidlm.node does not link.
struct PoolFns {
  decltype(ggml_threadpool_new) * make = nullptr;
  decltype(ggml_threadpool_free) * free = nullptr;
};

const PoolFns & Pools() {
  static const PoolFns fns = [] {
    PoolFns f;
    ggml_backend_dev_t dev = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
    ggml_backend_reg_t reg = dev ? ggml_backend_dev_backend_reg(dev) : nullptr;
    if (!reg) return f;
    f.make = reinterpret_cast<decltype(ggml_threadpool_new) *>(ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_new"));
    f.free = reinterpret_cast<decltype(ggml_threadpool_free) *>(ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_free"));
    if (!f.make || !f.free) f = {};
    return f;
  }();
  return fns;
}

}  // namespace

LlamaCompute::~LlamaCompute() { Release(); }

void LlamaCompute::Release() {
  if (Pools().free) {
    for (const Pool & e : pools_) Pools().free(e.pool);
  }
  pools_.clear();
  current_ = nullptr;
}

void LlamaCompute::Apply(llama_context * ctx, const ComputeSettings & want) {
  const int t = want.threads.load(std::memory_order_relaxed);
  const int p = want.poll.load(std::memory_order_relaxed);
  Count().graphs++;
  if (t > 0 && t != static_cast<int>(llama_n_threads(ctx))) {
    llama_set_n_threads(ctx, t, t);
    Count().threadChanges++;
  }
  const int n = static_cast<int>(llama_n_threads(ctx));
  if (p < 0) {
    if (current_) {
      llama_detach_threadpool(ctx);  // the pool stays alive: the backend pauses it at the next graph
      current_ = nullptr;
    }
    if (n > 1) Count().perGraphPool++;
    return;
  }
  ggml_threadpool * next = nullptr;
  for (const Pool & e : pools_) {
    if (e.threads == n && e.poll == p) next = e.pool;
  }
  if (next && next == current_) return;
  if (!next) {
    ggml_threadpool_params tp = ggml_threadpool_params_default(n);
    tp.poll = static_cast<uint32_t>(p);
    next = Pools().make ? Pools().make(&tp) : nullptr;
    if (!next) {  // no CPU backend pool functions: ggml's per-graph pool, as without poll
      if (n > 1) Count().perGraphPool++;
      return;
    }
    Count().poolsMade++;
    pools_.push_back({n, p, next});
  }
  llama_attach_threadpool(ctx, next, next);
  current_ = next;
}

Napi::Value ComputeCounters(const Napi::CallbackInfo & info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("graphs", static_cast<double>(Count().graphs.load()));
  o.Set("perGraphPool", static_cast<double>(Count().perGraphPool.load()));
  o.Set("poolsMade", static_cast<double>(Count().poolsMade.load()));
  o.Set("threadChanges", static_cast<double>(Count().threadChanges.load()));
  return o;
}

namespace {

// The members of libmtmd's struct mtmd_context (tools/mtmd/mtmd.cpp) up to n_threads, in order.
struct MtmdContextHead {
  void * ctx_v;
  void * ctx_a;
  std::vector<float> out_embd;
  void * ctx_gen_a;
  std::vector<int32_t> gen_out_codes;
  std::vector<float> gen_out_feats;
  std::vector<float> gen_out_embd;
  std::vector<float> gen_out_audio;
  std::vector<uint8_t> gen_out_state;
  bool print_timings;
  int n_threads;
};

int * MtmdThreads(mtmd_context * m) {
  return reinterpret_cast<int *>(reinterpret_cast<char *>(m) + offsetof(MtmdContextHead, n_threads));
}

}  // namespace

bool CheckMtmdLayout(mtmd_context * m, int threads, bool vision, bool audio) {
  if (!m) return false;
  const auto * h = reinterpret_cast<const MtmdContextHead *>(m);
  // loadModel made it with print_timings false, `threads` threads, and encoders where libmtmd says
  return *MtmdThreads(m) == threads && !h->print_timings && (h->ctx_v != nullptr) == vision && (h->ctx_a != nullptr) == audio;
}

void ApplyMtmdThreads(mtmd_context * m, bool layoutOk, int threads) {
  if (m && layoutOk && threads > 0) *MtmdThreads(m) = threads;
}

}  // namespace vidlm
