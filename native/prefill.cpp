// context.prefill(items, seq, abortToken?, onProgress?, mergeText?, addBos?): evaluates a sequence plan
// (text tokens and embedding blocks, in order) after the sequence's current end. Positions: 1-D; on
// an M-RoPE model text takes (p, p, p, 0) as llama.cpp gives text tokens, and an embedding block may
// carry its own M-RoPE positions (4 sections of `count`, relative to where the block starts) and the
// positions it advances (`span`): vidlm computes them (lib/mrope), libmtmd's rule or a family's own.
// What llama.cpp knows is decided here, not by the caller: the model's BOS goes first when it wants
// one and the caller starts a sequence (addBos), and embedding blocks get the non-causal attention
// libmtmd uses for the model's images. The token count is checked against the context before
// anything is evaluated (ERR_CONTEXT_FULL with the numbers).
//
// A plan with embedding blocks normally goes as one stream of embedding rows, text tokens
// included (their token_embd rows, native/token_rows.h): a LITA plan alternates 100 time tokens
// with 100 frames, and decoding each item on its own costs ~200 small llama_decode calls, each
// reading all weights. Item by item when the model's graph treats tokens differently
// (TokenRowsExact), when a block needs non-causal attention, or when mergeText is false.
#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "abort_token.h"
#include "context.h"
#include "errors.h"
#include "log.h"
#include "progress.h"
#include "token_rows.h"
#include "worker.h"

namespace vidlm {

namespace {

bool IsTypedArrayOf(const Napi::Value & v, napi_typedarray_type type) {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == type;
}

struct Item {
  std::vector<llama_token> tokens;     // text item
  const float * embd = nullptr;        // embedding item: rows of n_embd floats, owned by JS
  int count = 0;
  bool nonCausal = false;
  std::vector<int32_t> rel;  // M-RoPE: t, h, w, extra sections of `count` each, relative to the block's start (empty: 1-D)
  int span = 0;              // positions the item advances (text, 1-D blocks: its length)
  // position (section r of 4) of the item's row j when it starts at `base`
  llama_pos Pos(int r, int j, llama_pos base) const {
    if (!rel.empty()) return base + rel[static_cast<size_t>(r) * count + j];
    return r == 3 ? 0 : base + j;  // text on M-RoPE: llama.cpp broadcasts the 1-D position to t, h, w; the extra section is 0
  }
};

class PrefillWorker : public PromiseWorker {
 public:
  PrefillWorker(Napi::Env env, std::shared_ptr<ContextState> s, BusyGuard busy, std::vector<Item> items, std::vector<Napi::ObjectReference> keep,
                int seq, AbortFlag abort, const Napi::Value & onProgress, bool mergeText)
      : PromiseWorker(env, "vidlm.prefill", "ERR_DECODE", abort), s_(std::move(s)),
        guard_(std::move(busy)), items_(std::move(items)), keep_(std::move(keep)), seq_(seq), abort_(std::move(abort)),
        progress_(env, onProgress, "vidlm.prefill.progress"), mergeText_(mergeText) {}

  void Run() override {
    LogCapture log;
    const auto t0 = std::chrono::steady_clock::now();
    start_ = s_->nPast[seq_];
    total_ = 0;
    bool anyEmbd = false, anyNonCausal = false;
    for (const Item & it : items_) {
      total_ += it.embd ? it.count : static_cast<int>(it.tokens.size());
      anyEmbd |= it.embd != nullptr;
      anyNonCausal |= it.embd && it.nonCausal;
    }
    nPos_ = s_->model->info.mrope ? 4 : 1;
    pos_.resize(static_cast<size_t>(s_->nBatch) * 4);
    rows_.resize(static_cast<size_t>(s_->nBatch) * 4);
    nseq_.assign(s_->nBatch, 1);
    seqv_.assign(s_->nBatch, seq_);
    seqp_.resize(s_->nBatch);
    for (int i = 0; i < s_->nBatch; i++) seqp_[i] = &seqv_[i];
    logits_.assign(s_->nBatch, 0);
    const bool ok = mergeText_ && anyEmbd && !anyNonCausal && s_->model->tokenRows ? Merged(log) : ItemByItem(log);
    if (!ok) return;
    evaluated_ = done_;
    s_->logitsSeq = seq_;
    ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = PrefillSummary(env, evaluated_, s_->nPast[seq_], ms_);
    o.Set("decodes", decodes_);
    return o;
  }
  void Settled() override {
    progress_.release();
    for (auto & r : keep_) r.Reset();
  }
  void Abandon() override { progress_.abandon(); }

