// walk() and liveNext(): the frames at or after target times (native/video/walker.h), converted
// to RGB (convert.h) and copied once into JavaScript.
#include <cmath>

#include "../options.h"
#include "video_worker.h"

namespace vidlm {

namespace {

Napi::Object StatsToJs(Napi::Env env, const WalkStats & s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("seeks", static_cast<double>(s.seeks));
  o.Set("packetsRead", static_cast<double>(s.packetsRead));
  o.Set("packetsDecoded", static_cast<double>(s.packetsDecoded));
  o.Set("framesDecoded", static_cast<double>(s.framesDecoded));
  o.Set("decodeErrors", static_cast<double>(s.decodeErrors));
  return o;
}

WalkStats Delta(const WalkStats & a, const WalkStats & b) {
  return {a.seeks - b.seeks, a.packetsRead - b.packetsRead, a.packetsDecoded - b.packetsDecoded, a.framesDecoded - b.framesDecoded, a.decodeErrors - b.decodeErrors};
}

struct FrameOut {
  int64_t t = 0;
  bool clamped = false, none = false;
  Picture pic;
};

Napi::Object FrameToJs(Napi::Env env, FrameOut & f) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("t", static_cast<double>(f.t));
  o.Set("clamped", f.clamped);
  o.Set("width", f.pic.width);
  o.Set("height", f.pic.height);
  // copied once into JavaScript's heap (external buffers are refused under V8's sandbox, e.g. Electron)
  o.Set("rgb", Napi::Buffer<uint8_t>::Copy(env, f.pic.rgb.data(), f.pic.rgb.size()));
  std::vector<uint8_t>().swap(f.pic.rgb);
  return o;
}

ConvertSpec ReadSpec(const Napi::Object & o) {
  ConvertSpec s;
  ReadOption(o, "width", s.width);
  ReadOption(o, "height", s.height);
  std::string fit = "stretch", scaler = "bicubic";
  ReadOption(o, "fit", fit);
  ReadOption(o, "scaler", scaler);
  s.fit = fit == "pad" ? Fit::Pad : fit == "crop" ? Fit::Crop : Fit::Stretch;
  const int flags = SwsFlagsByName(scaler);
  s.swsFlags = flags < 0 ? SWS_BICUBIC : flags;
  const Napi::Value pad = o.Get("padColor");
  if (pad.IsArray()) {
    Napi::Array a = pad.As<Napi::Array>();
    for (uint32_t i = 0; i < 3 && i < a.Length(); i++) s.pad[i] = static_cast<uint8_t>(a.Get(i).As<Napi::Number>().Int32Value());
  }
  const Napi::Value m = o.Get("matrix");
  if (m.IsArray() && m.As<Napi::Array>().Length() == 9) {
    s.hasMatrix = true;
    for (uint32_t i = 0; i < 9; i++) s.matrix[i] = m.As<Napi::Array>().Get(i).As<Napi::Number>().Int32Value();
  }
  return s;
}

Walker & WalkerFor(SourceState & st, int stream, int threads) {
  auto it = st.walkers.find(stream);
  if (it == st.walkers.end() || it->second->threads() != threads) {
    st.walkers[stream] = std::make_unique<Walker>(*st.demuxer, stream, threads, st.maxPixels);
    it = st.walkers.find(stream);
  }
  return *it->second;
}

class WalkWorker : public VideoWorker {
 public:
  WalkWorker(Napi::Env env, std::shared_ptr<SourceState> s, AbortFlag a, int stream, std::vector<int64_t> targets, ConvertSpec spec, int threads, WalkStrategy strategy, bool fresh)
      : VideoWorker(env, "vidlm.video.walk", std::move(s), std::move(a)), stream_(stream), targets_(std::move(targets)), spec_(spec), threads_(threads), strategy_(strategy), fresh_(fresh) {}

 protected:
  void Work() override {
    if (state_->anim) { RunAnimation(); return; }
    state_->demuxer->Only(stream_);
    Walker & w = WalkerFor(*state_, stream_, threads_);
    if (fresh_) w.Restart();
    const WalkStats before = w.stats();
    for (int64_t target : targets_) {
      Walker::Hit hit;
      if (!w.FrameAt(target, strategy_, hit, verr_)) break;
      FrameOut out;
      if (!hit.frame) { out.none = true; frames_.push_back(std::move(out)); continue; }
      out.t = hit.t;
      out.clamped = hit.clamped;
      std::string why;
      if (!state_->converter.Convert(hit.frame, spec_, out.pic, why)) {
        verr_ = {"ERR_VIDEO_DECODE", "convert", state_->demuxer->params().display + ": " + why, ""};
        break;
      }
      frames_.push_back(std::move(out));
    }
    stats_ = Delta(w.stats(), before);
  }
  void RunAnimation() {
    for (int64_t target : targets_) {
      if (abortFlag() && IsAborted(abortFlag())) { verr_ = {"ERR_ABORTED", "aborted", "aborted", ""}; return; }
      FrameOut out;
      const AVFrame * frame = nullptr;
      if (!state_->anim->FrameAt(target, out.t, out.clamped, frame, verr_)) return;
      std::string why;
      if (!state_->converter.Convert(frame, spec_, out.pic, why)) { verr_ = {"ERR_VIDEO_DECODE", "convert", why, ""}; return; }
      stats_.framesDecoded++;
      frames_.push_back(std::move(out));
    }
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object r = Napi::Object::New(env);
    Napi::Array a = Napi::Array::New(env, frames_.size());
    for (uint32_t i = 0; i < frames_.size(); i++) a.Set(i, frames_[i].none ? env.Null() : Napi::Value(FrameToJs(env, frames_[i])));
    r.Set("frames", a);
    r.Set("stats", StatsToJs(env, stats_));
    return r;
  }

