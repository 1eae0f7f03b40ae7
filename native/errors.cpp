#include "errors.h"

#include "addon_data.h"

namespace vidlm {

void SetErrorClass(const Napi::CallbackInfo & info) {
  if (!info[0].IsFunction()) Throw(info.Env(), "ERR_INVALID_ARG", "setErrorClass expects a constructor");
  Data(info.Env()).errorClass = Napi::Persistent(info[0].As<Napi::Function>());
}

Napi::Error MakeError(Napi::Env env, const std::string & code, const std::string & message) {
  Napi::FunctionReference & cls = Data(env).errorClass;
  if (!cls.IsEmpty()) {
    Napi::Value err = cls.New({Napi::String::New(env, code), Napi::String::New(env, message)});
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
