#include "model.h"

#include "errors.h"

namespace vidlm {

static Napi::FunctionReference * g_model_ctor = nullptr;

ModelState::~ModelState() {
  if (mtmd) mtmd_free(mtmd);
  if (model) llama_model_free(model);
}

Napi::Function Model::Define(Napi::Env env) {
  Napi::Function fn = DefineClass(env, "Model", {
    InstanceMethod("info", &Model::Info),
    InstanceMethod("dispose", &Model::Dispose),
    InstanceAccessor("disposed", &Model::Disposed, nullptr),
  });
  g_model_ctor = new Napi::FunctionReference(Napi::Persistent(fn));
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
  return g_model_ctor->New({Napi::External<std::shared_ptr<ModelState>>::New(env, &holder)});
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

Napi::Value Model::Info(const Napi::CallbackInfo & info) {
  Napi::Env env = info.Env();
  const ModelInfo & m = acquire(env)->info;
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
  o.Set("sizeBytes", m.sizeBytes);
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
  return o;
}

}  // namespace vidlm
