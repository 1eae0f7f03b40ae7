#include "media_source.h"

#include <cmath>
#include <fstream>
#include <thread>

#include "../errors.h"
#include "../options.h"
#include "../worker.h"
#include "audio.h"
#include "png.h"
#include "subtitles.h"

namespace vidlm {

namespace {

// Rejects with the VideoError's code, and its reason and FFmpeg's words as `details`.
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
      if (state_->demuxer) state_->demuxer->Begin(abortFlag());
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

Napi::Object StreamToJs(Napi::Env env, const StreamInfo & s) {
  Napi::Object o = Napi::Object::New(env);
  auto ratio = [&](AVRational r) {
    Napi::Array a = Napi::Array::New(env, 2);
    a.Set(0u, r.num);
    a.Set(1u, r.den);
    return a;
  };
  auto opt = [&](const std::optional<int64_t> & v) -> Napi::Value { return v ? Napi::Number::New(env, static_cast<double>(*v)) : env.Null(); };
  o.Set("index", s.index);
  o.Set("type", s.type);
  o.Set("codec", s.codec);
  if (!s.profile.empty()) o.Set("profile", s.profile);
  o.Set("timeBase", ratio(s.timeBase));
  o.Set("startTime", opt(s.startTime));
  o.Set("duration", opt(s.duration));
  o.Set("nbFrames", static_cast<double>(s.nbFrames));
  o.Set("isDefault", s.isDefault);
  o.Set("attachedPic", s.attachedPic);
  if (!s.language.empty()) o.Set("language", s.language);
  if (!s.title.empty()) o.Set("title", s.title);
  if (s.type == "video") {
    o.Set("width", s.width);
    o.Set("height", s.height);
    o.Set("pixFmt", s.pixFmt);
    o.Set("bitDepth", s.bitDepth);
    o.Set("sar", ratio(s.sar));
    o.Set("avgFps", ratio(s.avgFps));
    o.Set("rFps", ratio(s.rFps));
    if (s.displayMatrix) {
      Napi::Array m = Napi::Array::New(env, 9);
      for (uint32_t i = 0; i < 9; i++) m.Set(i, (*s.displayMatrix)[i]);
      o.Set("displayMatrix", m);
    } else {
      o.Set("displayMatrix", env.Null());
    }
  } else if (s.type == "audio") {
    o.Set("sampleRate", s.sampleRate);
    o.Set("channels", s.channels);
    o.Set("channelLayout", s.channelLayout);
    o.Set("sampleFormat", s.sampleFmt);
  }
  return o;
}

Napi::Object InfoToJs(Napi::Env env, const MediaInfo & m) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("format", m.format);
  o.Set("duration", m.duration ? Napi::Value(Napi::Number::New(env, *m.duration)) : env.Null());
  o.Set("startTime", m.startTime ? Napi::Value(Napi::Number::New(env, *m.startTime)) : env.Null());
  o.Set("bitRate", static_cast<double>(m.bitRate));
  Napi::Array streams = Napi::Array::New(env, m.streams.size());
  for (uint32_t i = 0; i < m.streams.size(); i++) streams.Set(i, StreamToJs(env, m.streams[i]));
  o.Set("streams", streams);
  return o;
}

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

// ---- open ----

class OpenWorker : public VideoWorker {
 public:
  OpenWorker(Napi::Env env, std::shared_ptr<SourceState> s, OpenParams p, AbortFlag a)
      : VideoWorker(env, "vidlm.video.open", std::move(s), std::move(a)), params_(std::move(p)) {}

 protected:
  bool NeedsDemuxer() const override { return false; }
  void Work() override {
    if (state_->open()) { verr_ = {"ERR_INVALID_ARG", "reopen", "the source is already open", ""}; return; }
    state_->maxPixels = params_.maxPixels;
    if (SniffAnimatedWebp()) {
      // FFmpeg 7.1 cannot decode these: native/video/webp_anim.h
      if (params_.bytes.empty() && !ReadAll(params_.url, params_.bytes)) {
        verr_ = {"ERR_VIDEO_OPEN", "open-failed", "cannot read " + params_.display, ""};
        return;
      }
      state_->anim = WebpAnimation::Parse(std::move(params_.bytes), params_.display, params_.maxPixels, verr_);
      return;
    }
    state_->demuxer = Demuxer::Open(std::move(params_), abortFlag(), &state_->closed, verr_);
  }
  Napi::Value Result(Napi::Env env) override { return InfoToJs(env, state_->anim ? state_->anim->Info() : state_->demuxer->info()); }
  void Settled() override {}

 private:
  bool SniffAnimatedWebp() const {
    if (!params_.bytes.empty()) return WebpAnimation::Sniff(params_.bytes.data(), params_.bytes.size());
    if (params_.url.find("://") != std::string::npos || !params_.format.empty()) return false;
    uint8_t head[32] = {0};
    std::ifstream in(params_.url, std::ios::binary);
    in.read(reinterpret_cast<char *>(head), sizeof head);
    return in.gcount() > 0 && WebpAnimation::Sniff(head, static_cast<size_t>(in.gcount()));
  }
  static bool ReadAll(const std::string & path, std::vector<uint8_t> & out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return true;
  }

