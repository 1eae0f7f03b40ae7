// The JavaScript face of native/video: a MediaSource wraps one Demuxer with its walkers and
// converter. Every call that touches FFmpeg runs in a PromiseWorker; calls on one source are
// serialised by its mutex (lib/video also queues them), and close() interrupts what runs.
#pragma once
#include <napi.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>

#include "convert.h"
#include "demuxer.h"
#include "live_audio.h"
#include "walker.h"
#include "webp_anim.h"

namespace vidlm {

struct SourceState {
  std::mutex mutex;              // held by the running call
  std::atomic<bool> closed{false};
  std::unique_ptr<Demuxer> demuxer;
  std::unique_ptr<WebpAnimation> anim;  // an animated WebP instead of a demuxer
  std::map<int, std::unique_ptr<Walker>> walkers;
  std::unique_ptr<LiveAudio> liveAudio;  // a live source's sound (liveNext with `audio`)
  FrameConverter converter;
  int64_t maxPixels = 0;
  bool open() const { return demuxer || anim; }
  void Reset() {
    walkers.clear();
    liveAudio.reset();
    demuxer.reset();
    anim.reset();
  }
  ~SourceState() { Reset(); }
};

class MediaSource : public Napi::ObjectWrap<MediaSource> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit MediaSource(const Napi::CallbackInfo & info);
  ~MediaSource() override;

 private:
  Napi::Value Open(const Napi::CallbackInfo & info);
  Napi::Value Walk(const Napi::CallbackInfo & info);
  Napi::Value LiveNext(const Napi::CallbackInfo & info);
  Napi::Value Scan(const Napi::CallbackInfo & info);
  Napi::Value HasPacket(const Napi::CallbackInfo & info);
  Napi::Value Audio(const Napi::CallbackInfo & info);
  Napi::Value Subtitles(const Napi::CallbackInfo & info);
  Napi::Value Interrupt(const Napi::CallbackInfo & info);
  Napi::Value Close(const Napi::CallbackInfo & info);

  std::shared_ptr<SourceState> state_;
};

Napi::Value EncodePngJs(const Napi::CallbackInfo & info);
Napi::Value FFmpegVersions(const Napi::CallbackInfo & info);
Napi::Value VideoCounters(const Napi::CallbackInfo & info);

}  // namespace vidlm
