#include "model.h"

#include "addon_data.h"
#include "context.h"
#include "encode.h"
#include "errors.h"
#include "grammar_bounds.h"
#include "chat_tools.h"
#include "template.h"
#include "tokenize_async.h"

namespace vidlm {

ModelState::~ModelState() {
  if (mtmd) mtmd_free(mtmd);
  if (model) llama_model_free(model);
}

Napi::Function Model::Define(Napi::Env env) {
  Napi::Function fn = DefineClass(env, "Model", {
    InstanceMethod("info", &Model::Info),
    InstanceMethod("dispose", &Model::Dispose),
    InstanceAccessor("disposed", &Model::Disposed, nullptr),
    InstanceMethod("encode", &Model::Encode),
    InstanceMethod("encodeAudio", &Model::EncodeAudio),
    InstanceMethod("applyTemplate", &Model::ApplyTemplate),
    InstanceMethod("applyTemplateAsync", &Model::ApplyTemplateAsync),
    InstanceMethod("applyToolsTemplateAsync", &Model::ApplyToolsTemplateAsync),
    InstanceMethod("parseChatOutputAsync", &Model::ParseChatOutputAsync),
    InstanceMethod("formatTurn", &Model::FormatTurn),
    InstanceMethod("createContext", &Model::CreateContext),
    InstanceMethod("checkGrammar", &Model::CheckGrammar),
    InstanceMethod("schemaToGrammar", &Model::SchemaToGrammar),
    InstanceMethod("countTokens", &Model::CountTokens),
    InstanceMethod("setCompute", &Model::SetCompute),
    InstanceMethod("tokenizeAsync", &Model::TokenizeAsync),
    InstanceMethod("maxTokenBytes", &Model::MaxTokenBytes),
  });
  Data(env).modelClass = Napi::Persistent(fn);
  return fn;
}

Model::Model(const Napi::CallbackInfo & info) : Napi::ObjectWrap<Model>(info) {
  if (info.Length() < 1 || !info[0].IsExternal()) {
    Throw(info.Env(), "ERR_INVALID_ARG", "Model cannot be constructed directly; use loadModel()");
  }
  auto * holder = info[0].As<Napi::External<std::shared_ptr<ModelState>>>().Data();
  state_ = *holder;
}

Napi::Object Model::NewInstance(Napi::Env env, std::shared_ptr<ModelState> state) {
  std::shared_ptr<ModelState> holder = std::move(state);
  return Data(env).modelClass.New({Napi::External<std::shared_ptr<ModelState>>::New(env, &holder)});
}

std::shared_ptr<ModelState> Model::acquire(Napi::Env env) {
  if (!state_) Throw(env, "ERR_DISPOSED", "the model was disposed");
  return state_;
}

Napi::Value Model::Dispose(const Napi::CallbackInfo & info) {
  state_.reset();
  return info.Env().Undefined();
}

Napi::Value Model::Disposed(const Napi::CallbackInfo & info) {
  return Napi::Boolean::New(info.Env(), !state_);
}

Napi::Value Model::Encode(const Napi::CallbackInfo & info) {
  return vidlm::Encode(info, acquire(info.Env()));
}

Napi::Value Model::EncodeAudio(const Napi::CallbackInfo & info) {
  return vidlm::EncodeAudio(info, acquire(info.Env()));
}

Napi::Value Model::ApplyTemplate(const Napi::CallbackInfo & info) {
  return vidlm::ApplyTemplate(info, *acquire(info.Env()));
}

Napi::Value Model::ApplyTemplateAsync(const Napi::CallbackInfo & info) {
  return vidlm::ApplyTemplateAsync(info, acquire(info.Env()));
}

Napi::Value Model::ApplyToolsTemplateAsync(const Napi::CallbackInfo & info) {
  return vidlm::ApplyToolsTemplateAsync(info, acquire(info.Env()));
}

Napi::Value Model::ParseChatOutputAsync(const Napi::CallbackInfo & info) {
  acquire(info.Env());  // ERR_DISPOSED after dispose(), as every method
  return vidlm::ParseChatOutputAsync(info);
}

Napi::Value Model::TokenizeAsync(const Napi::CallbackInfo & info) {
  return vidlm::TokenizeAsync(info, acquire(info.Env()));
}

Napi::Value Model::MaxTokenBytes(const Napi::CallbackInfo & info) {
  return vidlm::MaxTokenBytes(info, *acquire(info.Env()));
}

Napi::Value Model::FormatTurn(const Napi::CallbackInfo & info) {
  return vidlm::FormatTurn(info, *acquire(info.Env()));
}

Napi::Value Model::CreateContext(const Napi::CallbackInfo & info) {
  return vidlm::CreateContext(info, acquire(info.Env()));
}

// checkGrammar(gbnf): throws ERR_GRAMMAR unless llama.cpp would accept it (bounded first).
Napi::Value Model::CheckGrammar(const Napi::CallbackInfo & info) {
  Napi::Env env = info.Env();
  auto s = acquire(env);
  if (!info[0].IsString()) Throw(env, "ERR_INVALID_ARG", "grammar must be a string");
  vidlm::CheckGrammar(env, llama_model_get_vocab(s->model), info[0].As<Napi::String>().Utf8Value());
  return env.Undefined();
}

// schemaToGrammar(jsonText) -> GBNF, checked like a grammar.
Napi::Value Model::SchemaToGrammar(const Napi::CallbackInfo & info) {
  Napi::Env env = info.Env();
  auto s = acquire(env);
  if (!info[0].IsString()) Throw(env, "ERR_INVALID_ARG", "jsonSchema must be JSON text");
  std::string gbnf = vidlm::SchemaToGrammar(env, info[0].As<Napi::String>().Utf8Value());
  vidlm::CheckGrammar(env, llama_model_get_vocab(s->model), gbnf);
  return Napi::String::New(env, gbnf);
}

static Napi::Int32Array Tokens(Napi::Env env, const std::vector<int32_t> & v) {
  Napi::Int32Array a = Napi::Int32Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); i++) a[i] = v[i];
  return a;
}

