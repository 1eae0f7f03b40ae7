#include "context.h"

#include <string>

#include "common.h"
#include "errors.h"
#include "log.h"
#include "options.h"
#include "worker.h"

namespace vidlm {

ContextState::~ContextState() {
  if (ctx) llama_free(ctx);
  llamaCompute.Release();  // after llama_free: the context used the pool until then
}

Napi::Function Context::Define(Napi::Env env) {
  Napi::Function fn = DefineClass(env, "Context", {
    InstanceMethod("tokenize", &Context::Tokenize),
    InstanceMethod("detokenize", &Context::Detokenize),
    InstanceMethod("prefill", &Context::Prefill),
    InstanceMethod("prefillMedia", &Context::PrefillMedia),
    InstanceMethod("generate", &Context::Generate),
    InstanceMethod("nPast", &Context::NPast),
    InstanceMethod("kvCopy", &Context::KvCopy),
    InstanceMethod("kvTruncate", &Context::KvTruncate),
    InstanceMethod("size", &Context::Size),
    InstanceMethod("setCompute", &Context::SetCompute),
    InstanceMethod("dispose", &Context::Dispose),
  });
  Data(env).contextClass = Napi::Persistent(fn);
  return fn;
}

Context::Context(const Napi::CallbackInfo & info) : Napi::ObjectWrap<Context>(info) {
  if (info.Length() < 1 || !info[0].IsExternal()) Throw(info.Env(), "ERR_INVALID_ARG", "use model.createContext()");
  state_ = *info[0].As<Napi::External<std::shared_ptr<ContextState>>>().Data();
}

Napi::Object Context::NewInstance(Napi::Env env, std::shared_ptr<ContextState> state) {
  return Data(env).contextClass.New({Napi::External<std::shared_ptr<ContextState>>::New(env, &state)});
}

std::shared_ptr<ContextState> Context::acquire(Napi::Env env) {
  if (!state_) Throw(env, "ERR_DISPOSED", "the context was disposed");
  return state_;
}

Failure KvCellsFull(ContextState & s, int seq, llama_pos start, int needed) {
  llama_memory_seq_rm(llama_get_memory(s.ctx), seq, start, -1);
  s.nPast[seq] = start;
  return {"ERR_CONTEXT_FULL",
          "the prompt needs " + std::to_string(needed) + " KV cells but the context's " + std::to_string(s.nCtx) +
              " are full (other sequences hold cells, or media on M-RoPE models take more cells than positions)",
          {{"needed", static_cast<double>(needed)}, {"contextSize", static_cast<double>(s.nCtx)}, {"sequence", static_cast<double>(seq)}}};
}

int SeqArg(Napi::Env env, const Napi::Value & v, const ContextState & s) {
  const int seq = v.IsNumber() ? v.As<Napi::Number>().Int32Value() : 0;
  if (seq < 0 || seq >= s.nSeqMax) Throw(env, "ERR_INVALID_ARG", "sequence " + std::to_string(seq) + " is out of range");
  return seq;
}

// tokenize(text, addSpecial, parseSpecial) -> Int32Array
Napi::Value Context::Tokenize(const Napi::CallbackInfo & info) {
  Napi::Env env = info.Env();
  auto s = acquire(env);
  if (!info[0].IsString()) Throw(env, "ERR_INVALID_ARG", "text must be a string");
  const std::string text = info[0].As<Napi::String>();
  const bool addSpecial = info[1].ToBoolean(), parseSpecial = info[2].ToBoolean();
  const llama_vocab * vocab = llama_model_get_vocab(s->model->model);
  std::vector<llama_token> out(text.size() + 2 * addSpecial + 1);
  int n = llama_tokenize(vocab, text.data(), text.size(), out.data(), out.size(), addSpecial, parseSpecial);
  if (n < 0) {
    out.resize(-n);
    n = llama_tokenize(vocab, text.data(), text.size(), out.data(), out.size(), addSpecial, parseSpecial);
  }
  if (n < 0) Throw(env, "ERR_TOKENIZE", "the text could not be tokenized");
  Napi::Int32Array a = Napi::Int32Array::New(env, n);
  for (int i = 0; i < n; i++) a[i] = out[i];
  return a;
}

Napi::Value Context::Detokenize(const Napi::CallbackInfo & info) {
  Napi::Env env = info.Env();
  auto s = acquire(env);
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    Throw(env, "ERR_INVALID_ARG", "tokens must be an Int32Array");
  }
  Napi::Int32Array a = info[0].As<Napi::Int32Array>();
  std::vector<llama_token> tokens(a.Data(), a.Data() + a.ElementLength());
  // llama.cpp indexes its vocabulary with the id unchecked (std::out_of_range ends the process)
  const int nVocab = llama_vocab_n_tokens(llama_model_get_vocab(s->model->model));
  for (size_t i = 0; i < tokens.size(); i++) {
    if (tokens[i] < 0 || tokens[i] >= nVocab) {
      Throw(env, "ERR_INVALID_ARG", "token " + std::to_string(i) + " is " + std::to_string(tokens[i]) +
                                        ", outside the vocabulary (0 to " + std::to_string(nVocab - 1) + ")");
    }
  }
  return Napi::String::New(env, common_detokenize(s->ctx, tokens, info[1].ToBoolean()));
}

