#include "ffmpeg_api.h"

#include "../backends.h"

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <stdexcept>

#ifdef _WIN32
#  define WIN32_LEAN_AND_MEAN
#  include <windows.h>
#else
#  include <dlfcn.h>
#endif

namespace fs = std::filesystem;

namespace vidlm {

#define VIDLM_STR2(x) #x
#define VIDLM_STR(x) VIDLM_STR2(x)

// File names of the pinned build (--build-suffix=-vidlm), majors from the headers compiled against.
static std::string LibFile(const std::string & lib, int major) {
#if defined(_WIN32)
  return lib + "-vidlm-" + std::to_string(major) + ".dll";
#elif defined(__APPLE__)
  return "lib" + lib + "-vidlm." + std::to_string(major) + ".dylib";
#else
  return "lib" + lib + "-vidlm.so." + std::to_string(major);
#endif
}

static std::string AddonDir() {
  const fs::path p = fs::u8path(ModulePath());
  return p.has_parent_path() ? p.parent_path().u8string() : std::string(".");
}

std::string FFmpegDir() {
  const char * env = std::getenv("VIDLM_FFMPEG_DIR");
  return env && *env ? std::string(env) : AddonDir();
}

namespace {

struct Loader {
  FFmpeg table;
  std::string error;
  bool ok = false;

  void * Open(const std::string & lib, int major) {
    const std::string path = (fs::path(FFmpegDir()) / LibFile(lib, major)).string();
#ifdef _WIN32
    HMODULE h = LoadLibraryExA(path.c_str(), nullptr, LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR | LOAD_LIBRARY_SEARCH_DEFAULT_DIRS);
    if (!h) throw std::runtime_error("cannot load " + path + " (error " + std::to_string(GetLastError()) + ")");
    return reinterpret_cast<void *>(h);
#else
    int flags = RTLD_NOW | RTLD_LOCAL;
#  ifdef RTLD_DEEPBIND
    flags |= RTLD_DEEPBIND;  // FFmpeg's calls between its own libraries stay inside our copies
#  endif
    void * h = dlopen(path.c_str(), flags);
    if (!h) {
      const char * e = dlerror();
      throw std::runtime_error(e ? e : ("cannot load " + path));
    }
    return h;
#endif
  }

  static void * Sym(void * h, const char * name) {
#ifdef _WIN32
    return reinterpret_cast<void *>(GetProcAddress(reinterpret_cast<HMODULE>(h), name));
#else
    return dlsym(h, name);
#endif
  }

  void Load() {
    // dependencies first, so each library finds the others already loaded
    void * avutil = Open("avutil", LIBAVUTIL_VERSION_MAJOR);
    void * swresample = Open("swresample", LIBSWRESAMPLE_VERSION_MAJOR);
    void * avcodec = Open("avcodec", LIBAVCODEC_VERSION_MAJOR);
    void * avformat = Open("avformat", LIBAVFORMAT_VERSION_MAJOR);
    void * swscale = Open("swscale", LIBSWSCALE_VERSION_MAJOR);
#define VIDLM_FFMPEG_LOAD(lib, fn)                                                      \
    table.fn = reinterpret_cast<decltype(table.fn)>(Sym(lib, #fn));                     \
    if (!table.fn) throw std::runtime_error(std::string("FFmpeg's ") + #lib + " has no " + #fn);
    VIDLM_FFMPEG_FUNCTIONS(VIDLM_FFMPEG_LOAD)
#undef VIDLM_FFMPEG_LOAD
    // the headers we compiled against must match the libraries found (same major, minor >= ours)
    const unsigned v = table.avcodec_version();
    if (AV_VERSION_MAJOR(v) != LIBAVCODEC_VERSION_MAJOR || AV_VERSION_MINOR(v) < LIBAVCODEC_VERSION_MINOR)
      throw std::runtime_error("libavcodec " + std::to_string(AV_VERSION_MAJOR(v)) + "." + std::to_string(AV_VERSION_MINOR(v)) +
                               " is older than the headers vidlm was built with (" VIDLM_STR(LIBAVCODEC_VERSION_MAJOR) "." VIDLM_STR(LIBAVCODEC_VERSION_MINOR) ")");
    table.avformat_network_init();
  }
};

}  // namespace

void InstallFFmpegLog(const FFmpeg & api);  // video/log.cpp

const FFmpeg & ff() {
  static std::once_flag once;
  static Loader loader;
  std::call_once(once, [] {
    try {
      loader.Load();
      InstallFFmpegLog(loader.table);
      loader.ok = true;
    } catch (const std::exception & e) {
      loader.error = e.what();
    }
  });
  if (!loader.ok) throw std::runtime_error("FFmpeg libraries: " + loader.error);
  return loader.table;
}

std::string AvError(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  if (ff().av_strerror(err, buf, sizeof buf) < 0) return "error " + std::to_string(err);
  return buf;
}

}  // namespace vidlm
