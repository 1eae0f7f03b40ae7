// Base of every asynchronous call: Run() executes off the JavaScript thread, then the Promise
// settles on it, with Result() or with a VidlmError whose code the work chose through Fail().
//
// Teardown safety (worker.terminate(), process exit): each call registers its abort flag with
// its environment's WorkRegistry, so the environment's cleanup hook can abort it and wait for
// Run() to return. A completion that arrives while the environment closes settles nothing and
// runs no JavaScript; nothing here throws out of Execute() or a completion callback.
#pragma once
#include <napi.h>

#include <atomic>
#include <memory>
#include <string>

#include "addon_data.h"
#include "errors.h"
#include "log.h"

namespace vidlm {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  // Queues the work and returns its Promise (settled later, on the JavaScript thread).
  Napi::Promise Start() {
    Napi::Promise p = deferred_.Promise();
    work_->add(abort_);
    Queue();
    return p;
  }

  ~PromiseWorker() override { work_->remove(abort_); }

 protected:
  // `code` is the error code of an unexpected C++ exception in Run(); `abort` the call's flag
  // (a fresh one when the call takes no AbortToken).
  PromiseWorker(Napi::Env env, const char * name, const char * code, AbortFlag abort = nullptr)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)), code_(code),
        abort_(abort ? std::move(abort) : std::make_shared<std::atomic<bool>>(false)), work_(Data(env).work) {}

  virtual void Run() = 0;
  virtual Napi::Value Result(Napi::Env env) = 0;
  // Runs on the JavaScript thread before the Promise settles, success or not (not at teardown).
  virtual void Settled() {}
  // Runs instead of Settled() when the environment is closing: drop thread-safe functions
  // without releasing them (Node frees them itself).
  virtual void Abandon() {}
  // Adds facts (e.g. `details` words) to the error a failed call rejects with.
  virtual void Decorate(Napi::Env, Napi::Object) {}

  // Records the failure; `log` adds llama.cpp's last error line as the reason.
  void Fail(const char * code, std::string message, const LogCapture * log = nullptr) {
    const std::string why = log ? log->lastError() : std::string();
    failure_ = {code, why.empty() ? std::move(message) : message + ": " + why};
  }
  // A failure made elsewhere, details included.
  void Fail(Failure f) { failure_ = std::move(f); }
  // Numbers for the error's `details` (after Fail).
  void Detail(std::string key, double value) { failure_.details.emplace_back(std::move(key), value); }
  bool Failed() const { return failure_.failed(); }
  const AbortFlag & abortFlag() const { return abort_; }

 private:
  void Execute() final {
    if (!work_->enter()) return;  // the environment is closing: do nothing
    try {
      Run();
    } catch (const std::exception & e) {
      Fail(code_, e.what());
    } catch (...) {
      Fail(code_, "unexpected native error");
    }
    work_->leave();
  }

  void OnOK() final {
    if (work_->closing()) return Abandon();
    Settled();
    Napi::Env env = Env();
    try {
      if (failure_.failed()) {
        Napi::Error err = MakeError(env, failure_);
        Decorate(env, err.Value());
        deferred_.Reject(err.Value());
      } else {
        deferred_.Resolve(Result(env));
      }
    } catch (const Napi::Error & e) {
      // JavaScript cannot run (the environment started closing after the check above), or
      // building the result failed: reject if that is still possible, never throw from here.
      try { deferred_.Reject(e.Value()); } catch (...) {}
    }
  }
  void OnError(const Napi::Error &) final { OnOK(); }  // Execute() never sets an error

  Napi::Promise::Deferred deferred_;
  const char * code_;
  AbortFlag abort_;
  std::shared_ptr<WorkRegistry> work_;
  Failure failure_;
};

// Calls a JavaScript callback from a thread-safe function's queue: when the environment is
// closing the call fails, and it must not throw out of the queue's callback (that would end
// the process). The callbacks lib/ passes never throw themselves.
template <class... Args>
inline void CallQuietly(Napi::Env env, Napi::Function fn, Args &&... args) {
  if (env == nullptr || fn.IsEmpty()) return;
  try {
    fn.Call({std::forward<Args>(args)...});
  } catch (const Napi::Error &) {
  }
}

}  // namespace vidlm
