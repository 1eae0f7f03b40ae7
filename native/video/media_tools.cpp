// The calls that need no source: encodePng() (png.h), ffmpegVersions() and videoCounters().
#include <string>
#include <vector>

#include "../errors.h"
#include "../worker.h"
#include "convert.h"
#include "ffmpeg_api.h"
#include "media_source.h"
#include "png.h"

namespace vidlm {

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

// videoCounters() -> { conversions }: pictures converted to RGB by this process (for tests)
Napi::Value VideoCounters(const Napi::CallbackInfo & info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("conversions", static_cast<double>(PicturesConverted()));
  return o;
}

}  // namespace vidlm
