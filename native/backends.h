// Backend plug-ins of a prebuilt (GGML_BACKEND_DL) addon: lib/loader.ts decides which ones to load
// (VIDLM_BACKEND, drivers present) and calls loadBackend for each, GPU first, CPU last.
#pragma once
#include <napi.h>
#include <string>
#include <vector>

namespace vidlm {
// { dynamic: bool, addonPath: string }: whether backends are plug-ins, and this module's file.
Napi::Value BackendInfo(const Napi::CallbackInfo & info);
// loadBackend(dir, name) -> { ok, name?, path?, variant?, devices?, error? }: loads the best
// [lib]ggml-<name>-*.so|dll in dir (highest ggml_backend_score), else [lib]ggml-<name>.so|dll.
Napi::Value LoadBackend(const Napi::CallbackInfo & info);
// The CPU plug-in's tag ("haswell", "zen4"...), or VIDLM_CPU_BUILTIN when the CPU backend is
// compiled in, or "" when a plug-in build has not loaded one yet.
std::string CpuVariant();
// The file vidlm.node was loaded from (its folder holds the plug-ins and FFmpeg's libraries).
std::string ModulePath();
// File paths of the plug-ins loaded so far.
std::vector<std::string> LoadedBackendPaths();
}  // namespace vidlm
