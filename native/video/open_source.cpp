// open(): probes an input (a path, URL or bytes; an animated WebP by our own parser) into the
// MediaInfo JavaScript reads as NativeMediaInfo.
#include <fstream>
#include <iterator>

#include "../options.h"
#include "video_worker.h"

namespace vidlm {

namespace {

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
  o.Set("decodable", s.decodable);
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

}  // namespace

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

}  // namespace vidlm
