#include "errors.h"

namespace vidlm {

static Napi::FunctionReference & ErrorClass() {
  static Napi::FunctionReference ref;
  return ref;
}

void SetErrorClass(const Napi::CallbackInfo & info) {
  if (!info[0].IsFunction()) Throw(info.Env(), "ERR_INVALID_ARG", "setErrorClass expects a constructor");
  ErrorClass() = Napi::Persistent(info[0].As<Napi::Function>());
}

Napi::Error MakeError(Napi::Env env, const std::string & code, const std::string & message) {
  if (!ErrorClass().IsEmpty()) {
    Napi::Value err = ErrorClass().New({Napi::String::New(env, code), Napi::String::New(env, message)});
    return Napi::Error(env, err);
  }
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  return err;
}

void Throw(Napi::Env env, const std::string & code, const std::string & message) {
  throw MakeError(env, code, message);
}

}  // namespace vidlm
