#pragma once
#include <napi.h>

#include "model.h"

namespace vidlm {
// model.applyToolsTemplateAsync(messagesJson, toolsJson, { toolChoice, parallelToolCalls, template }):
// llama.cpp's chat params for a tool request (prompt, grammar, format, parser, stops)
Napi::Value ApplyToolsTemplateAsync(const Napi::CallbackInfo & info, std::shared_ptr<ModelState> state);
// model.parseChatOutputAsync(text, { partial, format, generationPrompt, parser }): content and tool calls
Napi::Value ParseChatOutputAsync(const Napi::CallbackInfo & info);
}
