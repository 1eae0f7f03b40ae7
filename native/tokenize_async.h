#pragma once
#include <napi.h>

#include "model.h"

namespace vidlm {
// model.tokenizeAsync(text, parseSpecial = true): the text's tokens (no BOS), tokenized off the
// JavaScript thread, so a long message or subtitle transcript does not stall a server's event loop.
Napi::Value TokenizeAsync(const Napi::CallbackInfo & info, std::shared_ptr<ModelState> state);
// model.maxTokenBytes(): the longest token piece of the vocabulary in bytes (special tokens
// included): a text of B bytes is at least B / maxTokenBytes tokens, known before tokenizing it.
Napi::Value MaxTokenBytes(const Napi::CallbackInfo & info, ModelState & state);
}
