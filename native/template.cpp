// Chat prompts through llama.cpp's own template code (common/chat: jinja first, built-in
// fallbacks), so vidlm's prompt is byte-for-byte what llama-mtmd-cli and llama-server build.
#include "template.h"

#include "chat.h"
#include "errors.h"
#include "worker.h"

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

common_chat_templates * Templates(ModelState & state, const std::string & override_) {
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

struct ApplyInputs {
  common_chat_templates_inputs inputs;
  std::string override_;
};

static ApplyInputs ReadApply(const Napi::CallbackInfo & info) {
  Napi::Env env = info.Env();
  Napi::Object opts = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
  ApplyInputs a;
  a.inputs.use_jinja = true;  // llama.cpp's jinja engine, as llama-server
  a.inputs.add_generation_prompt = !opts.Get("addAssistant").IsBoolean() || opts.Get("addAssistant").As<Napi::Boolean>().Value();
  a.inputs.messages = Messages(env, info[0]);
  a.override_ = opts.Get("template").IsString() ? opts.Get("template").As<Napi::String>().Utf8Value() : "";
  return a;
}

static std::string Apply(ModelState & state, const ApplyInputs & a) {
  std::lock_guard<std::mutex> lock(state.templatesMutex);
  return common_chat_templates_apply(Templates(state, a.override_), a.inputs).prompt;
}

Napi::Value ApplyTemplate(const Napi::CallbackInfo & info, ModelState & state) {
  Napi::Env env = info.Env();
  const ApplyInputs a = ReadApply(info);
  try {
    return Napi::String::New(env, Apply(state, a));
  } catch (const std::exception & e) {
    Throw(env, "ERR_TEMPLATE", std::string("the chat template failed: ") + e.what());
  }
}

namespace {
// common_chat_templates_apply runs llama.cpp's template analysis on every call (about 2 ms on a
// small template): a server renders each request's prompt here, off the JavaScript thread.
class ApplyTemplateWorker : public PromiseWorker {
 public:
  ApplyTemplateWorker(Napi::Env env, std::shared_ptr<ModelState> state, ApplyInputs a)
      : PromiseWorker(env, "vidlm.applyTemplate", "ERR_TEMPLATE"), state_(std::move(state)), a_(std::move(a)) {}

 protected:
  void Run() override {
    try {
      prompt_ = Apply(*state_, a_);
    } catch (const std::exception & e) {
      Fail("ERR_TEMPLATE", std::string("the chat template failed: ") + e.what());
    }
  }
  Napi::Value Result(Napi::Env env) override { return Napi::String::New(env, prompt_); }

 private:
  std::shared_ptr<ModelState> state_;  // kept alive while the call runs (dispose() mid-call)
  ApplyInputs a_;
  std::string prompt_;
};
}  // namespace

Napi::Value ApplyTemplateAsync(const Napi::CallbackInfo & info, std::shared_ptr<ModelState> state) {
  ApplyInputs a = ReadApply(info);
  return (new ApplyTemplateWorker(info.Env(), std::move(state), std::move(a)))->Start();
}

}  // namespace vidlm
