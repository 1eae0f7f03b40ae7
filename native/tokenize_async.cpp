#include "tokenize_async.h"

#include <algorithm>

#include "errors.h"
#include "worker.h"

namespace vidlm {

namespace {
class TokenizeWorker : public PromiseWorker {
 public:
  TokenizeWorker(Napi::Env env, std::shared_ptr<ModelState> state, std::string text, bool parseSpecial)
      : PromiseWorker(env, "vidlm.tokenize", "ERR_TOKENIZE"), state_(std::move(state)), text_(std::move(text)), special_(parseSpecial) {}

 protected:
  void Run() override {
    const llama_vocab * vocab = llama_model_get_vocab(state_->model);
    tokens_.resize(text_.size() + 1);
    int n = llama_tokenize(vocab, text_.data(), static_cast<int32_t>(text_.size()), tokens_.data(), static_cast<int32_t>(tokens_.size()), false, special_);
    if (n < 0) {
      tokens_.resize(-n);
      n = llama_tokenize(vocab, text_.data(), static_cast<int32_t>(text_.size()), tokens_.data(), static_cast<int32_t>(tokens_.size()), false, special_);
    }
    if (n < 0) return Fail("ERR_TOKENIZE", "the text could not be tokenized");
    tokens_.resize(n);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Int32Array a = Napi::Int32Array::New(env, tokens_.size());
    std::copy(tokens_.begin(), tokens_.end(), a.Data());
    return a;
  }

 private:
  std::shared_ptr<ModelState> state_;  // kept alive while the call runs (dispose() mid-call)
  std::string text_;
  bool special_;
  std::vector<llama_token> tokens_;
};
}  // namespace

Napi::Value TokenizeAsync(const Napi::CallbackInfo & info, std::shared_ptr<ModelState> state) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) Throw(env, "ERR_INVALID_ARG", "text must be a string");
  const bool special = !info[1].IsBoolean() || info[1].As<Napi::Boolean>().Value();
  return (new TokenizeWorker(env, std::move(state), info[0].As<Napi::String>().Utf8Value(), special))->Start();
}

Napi::Value MaxTokenBytes(const Napi::CallbackInfo & info, ModelState & state) {
  const llama_vocab * vocab = llama_model_get_vocab(state.model);
  const int n = llama_vocab_n_tokens(vocab);
  int most = 1;
  char buf[512];
  for (llama_token t = 0; t < n; t++) {
    int len = llama_token_to_piece(vocab, t, buf, sizeof buf, 0, true);
    most = std::max(most, len < 0 ? -len : len);
  }
  return Napi::Number::New(info.Env(), most);
}

}  // namespace vidlm
