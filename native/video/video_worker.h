// The base of MediaSource's calls: each runs in a PromiseWorker under the source's mutex and
// rejects with its VideoError's code, with the reason and FFmpeg's words as `details`.
#pragma once
#include <napi.h>

#include <memory>
#include <mutex>
#include <utility>

#include "../errors.h"
#include "../worker.h"
#include "media_source.h"

namespace vidlm {

class VideoWorker : public PromiseWorker {
 protected:
  VideoWorker(Napi::Env env, const char * name, std::shared_ptr<SourceState> state, AbortFlag abort)
      : PromiseWorker(env, name, "ERR_VIDEO_DECODE", abort), state_(std::move(state)) {}

  void Run() final {
    try {
      (void)ff();
    } catch (const std::exception & e) {
      verr_ = {"ERR_NATIVE_LOAD", "ffmpeg", e.what(), ""};
      Fail(verr_.code.c_str(), verr_.message);
      return;
    }
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (NeedsDemuxer() && (!state_->open() || state_->closed)) {
      verr_ = {"ERR_DISPOSED", "closed", "the source is closed", ""};
    } else {
      // after an interrupted read the walkers' read positions mean nothing: their next target seeks
      if (state_->demuxer && state_->demuxer->Begin(abortFlag())) {
        for (auto & [stream, walker] : state_->walkers) walker->Restart();
      }
      Work();
    }
    if (verr_.failed()) Fail(verr_.code.c_str(), verr_.message);
  }

  virtual bool NeedsDemuxer() const { return true; }
  virtual void Work() = 0;

  void Decorate(Napi::Env env, Napi::Object err) override {
    if (!verr_.failed()) return;
    const Napi::Value had = err.Get("details");
    Napi::Object d = had.IsObject() ? had.As<Napi::Object>() : Napi::Object::New(env);
    d.Set("reason", verr_.reason);
    if (!verr_.ffmpeg.empty()) d.Set("ffmpeg", verr_.ffmpeg);
    err.Set("details", d);
  }

  std::shared_ptr<SourceState> state_;
  VideoError verr_;
};

// The stream index argument (info[0]) of a call on an open source.
inline int StreamArg(const Napi::CallbackInfo & info, const SourceState & st) {
  if (!info[0].IsNumber()) Throw(info.Env(), "ERR_INVALID_ARG", "stream index expected");
  const int s = info[0].As<Napi::Number>().Int32Value();
  const int n = st.anim ? 1 : st.demuxer ? static_cast<int>(st.demuxer->ctx()->nb_streams) : 0;
  if (s < 0 || s >= n) Throw(info.Env(), "ERR_INVALID_ARG", "no such stream");
  return s;
}

template <class W, class... A>
Napi::Value StartWorker(Napi::Env env, A &&... args) {
  return (new W(env, std::forward<A>(args)...))->Start();
}

}  // namespace vidlm
