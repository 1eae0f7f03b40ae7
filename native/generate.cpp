// context.generate(params, seq, onPiece, abortToken?): samples with llama.cpp's sampler chain
// (common_sampler: penalties, top-k/p, min-p, temperature, grammar / JSON schema), streams text
// pieces that are always whole UTF-8 characters, and stops at EOG, a stop string, maxTokens,
// a full context or an abort. The sequence's cache keeps every evaluated token of the answer.
#include <chrono>
#include <string>
#include <vector>

#include "abort_token.h"
#include "common.h"
#include "context.h"
#include "errors.h"
#include "grammar_bounds.h"
#include "log.h"
#include "options.h"
#include "sampling.h"
#include "worker.h"

namespace vidlm {

namespace {

// Length of the longest prefix of s that ends on a UTF-8 character boundary.
size_t CompleteUtf8(const std::string & s) {
  size_t i = s.size();
  size_t back = 0;
  while (i > 0 && back < 4) {
    const unsigned char c = static_cast<unsigned char>(s[i - 1]);
    if ((c & 0xC0) != 0x80) {  // a lead byte (or ASCII): is its sequence complete?
      const size_t need = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
      return back + 1 >= need ? s.size() : i - 1;
    }
    i--;
    back++;
  }
  return s.size();
}

struct GenParams {
  common_params_sampling sampling;
  int maxTokens = 256;
  std::vector<std::string> stop;
};

class GenerateWorker : public PromiseWorker {
 public:
  GenerateWorker(Napi::Env env, std::shared_ptr<ContextState> s, BusyGuard busy, GenParams p, int seq, const Napi::Function & onPiece, AbortFlag abort)
      : PromiseWorker(env, "vidlm.generate", "ERR_DECODE", abort), s_(std::move(s)), guard_(std::move(busy)),
        p_(std::move(p)), seq_(seq), abort_(std::move(abort)) {
    tsfn_ = Napi::ThreadSafeFunction::New(env, onPiece, "vidlm.generate.piece", 0, 1);
  }

  void Run() override {
    LogCapture log;
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    const llama_vocab * vocab = llama_model_get_vocab(s_->model->model);
    common_sampler_ptr smpl;  // common/sampling.h's owning pointer
    try {
      smpl.reset(common_sampler_init(s_->model->model, p_.sampling));
    } catch (const std::exception & e) {
      return Fail("ERR_GRAMMAR", std::string("the sampler could not be built: ") + e.what(), &log);
    }
    if (!smpl) return Fail("ERR_GRAMMAR", "the sampler could not be built (invalid grammar?)", &log);
    size_t maxStop = 0;
    for (const auto & st : p_.stop) maxStop = std::max(maxStop, st.size());
    llama_batch batch = llama_batch_init(1, 0, 1);
    std::string pendingBytes;  // text generated but not yet streamed
    stopReason_ = "maxTokens";
    for (int i = 0; i < p_.maxTokens; i++) {
      if (IsAborted(abort_)) { stopReason_ = "aborted"; break; }
      const llama_token tok = common_sampler_sample(smpl.get(), s_->ctx, -1);
      if (i == 0) firstMs_ = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
      common_sampler_accept(smpl.get(), tok, true);
      if (llama_vocab_is_eog(vocab, tok)) { stopReason_ = "eos"; break; }
      generated_++;
      const std::string piece = common_token_to_piece(s_->ctx, tok);
      text_ += piece;
      pendingBytes += piece;
      bool stopped = false;
      for (const auto & st : p_.stop) {
        const size_t from = text_.size() > piece.size() + st.size() ? text_.size() - piece.size() - st.size() : 0;
        const size_t at = text_.find(st, from);
        if (!st.empty() && at != std::string::npos) {
          const size_t cut = text_.size() - at;  // bytes to drop from the end
          text_.resize(at);
          pendingBytes.resize(pendingBytes.size() > cut ? pendingBytes.size() - cut : 0);
          stopped = true;
        }
      }
      // stream what can no longer become part of a stop string and ends on a whole character
      const size_t hold = stopped ? 0 : (maxStop > 0 ? maxStop - 1 : 0);
      if (pendingBytes.size() > hold) {
        size_t n = CompleteUtf8(pendingBytes.substr(0, pendingBytes.size() - hold));
        if (n > 0) { emit(pendingBytes.substr(0, n)); pendingBytes.erase(0, n); }
      }
      if (stopped) { stopReason_ = "stop"; break; }
      if (s_->nPast[seq_] >= s_->nCtx) { stopReason_ = "contextFull"; break; }
      common_batch_clear(batch);
      common_batch_add(batch, tok, s_->nPast[seq_], {seq_}, true);
      s_->logitsSeq = -1;
      s_->llamaCompute.Apply(s_->ctx, s_->compute);
      const int rc = llama_decode(s_->ctx, batch);
      if (rc == 1) {
        // no free KV cell although the positions fit: other sequences hold cells, or M-RoPE media take
        // more cells than positions, so the cache fills before nPast reaches nCtx. Nothing was evaluated (llama.cpp found no
        // slot before computing): the logits are still the last token's, and the answer ends here.
        s_->logitsSeq = seq_;
        stopReason_ = "contextFull";
        break;
      }
      if (rc != 0) {
        llama_batch_free(batch);
        return Fail("ERR_DECODE", "llama_decode failed during generation", &log);
      }
      s_->nPast[seq_]++;
      s_->logitsSeq = seq_;
    }
    if (!pendingBytes.empty()) emit(pendingBytes);
    llama_batch_free(batch);
    totalMs_ = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
  }

