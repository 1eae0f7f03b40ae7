// walk() and liveNext(): the frames at or after target times (native/video/walker.h), or the
// frames a live source's sampling keeps, converted to RGB (convert.h) and copied once into
// JavaScript.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

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

// How the live loop in lib/video/live.ts samples, so that the frames it does not keep are
// decoded and dropped here, unconverted: the same rules, on the same numbers (doubles).
struct LiveSampling {
  double tb = 0;                       // seconds per tick
  std::optional<double> first;         // stream time of the stretch's first frame (unset: none yet)
  double nextT = 0;                    // the next sampling time, relative to `first`
  std::optional<int64_t> prevT;        // the last decoded frame (ticks) and when it was decoded
  double prevWall = 0;                 // (ms since the epoch, as Date.now())
  double maxJump = 5;                  // seconds ahead of the wall clock that start a new stretch
  double yieldMs = 250;                // a call that keeps nothing returns a frame's time after this
  int audioStream = -1;                // the sound read along (LiveAudio), at audioRate, mono
  int audioRate = 16000;
};

double WallMs() {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

// isDiscontinuity() of lib/video/live.ts
bool IsDiscontinuity(double prevSt, double prevWall, double st, double wall, double maxJump) {
  if (st < prevSt - 1e-3) return true;
  return st - prevSt - std::max(0.0, wall - prevWall) / 1000 > maxJump;
}

// Reads on to the next frame live.ts keeps (the first of a connection, one at or after the
// next sampling time, or the first after a discontinuity), converts only that one, and returns
// it with the frame decoded before it. A call that has kept nothing for yieldMs returns the
// time of the frame it decoded last, unconverted: the caller sees the stream moving (its stall
// deadline is per call) and passes that frame back as `prev`.
class LiveWorker : public VideoWorker {
 public:
  LiveWorker(Napi::Env env, std::shared_ptr<SourceState> s, AbortFlag a, int stream, LiveSampling sampling, ConvertSpec spec, int threads)
      : VideoWorker(env, "vidlm.video.live", std::move(s), std::move(a)), stream_(stream), s_(sampling), spec_(spec), threads_(threads) {}

 protected:
  void Work() override {
    if (!state_->demuxer) { verr_ = {"ERR_UNSUPPORTED", "not-live", "an animated WebP is not a live source", ""}; return; }
    Demuxer & dm = *state_->demuxer;
    start_ = std::chrono::steady_clock::now();
    // the sound's packets are decoded as the reads pass them; the runs go back with this call's frame
    struct Sound {
      Demuxer & dm;
      LiveAudio * audio;
      std::vector<AudioRun> & runs;
      ~Sound() {
        dm.Side(-1, nullptr);
        if (audio) runs = audio->Take();
      }
    } sound{dm, nullptr, runs_};
    if (s_.audioStream >= 0) {
      auto & la = state_->liveAudio;
      if (!la || la->stream() != s_.audioStream || la->rate() != s_.audioRate) la = std::make_unique<LiveAudio>(dm.ctx()->streams[s_.audioStream], s_.audioRate);
      LiveAudio * a = la.get();
      sound.audio = a;
      // while no picture comes the sound still does: after yieldMs with sound decoded, the call
      // returns it (no frame) so that the caller keeps it and sees the pictures alone stalled
      dm.Side(s_.audioStream, [a, this](const AVPacket * p) {
        a->Packet(p);
        return a->Pending() && ElapsedMs() >= s_.yieldMs;
      });
    }
    dm.Only(stream_);
    Walker & w = WalkerFor(*state_, stream_, threads_);
    for (;;) {
      if (abortFlag() && IsAborted(abortFlag())) { verr_ = {"ERR_ABORTED", "aborted", "aborted", ""}; return; }
      Walker::Hit hit;
      if (!w.NextLive(std::nullopt, hit, verr_) || !hit.frame) {
        soundOnly_ = !verr_.failed() && verr_.reason == "yield";
        if (soundOnly_ && !got_) out_.wall = WallMs();
        return;
      }
      const double wall = WallMs(), st = static_cast<double>(hit.t) * s_.tb;
      const bool jumped = s_.prevT && IsDiscontinuity(static_cast<double>(*s_.prevT) * s_.tb, s_.prevWall, st, wall, s_.maxJump);
      const bool keep = jumped || !s_.first || !(st - *s_.first < s_.nextT - 1e-6);
      got_ = true;
      out_.f.t = hit.t;
      out_.wall = wall;
      out_.prevT = s_.prevT;
      out_.prevWall = s_.prevWall;
      out_.jumped = jumped;
      if (keep) {
        std::string why;
        if (!state_->converter.Convert(hit.frame, spec_, out_.f.pic, why)) verr_ = {"ERR_VIDEO_DECODE", "convert", why, ""};
        out_.kept = true;
        return;
      }
      skipped_++;
      s_.prevT = hit.t;
      s_.prevWall = wall;
      if (ElapsedMs() >= s_.yieldMs) return;
    }
  }
  Napi::Value Result(Napi::Env env) override {
    if (!got_ && !soundOnly_) return env.Null();
    Napi::Object o = out_.kept ? FrameToJs(env, out_.f) : Napi::Object::New(env);
    // a call that brought sound and no picture: t null, only `audio` counts
    if (!out_.kept) o.Set("t", got_ ? Napi::Value(Napi::Number::New(env, static_cast<double>(out_.f.t))) : env.Null());
    o.Set("kept", out_.kept);
    o.Set("wall", out_.wall);
    o.Set("prevT", out_.prevT ? Napi::Value(Napi::Number::New(env, static_cast<double>(*out_.prevT))) : env.Null());
    o.Set("prevWall", out_.prevWall);
    o.Set("discontinuity", out_.jumped);
    o.Set("skipped", skipped_);
    Napi::Array audio = Napi::Array::New(env, runs_.size());
    for (uint32_t i = 0; i < runs_.size(); i++) {
      Napi::Object r = Napi::Object::New(env);
      r.Set("t", runs_[i].t);
      Napi::Float32Array pcm = Napi::Float32Array::New(env, runs_[i].pcm.size());
      std::copy(runs_[i].pcm.begin(), runs_[i].pcm.end(), pcm.Data());
      r.Set("samples", pcm);
      audio.Set(i, r);
    }
    o.Set("audio", audio);
    return o;
  }

 private:
  int stream_;
  LiveSampling s_;
  ConvertSpec spec_;
  int threads_;
  struct {
    FrameOut f;
    double wall = 0, prevWall = 0;
    std::optional<int64_t> prevT;
    bool jumped = false, kept = false;
  } out_;
  bool got_ = false, soundOnly_ = false;
  double skipped_ = 0;
  std::chrono::steady_clock::time_point start_;
  double ElapsedMs() const { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count(); }
  std::vector<AudioRun> runs_;
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

// liveNext(stream, sampling: { tb, first, nextT, prevT, prevWall, maxJump, yieldMs }, spec, threads, token)
Napi::Value MediaSource::LiveNext(const Napi::CallbackInfo & info) {
  Napi::Env env = info.Env();
  const int stream = StreamArg(info, *state_);
  if (!info[1].IsObject() || !info[2].IsObject()) Throw(env, "ERR_INVALID_ARG", "liveNext(stream, sampling, spec, threads)");
  Napi::Object o = info[1].As<Napi::Object>();
  LiveSampling s;
  ReadOption(o, "tb", s.tb);
  ReadOption(o, "nextT", s.nextT);
  ReadOption(o, "prevWall", s.prevWall);
  ReadOption(o, "maxJump", s.maxJump);
  ReadOption(o, "yieldMs", s.yieldMs);
  if (o.Get("first").IsNumber()) s.first = o.Get("first").As<Napi::Number>().DoubleValue();
  if (o.Get("prevT").IsNumber()) s.prevT = static_cast<int64_t>(o.Get("prevT").As<Napi::Number>().DoubleValue());
  ReadOption(o, "audioStream", s.audioStream);
  ReadOption(o, "audioRate", s.audioRate);
  if (!(s.tb > 0)) Throw(env, "ERR_INVALID_ARG", "liveNext: sampling.tb must be > 0");
  if (s.audioStream >= 0) {
    const AVFormatContext * ctx = state_->demuxer ? state_->demuxer->ctx() : nullptr;
    if (!ctx || s.audioStream >= static_cast<int>(ctx->nb_streams) || s.audioStream == stream || ctx->streams[s.audioStream]->codecpar->codec_type != AVMEDIA_TYPE_AUDIO) {
      Throw(env, "ERR_INVALID_ARG", "liveNext: sampling.audioStream must be an audio stream of the source");
    }
    if (s.audioRate < 1000 || s.audioRate > 384000) Throw(env, "ERR_INVALID_ARG", "liveNext: sampling.audioRate must be in [1000, 384000]");
  }
  const int threads = info[3].IsNumber() ? info[3].As<Napi::Number>().Int32Value() : 0;
  return StartWorker<LiveWorker>(env, state_, AbortToken::From(env, info[4]), stream, s, ReadSpec(info[2].As<Napi::Object>()), threads);
}

}  // namespace vidlm