 private:
  // Row i of the next batch: position section r (1 section without M-RoPE).
  void SetRow(int i, const Item & it, int j, llama_pos base) {
    for (int r = 0; r < nPos_; r++) rows_[static_cast<size_t>(i) * 4 + r] = nPos_ == 1 ? base + j : it.Pos(r, j, base);
  }

  // One llama_decode of m rows whose positions SetRow gave; `last` asks for the logits of the final row.
  // Token batches on M-RoPE take 1-D positions (llama.cpp broadcasts them); embedding batches all four sections.
  bool Decode(LogCapture & log, int m, const llama_token * tokens, float * embd, bool last, llama_pos nPastAfter) {
    const int sections = tokens ? 1 : nPos_;
    for (int i = 0; i < m; i++) {
      for (int r = 0; r < sections; r++) pos_[static_cast<size_t>(r) * m + i] = rows_[static_cast<size_t>(i) * 4 + r];
      logits_[i] = 0;
    }
    if (last) logits_[m - 1] = 1;  // generation starts from the plan's very last token
    llama_batch b{};
    b.n_tokens = m;
    b.token = const_cast<llama_token *>(tokens);
    b.embd = embd;
    b.pos = pos_.data();
    b.n_seq_id = nseq_.data();
    b.seq_id = seqp_.data();
    b.logits = logits_.data();
    s_->logitsSeq = -1;
    decodes_++;
    s_->llamaCompute.Apply(s_->ctx, s_->compute);
    const int rc = llama_decode(s_->ctx, b);
    if (rc == 1) {  // no free KV cell: nothing of the plan kept
      Fail(KvCellsFull(*s_, seq_, start_, total_));
      return false;
    }
    if (rc != 0) {
      Fail("ERR_DECODE", "llama_decode failed (" + std::to_string(rc) + ")", &log);
      return false;
    }
    s_->nPast[seq_] = nPastAfter;
    done_ += m;
    progress_.report(static_cast<float>(done_) / total_);
    return true;
  }

  // The whole plan as embedding rows, nBatch rows per decode.
  bool Merged(LogCapture & log) {
    const int dim = llama_model_n_embd_inp(s_->model->model);
    std::vector<float> rows(static_cast<size_t>(s_->nBatch) * dim);
    std::vector<uint8_t> scratch;
    size_t k = 0;
    int off = 0;
    llama_pos base = s_->nPast[seq_];  // where item k starts
    while (done_ < total_) {
      if (IsAborted(abort_)) {
        Fail("ERR_ABORTED", "aborted: prefill was cancelled");
        return false;
      }
      int m = 0;
      while (m < s_->nBatch && k < items_.size()) {
        const Item & it = items_[k];
        const int n = it.embd ? it.count : static_cast<int>(it.tokens.size());
        const int take = std::min(s_->nBatch - m, n - off);
        for (int i = 0; i < take; i++) {
          SetRow(m + i, it, off + i, base);
          float * dst = rows.data() + static_cast<size_t>(m + i) * dim;
          if (it.embd) std::copy_n(it.embd + static_cast<size_t>(off + i) * dim, dim, dst);
          else if (!s_->model->tokenRows->Row(it.tokens[off + i], dim, dst, scratch)) {
            Fail("ERR_DECODE", "could not read token " + std::to_string(it.tokens[off + i]) + "'s embedding row from the model file");
            return false;
          }
        }
        m += take;
        off += take;
        if (off == n) { k++; off = 0; base += it.span; }
      }
      if (!Decode(log, m, nullptr, rows.data(), done_ + m == total_, base)) return false;
    }
    return true;
  }

