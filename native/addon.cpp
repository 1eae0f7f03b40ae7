// Module entry: registers the addon's functions and classes. The surface is kept small on
// purpose (like mtmd's C API); lib/native.ts gives it types and turns options into checked values.
// Init runs once per JavaScript environment (main thread, each worker_thread); everything it
// creates lives in that environment's AddonData.
#include <napi.h>

#include <mutex>

#include "abort_token.h"
#include "addon_data.h"
#include "backends.h"
#include "compute.h"
#include "context.h"
#include "encoder_counters.h"
#include "errors.h"
#include "llama.h"
#include "log.h"
#include "model.h"
#include "versions.h"
#include "video/media_source.h"

namespace vidlm {

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  static std::once_flag backend;  // process-wide, whichever environment loads the addon first
  std::call_once(backend, [] {
    InstallLogHandler();
    llama_backend_init();
  });
  auto * data = new AddonData();
  env.SetInstanceData(data);  // deleted with the environment
  // Teardown: abort this environment's running calls and wait for them (native/work_registry.h).
  env.AddCleanupHook([work = data->work] { work->closeAndWait(); });

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
  exports.Set("computeCounters", Napi::Function::New(env, ComputeCounters, "computeCounters"));
  // video: FFmpeg's libraries are loaded on first use (native/video/ffmpeg_api.h)
  exports.Set("MediaSource", MediaSource::Define(env));
  exports.Set("encodePng", Napi::Function::New(env, EncodePngJs, "encodePng"));
  exports.Set("ffmpegVersions", Napi::Function::New(env, FFmpegVersions, "ffmpegVersions"));
  exports.Set("videoCounters", Napi::Function::New(env, VideoCounters, "videoCounters"));
  exports.Set("encoderCounters", Napi::Function::New(env, EncoderCounters, "encoderCounters"));
  return exports;
}

}  // namespace vidlm

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return vidlm::Init(env, exports); }
NODE_API_MODULE(vidlm, InitModule)