Napi::Value Context::Prefill(const Napi::CallbackInfo & info) {
  auto s = acquire(info.Env());
  return StartPrefill(info, s, BusyGuard::Claim(info.Env(), s, s->busy, "the context"));
}

Napi::Value Context::PrefillMedia(const Napi::CallbackInfo & info) {
  auto s = acquire(info.Env());
  return StartPrefillMedia(info, s, BusyGuard::Claim(info.Env(), s, s->busy, "the context"));
}

Napi::Value Context::Generate(const Napi::CallbackInfo & info) {
  auto s = acquire(info.Env());
  return StartGenerate(info, s, BusyGuard::Claim(info.Env(), s, s->busy, "the context"));
}

Napi::Value Context::NPast(const Napi::CallbackInfo & info) {
  auto s = acquire(info.Env());
  return Napi::Number::New(info.Env(), s->nPast[SeqArg(info.Env(), info[0], *s)]);
}

// kvCopy(src, dst): dst becomes a copy of src's cache (shared cells, no recomputation).
Napi::Value Context::KvCopy(const Napi::CallbackInfo & info) {
  Napi::Env env = info.Env();
  auto s = acquire(env);
  if (s->busy) Throw(env, "ERR_INVALID_STATE", "the context is busy with another call; await it first");
  const int src = SeqArg(env, info[0], *s), dst = SeqArg(env, info[1], *s);
  llama_memory_t mem = llama_get_memory(s->ctx);
  llama_memory_seq_rm(mem, dst, -1, -1);
  llama_memory_seq_cp(mem, src, dst, -1, -1);
  s->nPast[dst] = s->nPast[src];
  return env.Undefined();
}

// kvTruncate(seq, pos): forget positions >= pos of a sequence.
Napi::Value Context::KvTruncate(const Napi::CallbackInfo & info) {
  Napi::Env env = info.Env();
  auto s = acquire(env);
  if (s->busy) Throw(env, "ERR_INVALID_STATE", "the context is busy with another call; await it first");
  const int seq = SeqArg(env, info[0], *s);
  const int pos = info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
  if (pos < 0 || pos > s->nPast[seq]) Throw(env, "ERR_INVALID_ARG", "position out of range");
  if (!llama_memory_seq_rm(llama_get_memory(s->ctx), seq, pos, -1)) Throw(env, "ERR_DECODE", "the cache could not be truncated");
  s->nPast[seq] = pos;
  if (s->logitsSeq == seq) s->logitsSeq = -1;  // the logits belonged to a token that is gone
  return env.Undefined();
}

