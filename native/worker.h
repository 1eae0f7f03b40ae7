// Base of every asynchronous call: Execute() runs off the JavaScript thread, then the Promise
// settles on it, with Result() or with a VidlmError whose code the work chose through Fail().
#pragma once
#include <napi.h>

#include <string>

#include "errors.h"
#include "log.h"

namespace vidlm {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  // Queues the work and returns its Promise (settled later, on the JavaScript thread).
  Napi::Promise Start() {
    Napi::Promise p = deferred_.Promise();
    Queue();
    return p;
  }

 protected:
  // `code` is the error code of an unexpected C++ exception in Execute().
  PromiseWorker(Napi::Env env, const char * name, const char * code)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)), code_(code) {}

  virtual Napi::Value Result(Napi::Env env) = 0;
  // Runs on the JavaScript thread before the Promise settles, success or not.
  virtual void Settled() {}
  // Adds facts (e.g. `details`) to the error a failed call rejects with.
  virtual void Decorate(Napi::Env, Napi::Object) {}

  // Records the failure; `log` adds llama.cpp's last error line as the reason.
  void Fail(const char * code, std::string message, const LogCapture * log = nullptr) {
    const std::string why = log ? log->lastError() : std::string();
    failure_ = {code, why.empty() ? std::move(message) : message + ": " + why};
  }
  bool Failed() const { return failure_.failed(); }

 private:
  void OnOK() override {
    Settled();
    Napi::Env env = Env();
    if (failure_.failed()) {
      Napi::Error err = MakeError(env, failure_.code, failure_.message);
      Decorate(env, err.Value());
      deferred_.Reject(err.Value());
    }
    else deferred_.Resolve(Result(env));
  }
  void OnError(const Napi::Error & e) override {
    Settled();
    deferred_.Reject(MakeError(Env(), code_, e.Message()).Value());
  }

  Napi::Promise::Deferred deferred_;
  const char * code_;
  Failure failure_;
};

}  // namespace vidlm
