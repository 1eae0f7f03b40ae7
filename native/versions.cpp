// versions(): what this build of vidlm is made of and which devices ggml sees.
#include "versions.h"

#include "backends.h"

#include "ggml-backend.h"
#include "llama.h"

namespace vidlm {

static const char * DevType(enum ggml_backend_dev_type t) {
  switch (t) {
    case GGML_BACKEND_DEVICE_TYPE_CPU: return "cpu";
    case GGML_BACKEND_DEVICE_TYPE_GPU: return "gpu";
    case GGML_BACKEND_DEVICE_TYPE_IGPU: return "igpu";
    case GGML_BACKEND_DEVICE_TYPE_ACCEL: return "accel";
    default: return "unknown";
  }
}

Napi::Value Versions(const Napi::CallbackInfo & info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("vidlm", VIDLM_VERSION);
  Napi::Object llama = Napi::Object::New(env);
  llama.Set("tag", VIDLM_LLAMA_TAG);
  llama.Set("commit", VIDLM_LLAMA_COMMIT);
  out.Set("llamaCpp", llama);

  Napi::Array backends = Napi::Array::New(env);
  Napi::Array cpuFeatures = Napi::Array::New(env);
  for (size_t i = 0; i < ggml_backend_reg_count(); i++) {
    ggml_backend_reg_t reg = ggml_backend_reg_get(i);
    Napi::Object b = Napi::Object::New(env);
    b.Set("name", ggml_backend_reg_name(reg));
    Napi::Array devices = Napi::Array::New(env);
    for (size_t j = 0; j < ggml_backend_reg_dev_count(reg); j++) {
      ggml_backend_dev_t dev = ggml_backend_reg_dev_get(reg, j);
      ggml_backend_dev_props props;
      ggml_backend_dev_get_props(dev, &props);
      Napi::Object d = Napi::Object::New(env);
      d.Set("name", props.name ? props.name : "");
      d.Set("description", props.description ? props.description : "");
      d.Set("type", DevType(props.type));
      d.Set("memoryFree", static_cast<double>(props.memory_free));
      d.Set("memoryTotal", static_cast<double>(props.memory_total));
      devices.Set(j, d);
    }
    b.Set("devices", devices);
    auto get_features = reinterpret_cast<ggml_backend_get_features_t>(
        ggml_backend_reg_get_proc_address(reg, "ggml_backend_get_features"));
    Napi::Object features = Napi::Object::New(env);
    if (get_features) {
      for (ggml_backend_feature * f = get_features(reg); f && f->name; f++) {
        features.Set(f->name, f->value);
        if (std::string(ggml_backend_reg_name(reg)) == "CPU") cpuFeatures.Set(cpuFeatures.Length(), f->name);
      }
    }
    b.Set("features", features);
    backends.Set(i, b);
  }
  out.Set("backends", backends);
  out.Set("cpuFeatures", cpuFeatures);
  // Which CPU kernels run: the plug-in ggml scored best for this CPU (prebuilds), or how the
  // compiled-in backend was built ("native" = -march=native, "portable").
  out.Set("cpuVariant", CpuVariant());
  Napi::Array libs = Napi::Array::New(env);
  for (const auto & p : LoadedBackendPaths()) libs.Set(libs.Length(), p);
  out.Set("backendLibraries", libs);
  out.Set("systemInfo", llama_print_system_info());
  out.Set("gpuOffload", llama_supports_gpu_offload());
  return out;
}

}  // namespace vidlm
