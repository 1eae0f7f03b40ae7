#pragma once
#include <napi.h>

namespace vidlm {
Napi::Value Versions(const Napi::CallbackInfo & info);
}
