// Per-environment state of the addon (Napi::Env instance data): the main thread and every
// worker_thread that loads vidlm get their own, so nothing JavaScript-owned is shared between
// isolates. A new class adds its constructor reference here.
#pragma once
#include <napi.h>

#include <memory>

#include "work_registry.h"

namespace vidlm {

struct AddonData {
  Napi::FunctionReference modelClass, contextClass, abortTokenClass;
  Napi::FunctionReference errorClass;  // lib/native.ts registers VidlmError
  std::shared_ptr<WorkRegistry> work = std::make_shared<WorkRegistry>();
};

inline AddonData & Data(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace vidlm
