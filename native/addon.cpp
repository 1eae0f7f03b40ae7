// Module entry: registers the addon's functions and classes. The surface is kept small on
// purpose (like mtmd's C API); lib/native.ts gives it types and turns options into checked values.
#include <napi.h>

#include "abort_token.h"
#include "backends.h"
#include "context.h"
#include "errors.h"
#include "llama.h"
#include "log.h"
#include "model.h"
#include "versions.h"
#include "video/media_source.h"

namespace vidlm {

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  static bool initialized = false;
  if (!initialized) {  // process-wide; safe to share between worker threads' instances
    InstallLogHandler();
    llama_backend_init();
    initialized = true;
  }
  exports.Set("versions", Napi::Function::New(env, Versions, "versions"));
  exports.Set("backendInfo", Napi::Function::New(env, BackendInfo, "backendInfo"));
  exports.Set("loadBackend", Napi::Function::New(env, LoadBackend, "loadBackend"));
  exports.Set("setErrorClass", Napi::Function::New(env, [](const Napi::CallbackInfo & info) {
    SetErrorClass(info);
  }, "setErrorClass"));
  exports.Set("AbortToken", AbortToken::Define(env));
  exports.Set("Model", Model::Define(env));
  exports.Set("Context", Context::Define(env));
  exports.Set("loadModel", Napi::Function::New(env, LoadModel, "loadModel"));
  // video: FFmpeg's libraries are loaded on first use (native/video/ffmpeg_api.h)
  exports.Set("MediaSource", MediaSource::Define(env));
  exports.Set("encodePng", Napi::Function::New(env, EncodePngJs, "encodePng"));
  exports.Set("ffmpegVersions", Napi::Function::New(env, FFmpegVersions, "ffmpegVersions"));
  return exports;
}

}  // namespace vidlm

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return vidlm::Init(env, exports); }
NODE_API_MODULE(vidlm, InitModule)
