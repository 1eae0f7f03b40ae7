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

Napi::Error MakeError(Napi::Env env, const Failure & f) {
  Napi::FunctionReference & cls = Data(env).errorClass;
  if (f.details.empty() || cls.IsEmpty()) return MakeError(env, f.code, f.message);
  Napi::Object details = Napi::Object::New(env);
  for (const auto & [key, value] : f.details) details.Set(key, value);
  return Napi::Error(env, cls.New({Napi::String::New(env, f.code), Napi::String::New(env, f.message), details}));
}

void Throw(Napi::Env env, const std::string & code, const std::string & message) {
  throw MakeError(env, code, message);
}

}  // namespace vidlm
