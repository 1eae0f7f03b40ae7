// audio() and subtitles(): the tracks besides the picture (audio.h resamples, subtitles.h
// decodes text cues). Both move the read position, so the video walkers start over afterwards.
#include <algorithm>

#include "../options.h"
#include "audio.h"
#include "subtitles.h"
#include "video_worker.h"

namespace vidlm {

namespace {

class AudioWorker : public VideoWorker {
 public:
  AudioWorker(Napi::Env env, std::shared_ptr<SourceState> s, AbortFlag a, AudioRequest req)
      : VideoWorker(env, "vidlm.video.audio", std::move(s), std::move(a)), req_(req) {}

 protected:
  void Work() override {
    if (!state_->demuxer) { verr_ = {"ERR_VIDEO_NO_STREAM", "no-audio", "an animated WebP has no audio", ""}; return; }
    // the video walkers' read positions move: they start over on their next call
    state_->walkers.clear();
    ExtractAudio(*state_->demuxer, req_, pcm_, verr_);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Float32Array a = Napi::Float32Array::New(env, pcm_.size());
    std::copy(pcm_.begin(), pcm_.end(), a.Data());
    return a;
  }

 private:
  AudioRequest req_;
  std::vector<float> pcm_;
};

class SubtitlesWorker : public VideoWorker {
 public:
  SubtitlesWorker(Napi::Env env, std::shared_ptr<SourceState> s, AbortFlag a, int stream, double origin)
      : VideoWorker(env, "vidlm.video.subtitles", std::move(s), std::move(a)), stream_(stream), origin_(origin) {}

 protected:
  void Work() override {
    if (!state_->demuxer) { verr_ = {"ERR_VIDEO_NO_STREAM", "no-subtitles", "an animated WebP has no subtitles", ""}; return; }
    state_->walkers.clear();  // the read position moves, as for audio()
    ExtractSubtitles(*state_->demuxer, stream_, origin_, result_, verr_);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Array cues = Napi::Array::New(env, result_.cues.size());
    for (uint32_t i = 0; i < result_.cues.size(); i++) {
      const SubtitleCue & c = result_.cues[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("start", c.start);
      o.Set("end", c.end < 0 ? env.Null() : Napi::Value(Napi::Number::New(env, c.end)));
      o.Set("text", c.text);
      cues.Set(i, o);
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("cues", cues);
    o.Set("errors", result_.errors);
    return o;
  }

 private:
  int stream_;
  double origin_;
  SubtitleResult result_;
};

}  // namespace

// audio(stream, { start, end, origin, rate, channels }, token)
Napi::Value MediaSource::Audio(const Napi::CallbackInfo & info) {
  AudioRequest r;
  r.stream = StreamArg(info, *state_);
  if (!info[1].IsObject()) Throw(info.Env(), "ERR_INVALID_ARG", "audio(stream, options)");
  Napi::Object o = info[1].As<Napi::Object>();
  ReadOption(o, "start", r.start);
  ReadOption(o, "end", r.end);
  ReadOption(o, "origin", r.origin);
  ReadOption(o, "rate", r.rate);
  ReadOption(o, "channels", r.channels);
  if (r.rate < 1000 || r.rate > 384000 || (r.channels != 1 && r.channels != 2) || !(r.end >= r.start) || (r.end - r.start) * r.rate > 1e10)
    Throw(info.Env(), "ERR_INVALID_ARG", "audio: bad rate, channels or segment");
  return StartWorker<AudioWorker>(info.Env(), state_, AbortToken::From(info.Env(), info[2]), r);
}

// subtitles(stream, origin, token) → { cues: [{ start, end, text }], errors }
Napi::Value MediaSource::Subtitles(const Napi::CallbackInfo & info) {
  const int stream = StreamArg(info, *state_);
  const double origin = info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : 0;
  return StartWorker<SubtitlesWorker>(info.Env(), state_, AbortToken::From(info.Env(), info[2]), stream, origin);
}

}  // namespace vidlm
