// Chat prompts through llama.cpp's own template code (common/chat: jinja first, built-in
// fallbacks), so vidlm's prompt is byte-for-byte what llama-mtmd-cli and llama-server build.
#include "template.h"

#include "chat.h"
#include "errors.h"

namespace vidlm {

static std::vector<common_chat_msg> Messages(Napi::Env env, const Napi::Value & v) {
  if (!v.IsArray()) Throw(env, "ERR_INVALID_ARG", "messages must be an array");
  std::vector<common_chat_msg> out;
  Napi::Array arr = v.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value e = arr.Get(i);
    if (!e.IsObject()) Throw(env, "ERR_INVALID_ARG", "message " + std::to_string(i) + " is not an object");
    Napi::Object m = e.As<Napi::Object>();
    if (!m.Get("role").IsString() || !m.Get("content").IsString()) {
      Throw(env, "ERR_INVALID_ARG", "message " + std::to_string(i) + " needs string role and content");
    }
    common_chat_msg msg;
    msg.role = m.Get("role").As<Napi::String>();
    msg.content = m.Get("content").As<Napi::String>();
    out.push_back(std::move(msg));
  }
  return out;
}

static common_chat_templates * Templates(ModelState & state, const std::string & override_) {
  if (!state.templates || state.templatesOverride != override_) {
    state.templates = common_chat_templates_init(state.model, override_);
    state.templatesOverride = override_;
  }
  return state.templates.get();
}

// model.formatTurn(history, message, { addAssistant, template }): only the text that
// `message` adds after `history` (what a follow-up turn evaluates), as llama-mtmd-cli does.
Napi::Value FormatTurn(const Napi::CallbackInfo & info, ModelState & state) {
  Napi::Env env = info.Env();
  std::vector<common_chat_msg> history = Messages(env, info[0]);
  std::vector<common_chat_msg> one = Messages(env, info[1]);
  if (one.size() != 1) Throw(env, "ERR_INVALID_ARG", "message must be an array of exactly one message");
  Napi::Object opts = info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(env);
  const bool addAssistant = !opts.Get("addAssistant").IsBoolean() || opts.Get("addAssistant").As<Napi::Boolean>().Value();
  const std::string override_ = opts.Get("template").IsString() ? opts.Get("template").As<Napi::String>().Utf8Value() : "";
  try {
    std::lock_guard<std::mutex> lock(state.templatesMutex);
    return Napi::String::New(env, common_chat_format_single(Templates(state, override_), history, one[0], addAssistant, /*use_jinja =*/true));
  } catch (const std::exception & e) {
    Throw(env, "ERR_TEMPLATE", std::string("the chat template failed: ") + e.what());
  }
}

Napi::Value ApplyTemplate(const Napi::CallbackInfo & info, ModelState & state) {
  Napi::Env env = info.Env();
  Napi::Object opts = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
  const bool addAssistant = !opts.Get("addAssistant").IsBoolean() || opts.Get("addAssistant").As<Napi::Boolean>().Value();
  const std::string override_ = opts.Get("template").IsString() ? opts.Get("template").As<Napi::String>().Utf8Value() : "";

  common_chat_templates_inputs inputs;
  inputs.use_jinja = true;  // llama.cpp's jinja engine, as llama-server
  inputs.add_generation_prompt = addAssistant;
  inputs.messages = Messages(env, info[0]);
  try {
    std::lock_guard<std::mutex> lock(state.templatesMutex);
    return Napi::String::New(env, common_chat_templates_apply(Templates(state, override_), inputs).prompt);
  } catch (const std::exception & e) {
    Throw(env, "ERR_TEMPLATE", std::string("the chat template failed: ") + e.what());
  }
}

}  // namespace vidlm
