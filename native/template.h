#pragma once
#include <napi.h>

#include "model.h"

namespace vidlm {
// model.applyTemplate(messages: {role, content}[], { addAssistant = true, template? } (jinja templates))
Napi::Value ApplyTemplate(const Napi::CallbackInfo & info, ModelState & state);
// model.formatTurn(history, [message], opts): the text one more message adds after history
Napi::Value FormatTurn(const Napi::CallbackInfo & info, ModelState & state);
}
