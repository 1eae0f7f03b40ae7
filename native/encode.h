#pragma once
#include <napi.h>

#include <memory>

#include "model.h"

namespace vidlm {
Napi::Value Encode(const Napi::CallbackInfo & info, std::shared_ptr<ModelState> state);
// model.encodeAudio(pcm, abortToken?): a clip's embeddings read out (native/encode_audio.cpp)
Napi::Value EncodeAudio(const Napi::CallbackInfo & info, std::shared_ptr<ModelState> state);
}