  bool ItemByItem(LogCapture & log) {
    const int dim = llama_model_n_embd_inp(s_->model->model);
    for (size_t k = 0; k < items_.size(); k++) {
      Item & it = items_[k];
      const int n = it.embd ? it.count : static_cast<int>(it.tokens.size());
      const llama_pos base = s_->nPast[seq_];
      if (it.embd && it.nonCausal) llama_set_causal_attn(s_->ctx, false);
      for (int off = 0; off < n; off += s_->nBatch) {
        if (IsAborted(abort_)) {
          if (it.embd && it.nonCausal) llama_set_causal_attn(s_->ctx, true);
          Fail("ERR_ABORTED", "aborted: prefill was cancelled");
          return false;
        }
        const int m = std::min(s_->nBatch, n - off);
        for (int i = 0; i < m; i++) SetRow(i, it, off + i, base);
        const bool ok = Decode(log, m, it.embd ? nullptr : it.tokens.data() + off,
                               it.embd ? const_cast<float *>(it.embd) + static_cast<size_t>(off) * dim : nullptr,
                               k + 1 == items_.size() && off + m == n, off + m == n ? base + it.span : base + off + m);
        if (!ok) {
          if (it.embd && it.nonCausal) llama_set_causal_attn(s_->ctx, true);
          return false;
        }
      }
      if (it.embd && it.nonCausal) llama_set_causal_attn(s_->ctx, true);
    }
    return true;
  }

