#pragma once
#include <napi.h>

#include "model.h"

namespace vidlm {
// The model's parsed chat templates (the override's when given), made on first use; hold state.templatesMutex.
common_chat_templates * Templates(ModelState & state, const std::string & override_);
// model.applyTemplate(messages: {role, content}[], { addAssistant = true, template? } (jinja templates))
Napi::Value ApplyTemplate(const Napi::CallbackInfo & info, ModelState & state);
// model.applyTemplateAsync(messages, opts): the same prompt, rendered off the JavaScript thread
Napi::Value ApplyTemplateAsync(const Napi::CallbackInfo & info, std::shared_ptr<ModelState> state);
// model.formatTurn(history, [message], opts): the text one more message adds after history
Napi::Value FormatTurn(const Napi::CallbackInfo & info, ModelState & state);
}