  OpenParams params_;
};

// ---- walk: the frames at or after target times, converted ----

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

// ---- scan: every packet's presentation time (no decoding) ----

class ScanWorker : public VideoWorker {
 public:
  ScanWorker(Napi::Env env, std::shared_ptr<SourceState> s, AbortFlag a, int stream)
      : VideoWorker(env, "vidlm.video.scan", std::move(s), std::move(a)), stream_(stream) {}

 protected:
  void Work() override {
    if (state_->anim) {
      for (int64_t t : state_->anim->times()) pts_.push_back(static_cast<double>(t));
      end_ = *state_->anim->Info().streams[0].duration;
      return;
    }
    const FFmpeg & f = ff();
    Demuxer & dm = *state_->demuxer;
    dm.Only(stream_);
    state_->walkers.erase(stream_);  // the read position moves under any walker
    AVStream * st = dm.ctx()->streams[stream_];
    const int64_t start = st->start_time == AV_NOPTS_VALUE ? 0 : st->start_time;
    f.av_seek_frame(dm.ctx(), stream_, start, AVSEEK_FLAG_BACKWARD);
    AVPacket * p = f.av_packet_alloc();
    int ret = 0;
    while (dm.ReadPacket(p, stream_, ret)) {
      const int64_t t = p->pts != AV_NOPTS_VALUE ? p->pts : p->dts;
      if (t != AV_NOPTS_VALUE) {
        pts_.push_back(static_cast<double>(t));
        end_ = std::max(end_, static_cast<double>(t + (p->duration > 0 ? p->duration : 0)));
      }
      f.av_packet_unref(p);
    }
    f.av_packet_free(&p);
    if (ret != AVERROR_EOF) {
      VideoError e = dm.ReadError(ret, "read");
      if (e.code != "ERR_VIDEO_DECODE") { verr_ = e; return; }
    }
    std::sort(pts_.begin(), pts_.end());
    f.av_seek_frame(dm.ctx(), stream_, start, AVSEEK_FLAG_BACKWARD);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object r = Napi::Object::New(env);
    Napi::Float64Array a = Napi::Float64Array::New(env, pts_.size());
    std::copy(pts_.begin(), pts_.end(), a.Data());
    r.Set("pts", a);
    r.Set("end", end_);
    return r;
  }

 private:
  int stream_;
  std::vector<double> pts_;
  double end_ = 0;
};

// Whether the stream has any packet within its first `max` packets (zero-length files).
class HasPacketWorker : public VideoWorker {
 public:
  HasPacketWorker(Napi::Env env, std::shared_ptr<SourceState> s, AbortFlag a, int stream)
      : VideoWorker(env, "vidlm.video.hasPacket", std::move(s), std::move(a)), stream_(stream) {}

 protected:
  void Work() override {
    if (state_->anim) { found_ = true; return; }
    const FFmpeg & f = ff();
    Demuxer & dm = *state_->demuxer;
    AVPacket * p = f.av_packet_alloc();
    for (int k = 0; k < 1000 && f.av_read_frame(dm.ctx(), p) >= 0; k++) {
      const bool hit = p->stream_index == stream_;
      f.av_packet_unref(p);
      if (hit) { found_ = true; break; }
    }
    f.av_packet_free(&p);
    state_->walkers.erase(stream_);
    f.av_seek_frame(dm.ctx(), stream_, 0, AVSEEK_FLAG_BACKWARD);
  }
  Napi::Value Result(Napi::Env env) override { return Napi::Boolean::New(env, found_); }

 private:
  int stream_;
  bool found_ = false;
};

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

class CloseWorker : public VideoWorker {
 public:
  CloseWorker(Napi::Env env, std::shared_ptr<SourceState> s)
      : VideoWorker(env, "vidlm.video.close", std::move(s), nullptr) {}

