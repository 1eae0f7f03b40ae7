#include "abort_token.h"

#include "errors.h"

namespace vidlm {

static Napi::FunctionReference * g_ctor = nullptr;

Napi::Function AbortToken::Define(Napi::Env env) {
  Napi::Function fn = DefineClass(env, "AbortToken", {
    InstanceMethod("abort", &AbortToken::Abort),
    InstanceAccessor("aborted", &AbortToken::Aborted, nullptr),
  });
  g_ctor = new Napi::FunctionReference(Napi::Persistent(fn));
  return fn;
}

AbortToken::AbortToken(const Napi::CallbackInfo & info)
    : Napi::ObjectWrap<AbortToken>(info), flag_(std::make_shared<std::atomic<bool>>(false)) {}

Napi::Value AbortToken::Abort(const Napi::CallbackInfo & info) {
  flag_->store(true);
  return info.Env().Undefined();
}

Napi::Value AbortToken::Aborted(const Napi::CallbackInfo & info) {
  return Napi::Boolean::New(info.Env(), flag_->load());
}

AbortFlag AbortToken::From(const Napi::Value & value) {
  if (value.IsObject() && g_ctor && value.As<Napi::Object>().InstanceOf(g_ctor->Value())) {
    return Napi::ObjectWrap<AbortToken>::Unwrap(value.As<Napi::Object>())->flag();
  }
  return std::make_shared<std::atomic<bool>>(false);
}

}  // namespace vidlm
