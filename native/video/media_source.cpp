// MediaSource: the class JavaScript sees, its method table and its lifetime (close, interrupt,
// garbage collection). Each call lives with its concept: open_source.cpp, probe_workers.cpp,
// walk_workers.cpp, sound_workers.cpp.
#include "media_source.h"

#include "video_worker.h"

namespace vidlm {

namespace {

class CloseWorker : public VideoWorker {
 public:
  CloseWorker(Napi::Env env, std::shared_ptr<SourceState> s)
      : VideoWorker(env, "vidlm.video.close", std::move(s), nullptr) {}

 protected:
  bool NeedsDemuxer() const override { return false; }
  void Work() override { state_->Reset(); }  // under the mutex: after the call that ran
  Napi::Value Result(Napi::Env env) override { return env.Undefined(); }
};

}  // namespace

Napi::Function MediaSource::Define(Napi::Env env) {
  return DefineClass(env, "MediaSource", {
    InstanceMethod("open", &MediaSource::Open),
    InstanceMethod("walk", &MediaSource::Walk),
    InstanceMethod("liveNext", &MediaSource::LiveNext),
    InstanceMethod("scan", &MediaSource::Scan),
    InstanceMethod("hasPacket", &MediaSource::HasPacket),
    InstanceMethod("audio", &MediaSource::Audio),
    InstanceMethod("subtitles", &MediaSource::Subtitles),
    InstanceMethod("interrupt", &MediaSource::Interrupt),
    InstanceMethod("close", &MediaSource::Close),
  });
}

MediaSource::MediaSource(const Napi::CallbackInfo & info)
    : Napi::ObjectWrap<MediaSource>(info), state_(std::make_shared<SourceState>()) {}

MediaSource::~MediaSource() {
  // garbage-collected without close(): running calls end early; the last of them frees FFmpeg
  state_->closed.store(true);
}

// Makes the running call (and every later one) return at once; close() then frees.
Napi::Value MediaSource::Interrupt(const Napi::CallbackInfo & info) {
  state_->closed.store(true);
  return info.Env().Undefined();
}

Napi::Value MediaSource::Close(const Napi::CallbackInfo & info) {
  state_->closed.store(true);
  return StartWorker<CloseWorker>(info.Env(), state_);
}

}  // namespace vidlm
