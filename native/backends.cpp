// Loading ggml backend plug-ins (see backends.h). ggml's own ggml_backend_load_all_from_path does
// the same search, but it neither says which file won nor why a file failed (a missing
// libcuda.so.1, libvulkan.so.1...), and the loader needs both: the variant for versions() and the
// reason for its one-line fallback warning.
#include "backends.h"

#include <cstring>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>

#include "ggml-backend.h"

#ifdef _WIN32
#  define WIN32_LEAN_AND_MEAN
#  include <windows.h>
#else
#  include <dlfcn.h>
#endif

namespace fs = std::filesystem;

namespace vidlm {

static std::mutex g_mutex;
static std::string g_cpu_variant;
static std::vector<std::string> g_loaded;
// name -> (path, variant, devices) of plug-ins already loaded: worker threads load the addon again.
struct Loaded { std::string reg_name, path, variant; size_t devices; };
static std::map<std::string, Loaded> g_by_name;

#ifdef _WIN32
using Handle = HMODULE;
static const char * kPrefix = "ggml-";
static const char * kSuffix = ".dll";
static Handle Open(const fs::path & p, std::string & err) {
  // Plug-ins find their sibling DLLs (and ggml-base.dll, already loaded) next to themselves.
  Handle h = LoadLibraryExW(p.wstring().c_str(), nullptr, LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR | LOAD_LIBRARY_SEARCH_DEFAULT_DIRS);
  if (!h) err = "LoadLibrary failed with error " + std::to_string(GetLastError());
  return h;
}
static void * Sym(Handle h, const char * name) { return reinterpret_cast<void *>(GetProcAddress(h, name)); }
static void Close(Handle h) { FreeLibrary(h); }
#else
using Handle = void *;
static const char * kPrefix = "libggml-";
static const char * kSuffix = ".so";  // ggml names its modules .so on macOS too
static Handle Open(const fs::path & p, std::string & err) {
  Handle h = dlopen(p.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char * e = dlerror();
    err = e ? e : "dlopen failed";
  }
  return h;
}
static void * Sym(Handle h, const char * name) { return dlsym(h, name); }
static void Close(Handle h) { dlclose(h); }
#endif

std::string ModulePath() {
#ifdef _WIN32
  HMODULE self = nullptr;
  GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                     reinterpret_cast<LPCWSTR>(&ModulePath), &self);
  wchar_t buf[32768];
  DWORD n = GetModuleFileNameW(self, buf, 32768);
  return fs::path(std::wstring(buf, n)).u8string();
#else
  Dl_info info{};
  if (dladdr(reinterpret_cast<void *>(&ModulePath), &info) && info.dli_fname) return info.dli_fname;
  return "";
#endif
}

std::string CpuVariant() {
  std::lock_guard<std::mutex> lock(g_mutex);
#ifdef GGML_BACKEND_DL
  return g_cpu_variant;
#else
  return VIDLM_CPU_BUILTIN;
#endif
}

std::vector<std::string> LoadedBackendPaths() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_loaded;
}

static Napi::Object Result(Napi::Env env, const Loaded & l) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("ok", true);
  out.Set("name", l.reg_name);
  out.Set("path", l.path);
  out.Set("variant", l.variant);
  out.Set("devices", static_cast<double>(l.devices));
  return out;
}

Napi::Value BackendInfo(const Napi::CallbackInfo & info) {
  Napi::Object out = Napi::Object::New(info.Env());
#ifdef GGML_BACKEND_DL
  out.Set("dynamic", true);
#else
  out.Set("dynamic", false);
#endif
  out.Set("addonPath", ModulePath());
  return out;
}

Napi::Value LoadBackend(const Napi::CallbackInfo & info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString()) {
    Napi::TypeError::New(env, "loadBackend(dir: string, name: string)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const fs::path dir = fs::u8path(info[0].As<Napi::String>().Utf8Value());
  const std::string name = info[1].As<Napi::String>().Utf8Value();
  const std::string exact = std::string(kPrefix) + name + kSuffix;
  const std::string prefix = std::string(kPrefix) + name + "-";
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    auto it = g_by_name.find(name);
    if (it != g_by_name.end()) return Result(env, it->second);
  }

  // Candidates: every variant file, then the plain one. Score each without registering it.
  std::vector<fs::path> candidates;
  std::error_code ec;
  for (fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string file = it->path().filename().u8string();
    if (file.size() > prefix.size() + std::strlen(kSuffix) && file.rfind(prefix, 0) == 0 &&
        file.compare(file.size() - std::strlen(kSuffix), std::string::npos, kSuffix) == 0) {
      candidates.push_back(it->path());
    }
  }
  if (fs::exists(dir / exact, ec)) candidates.push_back(dir / exact);

  std::string errors;
  fs::path best;
  int best_score = 0;
  for (const auto & p : candidates) {
    std::string err;
    Handle h = Open(p, err);
    if (!h) {
      errors += (errors.empty() ? "" : "; ") + p.filename().u8string() + ": " + err;
      continue;
    }
    auto score_fn = reinterpret_cast<int (*)()>(Sym(h, "ggml_backend_score"));
    int s = score_fn ? score_fn() : 1;  // GPU plug-ins have no score: loadable means usable
    Close(h);
    if (s > best_score) { best_score = s; best = p; }
  }
  if (best.empty()) {
    out.Set("ok", false);
    out.Set("error", candidates.empty() ? "no " + exact + " or " + prefix + "*" + kSuffix + " in " + dir.u8string()
                                        : errors.empty() ? "no variant supports this CPU" : errors);
    return out;
  }

  ggml_backend_reg_t reg = nullptr;
  try {  // a plug-in's initialisation must not unwind into Node
    reg = ggml_backend_load(best.u8string().c_str());
  } catch (const std::exception & e) {
    out.Set("ok", false);
    out.Set("error", best.filename().u8string() + ": " + e.what());
    return out;
  }
  if (!reg) {
    out.Set("ok", false);
    out.Set("error", best.filename().u8string() + ": ggml could not initialise it (VIDLM_LOG=2 shows why)");
    return out;
  }
  const size_t devices = ggml_backend_reg_dev_count(reg);
  if (devices == 0 && name != "cpu") {
    // The library and its driver loaded but there is no GPU (or the driver is too old for it).
    ggml_backend_unload(reg);
    out.Set("ok", false);
    out.Set("error", std::string(best.filename().u8string()) + ": no " + name + " device found");
    return out;
  }
  const std::string file = best.filename().u8string();
  const std::string variant = file.rfind(prefix, 0) == 0 ? file.substr(prefix.size(), file.size() - prefix.size() - std::strlen(kSuffix)) : "";
  Loaded l{ggml_backend_reg_name(reg), best.u8string(), variant, devices};
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    g_loaded.push_back(l.path);
    g_by_name[name] = l;
    if (name == "cpu") g_cpu_variant = variant.empty() ? "default" : variant;
  }
  return Result(env, l);
}

}  // namespace vidlm