 protected:
  bool NeedsDemuxer() const override { return false; }
  void Work() override { state_->Reset(); }  // under the mutex: after the call that ran
  Napi::Value Result(Napi::Env env) override { return env.Undefined(); }
};

int StreamArg(const Napi::CallbackInfo & info, const SourceState & st) {
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

// open(input: string | Uint8Array, { format, options: [k, v][], timeoutMs, network, maxPixels }, token)
Napi::Value MediaSource::Open(const Napi::CallbackInfo & info) {
  Napi::Env env = info.Env();
  OpenParams p;
  if (info[0].IsString()) {
    p.url = p.display = info[0].As<Napi::String>().Utf8Value();
  } else if (info[0].IsTypedArray()) {
    Napi::Uint8Array a = info[0].As<Napi::Uint8Array>();
    if (a.ByteLength() == 0) Throw(env, "ERR_VIDEO_OPEN", "cannot open an empty buffer");
    p.bytes.assign(a.Data(), a.Data() + a.ByteLength());  // FFmpeg reads its own copy, off the JS thread
    p.display = "<buffer " + std::to_string(a.ByteLength()) + " bytes>";
  } else {
    Throw(env, "ERR_INVALID_ARG", "a video source must be a path, a URL or a Uint8Array");
  }
  if (info[1].IsObject()) {
    Napi::Object o = info[1].As<Napi::Object>();
    ReadOption(o, "format", p.format);
    double timeoutMs = 10000;
    ReadOption(o, "timeoutMs", timeoutMs);
    p.timeoutUs = static_cast<int64_t>(timeoutMs * 1000);
    ReadOption(o, "network", p.network);
    ReadOption(o, "maxPixels", p.maxPixels);
    ReadOption(o, "display", p.display);
    const Napi::Value opts = o.Get("options");
    if (opts.IsArray()) {
      Napi::Array a = opts.As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); i++) {
        Napi::Array kv = a.Get(i).As<Napi::Array>();
        p.options.emplace_back(kv.Get(0u).ToString().Utf8Value(), kv.Get(1u).ToString().Utf8Value());
      }
    }
  }
  return StartWorker<OpenWorker>(env, state_, std::move(p), AbortToken::From(env, info[2]));
}

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

Napi::Value MediaSource::Scan(const Napi::CallbackInfo & info) {
  const int stream = StreamArg(info, *state_);
  return StartWorker<ScanWorker>(info.Env(), state_, AbortToken::From(info.Env(), info[1]), stream);
}

Napi::Value MediaSource::HasPacket(const Napi::CallbackInfo & info) {
  const int stream = StreamArg(info, *state_);
  return StartWorker<HasPacketWorker>(info.Env(), state_, AbortToken::From(info.Env(), info[1]), stream);
}

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

// Makes the running call (and every later one) return at once; close() then frees.
Napi::Value MediaSource::Interrupt(const Napi::CallbackInfo & info) {
  state_->closed.store(true);
  return info.Env().Undefined();
}

Napi::Value MediaSource::Close(const Napi::CallbackInfo & info) {
  state_->closed.store(true);
  return StartWorker<CloseWorker>(info.Env(), state_);
}

// ---- free functions ----

namespace {
class PngWorker : public PromiseWorker {
 public:
  PngWorker(Napi::Env env, int w, int h, std::vector<uint8_t> rgb)
      : PromiseWorker(env, "vidlm.video.png", "ERR_VIDEO_DECODE"), w_(w), h_(h), rgb_(std::move(rgb)) {}

 protected:
  void Run() override {
    std::string why;
    try {
      if (!EncodePng(w_, h_, rgb_.data(), png_, why)) Fail("ERR_VIDEO_DECODE", why);
    } catch (const std::exception & e) {
      Fail("ERR_NATIVE_LOAD", e.what());
    }
  }
  Napi::Value Result(Napi::Env env) override { return Napi::Buffer<uint8_t>::Copy(env, png_.data(), png_.size()); }

 private:
  int w_, h_;
  std::vector<uint8_t> rgb_, png_;
};
}  // namespace

// encodePng(width, height, rgb: Uint8Array) -> Promise<Buffer>
Napi::Value EncodePngJs(const Napi::CallbackInfo & info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsTypedArray()) Throw(env, "ERR_INVALID_ARG", "encodePng(width, height, rgb)");
  const int w = info[0].As<Napi::Number>().Int32Value(), h = info[1].As<Napi::Number>().Int32Value();
  Napi::Uint8Array a = info[2].As<Napi::Uint8Array>();
  if (w < 1 || h < 1 || w > 16384 || h > 16384 || a.ByteLength() < static_cast<size_t>(w) * h * 3) Throw(env, "ERR_INVALID_ARG", "encodePng: the size does not match the pixels");
  return (new PngWorker(env, w, h, std::vector<uint8_t>(a.Data(), a.Data() + static_cast<size_t>(w) * h * 3)))->Start();
}

// ffmpegVersions() -> { avcodec, avformat, avutil, swscale, swresample, version } or throws ERR_NATIVE_LOAD
Napi::Value FFmpegVersions(const Napi::CallbackInfo & info) {
  Napi::Env env = info.Env();
  const FFmpeg * f = nullptr;
  try {
    f = &ff();
  } catch (const std::exception & e) {
    Throw(env, "ERR_NATIVE_LOAD", e.what());
  }
  auto v = [](unsigned x) { return std::to_string(AV_VERSION_MAJOR(x)) + "." + std::to_string(AV_VERSION_MINOR(x)) + "." + std::to_string(AV_VERSION_MICRO(x)); };
  Napi::Object o = Napi::Object::New(env);
  o.Set("version", f->av_version_info());
  o.Set("avcodec", v(f->avcodec_version()));
  o.Set("avformat", v(f->avformat_version()));
  o.Set("avutil", v(f->avutil_version()));
  o.Set("swscale", v(f->swscale_version()));
  o.Set("swresample", v(f->swresample_version()));
  o.Set("dir", FFmpegDir());
  return o;
}

}  // namespace vidlm
