#pragma once
#include <napi.h>

#include <memory>

#include "model.h"

namespace vidlm {
Napi::Value Encode(const Napi::CallbackInfo & info, std::shared_ptr<ModelState> state);
}