Napi::Value Context::Size(const Napi::CallbackInfo & info) {
  auto s = acquire(info.Env());
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("contextSize", s->nCtx);
  o.Set("batchSize", s->nBatch);
  o.Set("sequences", s->nSeqMax);
  o.Set("threads", static_cast<int>(llama_n_threads(s->ctx)));
  return o;
}

// setCompute(threads, poll): what the next graphs of this context run with (a call already
// running follows at its next decode). threads >= 1; poll -1 (ggml's per-graph pool) or 0..100.
Napi::Value Context::SetCompute(const Napi::CallbackInfo & info) {
  Napi::Env env = info.Env();
  auto s = acquire(env);
  ReadCompute(env, info, s->compute);
  return env.Undefined();
}

Napi::Value Context::Dispose(const Napi::CallbackInfo & info) {
  state_.reset();
  return info.Env().Undefined();
}

namespace {

struct ContextOptions {
  int contextSize = 4096, batchSize = 2048, threads = 4, sequences = 1;
  int flashAttention = -1;  // -1 auto, 0 off, 1 on
  std::string kvType = "f16";
};

class CreateContextWorker : public PromiseWorker {
 public:
  CreateContextWorker(Napi::Env env, std::shared_ptr<ModelState> model, ContextOptions opts)
      : PromiseWorker(env, "vidlm.createContext", "ERR_CONTEXT_CREATE"), model_(std::move(model)), opts_(std::move(opts)) {}

  void Run() override {
    LogCapture log;
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = opts_.contextSize;
    cp.n_batch = opts_.batchSize;
    cp.n_ubatch = std::min(512, opts_.batchSize);  // llama.cpp's default physical batch
    cp.n_seq_max = opts_.sequences;
    cp.n_threads = cp.n_threads_batch = opts_.threads;
    cp.flash_attn_type = opts_.flashAttention < 0 ? LLAMA_FLASH_ATTN_TYPE_AUTO
                         : opts_.flashAttention ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.kv_unified = true;  // forks share the video prefix's cells
    const ggml_type kv = opts_.kvType == "q8_0" ? GGML_TYPE_Q8_0 : opts_.kvType == "f32" ? GGML_TYPE_F32 : GGML_TYPE_F16;
    cp.type_k = cp.type_v = kv;
    auto s = std::make_shared<ContextState>();
    s->model = model_;
    s->ctx = llama_init_from_model(model_->model, cp);
    if (!s->ctx) {
      return Fail("ERR_CONTEXT_CREATE", "llama.cpp could not create a context of " + std::to_string(opts_.contextSize) + " tokens, " +
                  std::to_string(opts_.sequences) + " sequences, batch " + std::to_string(opts_.batchSize) + " (" + opts_.kvType + " KV cache)", &log);
    }
    s->nCtx = static_cast<int>(llama_n_ctx(s->ctx));
    s->nBatch = static_cast<int>(llama_n_batch(s->ctx));
    s->nSeqMax = static_cast<int>(llama_n_seq_max(s->ctx));
    s->nPast.assign(s->nSeqMax, 0);
    state_ = std::move(s);
  }

  Napi::Value Result(Napi::Env env) override { return Context::NewInstance(env, std::move(state_)); }

 private:
  std::shared_ptr<ModelState> model_;
  ContextOptions opts_;
  std::shared_ptr<ContextState> state_;
};

}  // namespace

Napi::Value CreateContext(const Napi::CallbackInfo & info, std::shared_ptr<ModelState> model) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].IsObject() ? info[0].As<Napi::Object>() : Napi::Object::New(env);
  ContextOptions opts;
  opts.threads = model->threads;
  ReadOption(o, "contextSize", opts.contextSize);
  ReadOption(o, "batchSize", opts.batchSize);
  ReadOption(o, "threads", opts.threads);
  ReadOption(o, "sequences", opts.sequences);
  ReadOption(o, "flashAttention", opts.flashAttention);
  ReadOption(o, "kvType", opts.kvType);
  return (new CreateContextWorker(env, std::move(model), std::move(opts)))->Start();
}

}  // namespace vidlm