 private:
  int stream_;
  std::vector<int64_t> targets_;
  ConvertSpec spec_;
  int threads_;
  WalkStrategy strategy_;
  bool fresh_;
  std::vector<FrameOut> frames_;
  WalkStats stats_;
};

class LiveWorker : public VideoWorker {
 public:
  LiveWorker(Napi::Env env, std::shared_ptr<SourceState> s, AbortFlag a, int stream, std::optional<int64_t> minT, ConvertSpec spec, int threads)
      : VideoWorker(env, "vidlm.video.live", std::move(s), std::move(a)), stream_(stream), minT_(minT), spec_(spec), threads_(threads) {}

 protected:
  void Work() override {
    if (!state_->demuxer) { verr_ = {"ERR_UNSUPPORTED", "not-live", "an animated WebP is not a live source", ""}; return; }
    state_->demuxer->Only(stream_);
    Walker & w = WalkerFor(*state_, stream_, threads_);
    Walker::Hit hit;
    if (!w.NextLive(minT_, hit, verr_) || !hit.frame) return;
    out_.t = hit.t;
    std::string why;
    if (!state_->converter.Convert(hit.frame, spec_, out_.pic, why)) verr_ = {"ERR_VIDEO_DECODE", "convert", why, ""};
    got_ = true;
  }
  Napi::Value Result(Napi::Env env) override { return got_ ? Napi::Value(FrameToJs(env, out_)) : env.Null(); }

 private:
  int stream_;
  std::optional<int64_t> minT_;
  ConvertSpec spec_;
  int threads_;
  FrameOut out_;
  bool got_ = false;
};

}  // namespace

// walk(stream, targets: number[] (ticks, ascending), spec, { threads, strategy, fresh }, token)
Napi::Value MediaSource::Walk(const Napi::CallbackInfo & info) {
  Napi::Env env = info.Env();
  const int stream = StreamArg(info, *state_);
  if (!info[1].IsArray() || !info[2].IsObject() || !info[3].IsObject()) Throw(env, "ERR_INVALID_ARG", "walk(stream, targets, spec, options)");
  Napi::Array a = info[1].As<Napi::Array>();
  std::vector<int64_t> targets;
  for (uint32_t i = 0; i < a.Length(); i++) {
    const double t = a.Get(i).As<Napi::Number>().DoubleValue();
    targets.push_back(std::isfinite(t) ? static_cast<int64_t>(t) : (t < 0 ? INT64_MIN : INT64_MAX));
  }
  int threads = 0;
  std::string strategy = "auto";
  bool fresh = false;
  ReadOption(info[3].As<Napi::Object>(), "threads", threads);
  ReadOption(info[3].As<Napi::Object>(), "strategy", strategy);
  ReadOption(info[3].As<Napi::Object>(), "fresh", fresh);
  const WalkStrategy s = strategy == "seek" ? WalkStrategy::Seek : strategy == "sequential" ? WalkStrategy::Sequential : WalkStrategy::Auto;
  return StartWorker<WalkWorker>(env, state_, AbortToken::From(env, info[4]), stream, std::move(targets), ReadSpec(info[2].As<Napi::Object>()), threads, s, fresh);
}

// liveNext(stream, minT: number | null (ticks), spec, threads, token)
Napi::Value MediaSource::LiveNext(const Napi::CallbackInfo & info) {
  Napi::Env env = info.Env();
  const int stream = StreamArg(info, *state_);
  std::optional<int64_t> minT;
  if (info[1].IsNumber()) minT = static_cast<int64_t>(std::floor(info[1].As<Napi::Number>().DoubleValue()));
  if (!info[2].IsObject()) Throw(env, "ERR_INVALID_ARG", "liveNext(stream, minT, spec, threads)");
  const int threads = info[3].IsNumber() ? info[3].As<Napi::Number>().Int32Value() : 0;
  return StartWorker<LiveWorker>(env, state_, AbortToken::From(env, info[4]), stream, minT, ReadSpec(info[2].As<Napi::Object>()), threads);
}

}  // namespace vidlm
