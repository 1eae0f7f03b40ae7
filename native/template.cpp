// Chat prompts through llama.cpp's own template code (common/chat: jinja first, built-in
// fallbacks), so vidlm's prompt is byte-for-byte what llama-mtmd-cli and llama-server build.
#include "template.h"

#include "chat.h"
#include "errors.h"

namespace vidlm {

Napi::Value ApplyTemplate(const Napi::CallbackInfo & info, ModelState & state) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) Throw(env, "ERR_INVALID_ARG", "messages must be an array");
  Napi::Object opts = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
  const bool addAssistant = !opts.Get("addAssistant").IsBoolean() || opts.Get("addAssistant").As<Napi::Boolean>().Value();
  const bool useJinja = !opts.Get("useJinja").IsBoolean() || opts.Get("useJinja").As<Napi::Boolean>().Value();
  const std::string override_ = opts.Get("template").IsString() ? opts.Get("template").As<Napi::String>().Utf8Value() : "";

  common_chat_templates_inputs inputs;
  inputs.use_jinja = useJinja;
  inputs.add_generation_prompt = addAssistant;
  Napi::Array arr = info[0].As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value v = arr.Get(i);
    if (!v.IsObject()) Throw(env, "ERR_INVALID_ARG", "message " + std::to_string(i) + " is not an object");
    Napi::Object m = v.As<Napi::Object>();
    if (!m.Get("role").IsString() || !m.Get("content").IsString()) {
      Throw(env, "ERR_INVALID_ARG", "message " + std::to_string(i) + " needs string role and content");
    }
    common_chat_msg msg;
    msg.role = m.Get("role").As<Napi::String>();
    msg.content = m.Get("content").As<Napi::String>();
    inputs.messages.push_back(std::move(msg));
  }
  try {
    std::lock_guard<std::mutex> lock(state.templatesMutex);
    if (!state.templates || state.templatesOverride != override_) {
      state.templates = common_chat_templates_init(state.model, override_);
      state.templatesOverride = override_;
    }
    return Napi::String::New(env, common_chat_templates_apply(state.templates.get(), inputs).prompt);
  } catch (const std::exception & e) {
    Throw(env, "ERR_TEMPLATE", std::string("the chat template failed: ") + e.what());
  }
}

}  // namespace vidlm
