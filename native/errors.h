// Errors crossing into JavaScript: every one is an instance of the VidlmError class that
// lib/native.ts registers at load time, with a stable `code`.
#pragma once
#include <napi.h>

#include <string>
#include <utility>
#include <vector>

namespace vidlm {

// A failure computed off the JavaScript thread, turned into a JS error later.
struct Failure {
  std::string code;
  std::string message;
  std::vector<std::pair<std::string, double>> details;  // becomes the error's `details`
  bool failed() const { return !code.empty(); }
};

void SetErrorClass(const Napi::CallbackInfo & info);
Napi::Error MakeError(Napi::Env env, const std::string & code, const std::string & message);
Napi::Error MakeError(Napi::Env env, const Failure & failure);
[[noreturn]] void Throw(Napi::Env env, const std::string & code, const std::string & message);

}  // namespace vidlm