  void Settled() override { tsfn_.Release(); }
  void Abandon() override { tsfn_ = Napi::ThreadSafeFunction(); }  // Node frees it at teardown

  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("text", text_);
    o.Set("generated", generated_);
    o.Set("stopReason", stopReason_);
    o.Set("firstTokenMs", firstMs_);
    o.Set("generateMs", totalMs_);
    o.Set("nPast", s_->nPast[seq_]);
    return o;
  }

 private:
  void emit(std::string piece) {
    tsfn_.BlockingCall([piece = std::move(piece)](Napi::Env env, Napi::Function fn) {
      if (env != nullptr) CallQuietly(env, fn, Napi::String::New(env, piece));
    });
  }
  std::shared_ptr<ContextState> s_;
  BusyGuard guard_;
  GenParams p_;
  int seq_;
  AbortFlag abort_;
  Napi::ThreadSafeFunction tsfn_;
  std::string text_;
  std::string stopReason_;
  int generated_ = 0;
  double firstMs_ = 0, totalMs_ = 0;
};

}  // namespace

// generate({ maxTokens, temperature, topK, topP, minP, repeatPenalty, repeatLastN, seed, stop, grammar, grammarPrefill, jsonSchema },
//          seq, onPiece, abortToken?)
Napi::Value StartGenerate(const Napi::CallbackInfo & info, std::shared_ptr<ContextState> s, BusyGuard busy) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].IsObject() ? info[0].As<Napi::Object>() : Napi::Object::New(env);
  const int seq = SeqArg(env, info[1], *s);
  if (!info[2].IsFunction()) Throw(env, "ERR_INVALID_ARG", "onPiece must be a function");
  if (s->nPast[seq] == 0 || s->logitsSeq != seq) Throw(env, "ERR_INVALID_STATE", "prefill a prompt on this sequence before generating");
  GenParams p;
  auto & sp = p.sampling;
  ReadOption(o, "temperature", sp.temp);
  ReadOption(o, "topK", sp.top_k);
  ReadOption(o, "topP", sp.top_p);
  ReadOption(o, "minP", sp.min_p);
  ReadOption(o, "repeatPenalty", sp.penalty_repeat);
  ReadOption(o, "repeatLastN", sp.penalty_last_n);
  ReadOption(o, "seed", sp.seed);
  ReadOption(o, "maxTokens", p.maxTokens);
  if (o.Get("stop").IsArray()) {
    Napi::Array a = o.Get("stop").As<Napi::Array>();
    for (uint32_t k = 0; k < a.Length(); k++) p.stop.push_back(a.Get(k).ToString());
  }
  const llama_vocab * vocab = llama_model_get_vocab(s->model->model);
  if (o.Get("grammar").IsString() && o.Get("jsonSchema").IsString()) Throw(env, "ERR_INVALID_ARG", "give grammar or jsonSchema, not both");
  if (o.Get("grammar").IsString()) {
    std::string gbnf = o.Get("grammar").As<Napi::String>().Utf8Value();
    CheckGrammar(env, vocab, gbnf);
    // a chat format's tool-call grammar starts with the generation prompt the template already
    // put in the prompt: llama.cpp's sampler feeds that text to the grammar first
    if (o.Get("grammarPrefill").IsString()) {
      sp.grammar = common_grammar(COMMON_GRAMMAR_TYPE_TOOL_CALLS, std::move(gbnf));
      sp.generation_prompt = o.Get("grammarPrefill").As<Napi::String>().Utf8Value();
    } else {
      sp.grammar = common_grammar(COMMON_GRAMMAR_TYPE_USER, std::move(gbnf));
    }
  } else if (o.Get("jsonSchema").IsString()) {
    std::string gbnf = SchemaToGrammar(env, o.Get("jsonSchema").As<Napi::String>().Utf8Value());
    CheckGrammar(env, vocab, gbnf);
    sp.grammar = common_grammar(COMMON_GRAMMAR_TYPE_OUTPUT_FORMAT, std::move(gbnf));
  }
  return (new GenerateWorker(env, s, std::move(busy), std::move(p), seq, info[2].As<Napi::Function>(), AbortToken::From(env, info[3])))->Start();
}

}  // namespace vidlm
