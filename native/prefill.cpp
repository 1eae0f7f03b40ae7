// context.prefill(items, seq, abortToken?, onProgress?): evaluates a sequence plan (text tokens
// and embedding blocks, in order) at 1-D positions after the sequence's current end. The token
// count is checked against the context before anything is evaluated.
#include <chrono>
#include <string>
#include <vector>

#include "abort_token.h"
#include "context.h"
#include "errors.h"
#include "log.h"
#include "progress.h"
#include "worker.h"

namespace vidlm {

namespace {

struct Item {
  std::vector<llama_token> tokens;     // text item
  const float * embd = nullptr;        // embedding item: rows of n_embd floats, owned by JS
  int count = 0;
  bool nonCausal = false;
};

class PrefillWorker : public PromiseWorker {
 public:
  PrefillWorker(Napi::Env env, std::shared_ptr<ContextState> s, std::vector<Item> items, std::vector<Napi::ObjectReference> keep,
                int seq, AbortFlag abort, const Napi::Value & onProgress)
      : PromiseWorker(env, "vidlm.prefill", "ERR_DECODE"), s_(std::move(s)),
        guard_(s_), items_(std::move(items)), keep_(std::move(keep)), seq_(seq), abort_(std::move(abort)),
        progress_(env, onProgress, "vidlm.prefill.progress") {}

  void Execute() override {
    LogCapture log;
    const auto t0 = std::chrono::steady_clock::now();
    const int dim = llama_model_n_embd_inp(s_->model->model);
    int total = 0;
    for (const Item & it : items_) total += it.embd ? it.count : static_cast<int>(it.tokens.size());
    int done = 0;
    std::vector<llama_pos> pos(s_->nBatch);
    std::vector<int32_t> nseq(s_->nBatch, 1);
    std::vector<llama_seq_id> seqv(s_->nBatch, seq_);
    std::vector<llama_seq_id *> seqp(s_->nBatch);
    for (int i = 0; i < s_->nBatch; i++) seqp[i] = &seqv[i];
    std::vector<int8_t> logits(s_->nBatch, 0);

    for (size_t k = 0; k < items_.size(); k++) {
      Item & it = items_[k];
      const int n = it.embd ? it.count : static_cast<int>(it.tokens.size());
      if (it.embd && it.nonCausal) llama_set_causal_attn(s_->ctx, false);
      for (int off = 0; off < n; off += s_->nBatch) {
        if (IsAborted(abort_)) return Fail("ERR_ABORTED", "aborted: prefill was cancelled");
        const int m = std::min(s_->nBatch, n - off);
        for (int i = 0; i < m; i++) {
          pos[i] = s_->nPast[seq_] + i;
          logits[i] = 0;
        }
        // logits only for the plan's very last token: generation starts from it
        if (k + 1 == items_.size() && off + m == n) logits[m - 1] = 1;
        llama_batch b{};
        b.n_tokens = m;
        b.token = it.embd ? nullptr : it.tokens.data() + off;
        b.embd = it.embd ? const_cast<float *>(it.embd) + static_cast<size_t>(off) * dim : nullptr;
        b.pos = pos.data();
        b.n_seq_id = nseq.data();
        b.seq_id = seqp.data();
        b.logits = logits.data();
        s_->logitsSeq = -1;
        const int rc = llama_decode(s_->ctx, b);
        if (rc != 0) {
          if (it.embd && it.nonCausal) llama_set_causal_attn(s_->ctx, true);
          return Fail("ERR_DECODE", "llama_decode failed (" + std::to_string(rc) + ")", &log);
        }
        s_->nPast[seq_] += m;
        done += m;
        progress_.report(static_cast<float>(done) / total);
      }
      if (it.embd && it.nonCausal) llama_set_causal_attn(s_->ctx, true);
    }
    evaluated_ = done;
    s_->logitsSeq = seq_;
    ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }

  Napi::Value Result(Napi::Env env) override { return PrefillSummary(env, evaluated_, s_->nPast[seq_], ms_); }
  void Settled() override {
    progress_.release();
    for (auto & r : keep_) r.Reset();
  }

 private:
  std::shared_ptr<ContextState> s_;
  BusyGuard guard_;
  std::vector<Item> items_;
  std::vector<Napi::ObjectReference> keep_;  // the embedding arrays stay alive while we read them
  int seq_;
  AbortFlag abort_;
  Progress progress_;
  int evaluated_ = 0;
  double ms_ = 0;
};

}  // namespace

Napi::Value StartPrefill(const Napi::CallbackInfo & info, std::shared_ptr<ContextState> s) {
  Napi::Env env = info.Env();
  BusyGuard release(s);  // until the worker owns it
  if (!info[0].IsArray()) Throw(env, "ERR_INVALID_ARG", "items must be an array");
  const int seq = SeqArg(env, info[1], *s);
  const int dim = llama_model_n_embd_inp(s->model->model);
  const int nVocab = llama_vocab_n_tokens(llama_model_get_vocab(s->model->model));
  Napi::Array arr = info[0].As<Napi::Array>();
  std::vector<Item> items;
  std::vector<Napi::ObjectReference> keep;
  long long total = 0;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Object o = arr.Get(i).As<Napi::Object>();
    Item it;
    if (o.Get("tokens").IsTypedArray()) {
      Napi::Int32Array t = o.Get("tokens").As<Napi::Int32Array>();
      it.tokens.assign(t.Data(), t.Data() + t.ElementLength());
      for (llama_token tok : it.tokens) {
        if (tok < 0 || tok >= nVocab) Throw(env, "ERR_INVALID_ARG", "item " + std::to_string(i) + " has token " + std::to_string(tok) + " outside the vocabulary");
      }
      total += it.tokens.size();
      if (it.tokens.empty()) continue;
    } else if (o.Get("embeddings").IsTypedArray()) {
      Napi::Float32Array e = o.Get("embeddings").As<Napi::Float32Array>();
      it.count = o.Get("count").ToNumber().Int32Value();
      if (it.count <= 0 || e.ElementLength() != static_cast<size_t>(it.count) * dim) {
        Throw(env, "ERR_INVALID_ARG", "item " + std::to_string(i) + " must hold count x n_embd (" + std::to_string(dim) + ") floats");
      }
      it.embd = e.Data();
      it.nonCausal = o.Get("nonCausal").ToBoolean();
      keep.push_back(Napi::Persistent(e.As<Napi::Object>()));
      total += it.count;
    } else {
      Throw(env, "ERR_INVALID_ARG", "item " + std::to_string(i) + " needs tokens (Int32Array) or embeddings (Float32Array)");
    }
    items.push_back(std::move(it));
  }
  if (s->nPast[seq] + total > s->nCtx) {
    Throw(env, "ERR_CONTEXT_FULL", "the plan needs " + std::to_string(total) + " tokens but only " +
                                       std::to_string(s->nCtx - s->nPast[seq]) + " of " + std::to_string(s->nCtx) + " are free");
  }
  if (items.empty()) Throw(env, "ERR_INVALID_ARG", "the plan is empty");
  auto * w = new PrefillWorker(env, s, std::move(items), std::move(keep), seq, AbortToken::From(info[2]), info[3]);
  Napi::Promise p = w->Start();
  release.dismiss();  // the worker's guard clears busy now
  return p;
}

}  // namespace vidlm