Napi::Value Model::Info(const Napi::CallbackInfo & info) {
  Napi::Env env = info.Env();
  auto s = acquire(env);
  const ModelInfo & m = s->info;
  Napi::Object o = Napi::Object::New(env);
  o.Set("architecture", m.architecture);
  o.Set("description", m.description);
  o.Set("nEmbd", m.nEmbd);
  o.Set("nEmbdInp", m.nEmbdInp);
  o.Set("nLayer", m.nLayer);
  o.Set("nHead", m.nHead);
  o.Set("nCtxTrain", m.nCtxTrain);
  o.Set("nVocab", m.nVocab);
  o.Set("nParams", m.nParams);
  o.Set("hasChatTemplate", m.hasChatTemplate);
  o.Set("chatTemplate", m.hasChatTemplate ? Napi::String::New(env, m.chatTemplate) : env.Null());
  o.Set("vision", m.vision);
  o.Set("audio", m.audio);
  o.Set("audioSampleRate", m.audioSampleRate);
  o.Set("mrope", m.mrope);
  o.Set("nonCausalImageAttention", m.nonCausalImageAttention);
  o.Set("imageNx", m.imageNx);
  o.Set("imageNy", m.imageNy);
  o.Set("imageTokens", m.imageTokens);
  o.Set("mediaMarker", m.mediaMarker);
  o.Set("addBos", m.addBos);
  o.Set("bosToken", m.bosToken);
  o.Set("imageBefore", Tokens(env, m.imageBefore));
  o.Set("imageAfter", Tokens(env, m.imageAfter));
  o.Set("encoderThreadsPerCall", s->mtmdThreadsSettable);
  return o;
}

// countTokens(text) -> tokens of the text (special tokens parsed, no BOS): a budget needs no context
Napi::Value Model::CountTokens(const Napi::CallbackInfo & info) {
  Napi::Env env = info.Env();
  auto s = acquire(env);
  if (!info[0].IsString()) Throw(env, "ERR_INVALID_ARG", "text must be a string");
  const std::string text = info[0].As<Napi::String>();
  const int n = llama_tokenize(llama_model_get_vocab(s->model), text.data(), text.size(), nullptr, 0, false, true);
  return Napi::Number::New(env, n < 0 ? -n : n);
}

// setCompute(threads): the encoder's threads for the next encoder graphs (mtmd_context's count,
// where CheckMtmdLayout allowed it; info().encoderThreadsPerCall says so).
Napi::Value Model::SetCompute(const Napi::CallbackInfo & info) {
  Napi::Env env = info.Env();
  auto s = acquire(env);
  ReadCompute(env, info, s->compute);
  return env.Undefined();
}

}  // namespace vidlm
