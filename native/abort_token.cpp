#include "abort_token.h"

#include "addon_data.h"
#include "errors.h"

namespace vidlm {

Napi::Function AbortToken::Define(Napi::Env env) {
  Napi::Function fn = DefineClass(env, "AbortToken", {
    InstanceMethod("abort", &AbortToken::Abort),
    InstanceAccessor("aborted", &AbortToken::Aborted, nullptr),
  });
  Data(env).abortTokenClass = Napi::Persistent(fn);
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

AbortFlag AbortToken::From(Napi::Env env, const Napi::Value & value) {
  Napi::FunctionReference & cls = Data(env).abortTokenClass;
  if (value.IsObject() && !cls.IsEmpty() && value.As<Napi::Object>().InstanceOf(cls.Value())) {
    return Napi::ObjectWrap<AbortToken>::Unwrap(value.As<Napi::Object>())->flag();
  }
  return std::make_shared<std::atomic<bool>>(false);
}

}  // namespace vidlm