  std::shared_ptr<ContextState> s_;
  BusyGuard guard_;
  std::vector<Item> items_;
  std::vector<Napi::ObjectReference> keep_;  // the embedding arrays stay alive while we read them
  int seq_;
  AbortFlag abort_;
  Progress progress_;
  bool mergeText_;
  int nPos_ = 1;                 // position sections per row: 4 with M-RoPE
  std::vector<llama_pos> rows_;  // per row of the next batch: its 4 (or 1) positions
  std::vector<llama_pos> pos_;   // the batch's positions, section-major as llama_batch takes them
  std::vector<int32_t> nseq_;
  std::vector<llama_seq_id> seqv_;
  std::vector<llama_seq_id *> seqp_;
  std::vector<int8_t> logits_;
  int total_ = 0, done_ = 0, decodes_ = 0;
  llama_pos start_ = 0;  // the sequence's end before this plan
  int evaluated_ = 0;
  double ms_ = 0;
};

// An embedding block's own M-RoPE positions: `positions` (Int32Array of 4 × count: the t, h, w and
// extra sections, relative to the block's start, each ≥ 0) and `span` (positions the block advances:
// more than any of them, so the next item never goes back).
void ReadPositions(Napi::Env env, Napi::Object o, uint32_t i, const ContextState & s, Item & it) {
  const std::string at = "item " + std::to_string(i) + ": ";
  if (!s.model->info.mrope) Throw(env, "ERR_INVALID_ARG", at + "positions are for M-RoPE models; this model takes 1-D positions");
  if (!IsTypedArrayOf(o.Get("positions"), napi_int32_array)) Throw(env, "ERR_INVALID_ARG", at + "positions must be an Int32Array");
  Napi::Int32Array p = o.Get("positions").As<Napi::Int32Array>();
  if (p.ElementLength() != static_cast<size_t>(it.count) * 4) Throw(env, "ERR_INVALID_ARG", at + "positions must hold 4 × count values (t, h, w, extra sections)");
  it.rel.assign(p.Data(), p.Data() + p.ElementLength());
  int32_t most = 0;  // the largest t, h or w: the extra section does not advance the sequence
  for (size_t r = 0; r < 4; r++)
    for (int j = 0; j < it.count; j++) {
      const int32_t v = it.rel[r * it.count + j];
      if (v < 0 || v > (1 << 24)) Throw(env, "ERR_INVALID_ARG", at + "positions must be between 0 and 2^24");
      if (r < 3) most = std::max(most, v);
    }
  const double span = o.Get("span").IsUndefined() ? most + 1 : o.Get("span").ToNumber().DoubleValue();
  if (!(span > most && span <= (1 << 24) && span == static_cast<double>(static_cast<int>(span))))
    Throw(env, "ERR_INVALID_ARG", at + "span must be an integer above every position of the block");
  it.span = static_cast<int>(span);
}

}  // namespace

Napi::Value StartPrefill(const Napi::CallbackInfo & info, std::shared_ptr<ContextState> s, BusyGuard busy) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) Throw(env, "ERR_INVALID_ARG", "items must be an array");
  const int seq = SeqArg(env, info[1], *s);
  const int dim = llama_model_n_embd_inp(s->model->model);
  const int nVocab = llama_vocab_n_tokens(llama_model_get_vocab(s->model->model));
  Napi::Array arr = info[0].As<Napi::Array>();
  std::vector<Item> items;
  std::vector<Napi::ObjectReference> keep;
  long long total = 0;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    if (!arr.Get(i).IsObject()) Throw(env, "ERR_INVALID_ARG", "item " + std::to_string(i) + " is not an object");
    Napi::Object o = arr.Get(i).As<Napi::Object>();
    Item it;
    if (IsTypedArrayOf(o.Get("tokens"), napi_int32_array)) {
      Napi::Int32Array t = o.Get("tokens").As<Napi::Int32Array>();
      it.tokens.assign(t.Data(), t.Data() + t.ElementLength());
      for (llama_token tok : it.tokens) {
        if (tok < 0 || tok >= nVocab) Throw(env, "ERR_INVALID_ARG", "item " + std::to_string(i) + " has token " + std::to_string(tok) + " outside the vocabulary");
      }
      total += it.tokens.size();
      it.span = static_cast<int>(it.tokens.size());
      if (it.tokens.empty()) continue;
    } else if (IsTypedArrayOf(o.Get("embeddings"), napi_float32_array)) {
      Napi::Float32Array e = o.Get("embeddings").As<Napi::Float32Array>();
      it.count = o.Get("count").ToNumber().Int32Value();
      if (it.count <= 0 || e.ElementLength() != static_cast<size_t>(it.count) * dim) {
        Throw(env, "ERR_INVALID_ARG", "item " + std::to_string(i) + " must hold count x n_embd (" + std::to_string(dim) + ") floats");
      }
      it.embd = e.Data();
      it.span = it.count;
      if (!o.Get("positions").IsUndefined()) ReadPositions(env, o, i, *s, it);
      it.nonCausal = s->model->info.nonCausalImageAttention;
      keep.push_back(Napi::Persistent(e.As<Napi::Object>()));
      total += it.count;
    } else {
      Throw(env, "ERR_INVALID_ARG", "item " + std::to_string(i) + " needs tokens (Int32Array) or embeddings (Float32Array)");
    }
    items.push_back(std::move(it));
  }
  const ModelInfo & m = s->model->info;
  const bool addBos = info.Length() > 5 && info[5].ToBoolean() && m.addBos && m.bosToken >= 0;
  if (addBos) {
    if (!items.empty() && !items.front().embd) { items.front().tokens.insert(items.front().tokens.begin(), m.bosToken); items.front().span++; }
    else { Item bos; bos.tokens.push_back(m.bosToken); bos.span = 1; items.insert(items.begin(), std::move(bos)); }
    total++;
  }
  if (s->nPast[seq] + total > s->nCtx) {
    const long long free = s->nCtx - s->nPast[seq];
    throw MakeError(env, Failure{"ERR_CONTEXT_FULL", "the plan needs " + std::to_string(total) + " tokens but only " + std::to_string(free) + " of " +
                                                         std::to_string(s->nCtx) + " are free",
                                 {{"needed", static_cast<double>(total)}, {"free", static_cast<double>(free)}, {"contextSize", static_cast<double>(s->nCtx)}, {"sequence", static_cast<double>(seq)}}});
  }
  if (items.empty()) Throw(env, "ERR_INVALID_ARG", "the plan is empty");
  const bool mergeText = info.Length() < 5 || info[4].IsUndefined() || info[4].ToBoolean();
  return (new PrefillWorker(env, s, std::move(busy), std::move(items), std::move(keep), seq, AbortToken::From(env, info[2]), info[3], mergeText))->Start();
}

}  // namespace vidlm
