// Tool calling through llama.cpp's own chat code (common/chat): the template rendered with the
// tools and the tool choice (llama.cpp picks the model family's format, or its generic JSON one,
// and the grammar that forces a call), and the model's output parsed back into content and tool
// calls by that format's parser. Both run off the JavaScript thread, as template rendering does.
#include "chat_tools.h"

#include "chat.h"
#include "json-schema-to-grammar.h"
#include "template.h"
#include "worker.h"

#include <regex>

namespace vidlm {

namespace {

std::string Str(const Napi::Object & o, const char * key, const std::string & def = "") {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : def;
}

struct ToolsInputs {
  std::string messages;  // OpenAI messages as JSON text (tool_calls, tool results included)
  std::string tools;     // OpenAI tools as JSON text
  std::string toolChoice;
  bool parallel = false;
  std::string override_;
};

struct ToolsResult {
  common_chat_params params;
  std::map<std::string, bool> caps;  // what the template can render (supports_tools, supports_tool_calls, ...)
};

ToolsResult ApplyTools(ModelState & state, const ToolsInputs & in) {
  common_chat_templates_inputs inputs;
  inputs.use_jinja = true;
  inputs.add_generation_prompt = true;
  inputs.messages = common_chat_msgs_parse_oaicompat(common_json::parse(in.messages));
  inputs.tools = common_chat_tools_parse_oaicompat(common_json::parse(in.tools));
  inputs.tool_choice = common_chat_tool_choice_parse_oaicompat(in.toolChoice);
  inputs.parallel_tool_calls = in.parallel;
  std::lock_guard<std::mutex> lock(state.templatesMutex);
  common_chat_templates * t = Templates(state, in.override_);
  return {common_chat_templates_apply(t, inputs), common_chat_templates_get_caps(t)};
}

// A forced call's grammar starts with the generation prompt, which the template already put at
// the end of the prompt (llama.cpp's sampler feeds its tokens to the grammar first, which fails
// when the tokenizer adds a space before it, as SentencePiece does): the grammar for what the
// model generates after it, the call from its first token, or "" when the root rule does not
// start with that literal.
std::string GrammarAfterPrompt(const common_chat_params & p) {
  if (p.grammar.empty() || p.grammar_lazy || p.generation_prompt.empty()) return "";
  const std::string head = "root ::= " + gbnf_format_literal(p.generation_prompt) + " ";
  const size_t at = p.grammar.find(head);
  if (at == std::string::npos || (at > 0 && p.grammar[at - 1] != '\n')) return "";
  std::string g = p.grammar;
  g.replace(at, head.size(), "root ::= ");
  // llama.cpp lets free text come before a required call (`until-N?`, up to the call's marker);
  // vidlm's forced call starts at once, so a model cannot wander before it and never call
  static const std::regex preamble(R"(root ::= (space )?until-\d+\? )");
  return std::regex_replace(g, preamble, "root ::= $1", std::regex_constants::format_first_only);
}

Napi::Array Strings(Napi::Env env, const std::vector<std::string> & v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); i++) a.Set(i, Napi::String::New(env, v[i]));
  return a;
}

class ApplyToolsWorker : public PromiseWorker {
 public:
  ApplyToolsWorker(Napi::Env env, std::shared_ptr<ModelState> state, ToolsInputs in)
      : PromiseWorker(env, "vidlm.applyToolsTemplate", "ERR_TEMPLATE"), state_(std::move(state)), in_(std::move(in)) {}

 protected:
  void Run() override {
    try {
      r_ = ApplyTools(*state_, in_);
    } catch (const std::exception & e) {
      Fail("ERR_TEMPLATE", std::string("the chat template failed with tools: ") + e.what());
    }
  }
  Napi::Value Result(Napi::Env env) override {
    const common_chat_params & p_ = r_.params;
    Napi::Object o = Napi::Object::New(env);
    const auto cap = [&](const char * k) { auto it = r_.caps.find(k); return it != r_.caps.end() && it->second; };
    o.Set("supportsTools", cap("supports_tools"));
    o.Set("supportsToolCalls", cap("supports_tool_calls"));
    o.Set("prompt", p_.prompt);
    o.Set("grammar", p_.grammar);
    o.Set("grammarLazy", p_.grammar_lazy);
    o.Set("grammarAfterPrompt", GrammarAfterPrompt(p_));
    o.Set("format", static_cast<double>(p_.format));
    o.Set("formatName", common_chat_format_name(p_.format));
    o.Set("generationPrompt", p_.generation_prompt);
    o.Set("parser", p_.parser);
    o.Set("additionalStops", Strings(env, p_.additional_stops));
    Napi::Array triggers = Napi::Array::New(env, p_.grammar_triggers.size());
    for (size_t i = 0; i < p_.grammar_triggers.size(); i++) {
      Napi::Object t = Napi::Object::New(env);
      t.Set("type", static_cast<double>(p_.grammar_triggers[i].type));
      t.Set("value", p_.grammar_triggers[i].value);
      triggers.Set(i, t);
    }
    o.Set("grammarTriggers", triggers);
    return o;
  }

 private:
  std::shared_ptr<ModelState> state_;  // kept alive while the call runs (dispose() mid-call)
  ToolsInputs in_;
  ToolsResult r_;
};

struct ParseInputs {
  std::string text;
  bool partial = false;
  int format = 0;
  std::string generationPrompt;
  std::string parser;
};

class ParseWorker : public PromiseWorker {
 public:
  ParseWorker(Napi::Env env, ParseInputs in) : PromiseWorker(env, "vidlm.parseChatOutput", "ERR_TOOL_PARSE"), in_(std::move(in)) {}

 protected:
  void Run() override {
    try {
      common_chat_parser_params p;
      p.format = static_cast<common_chat_format>(in_.format);
      p.generation_prompt = in_.generationPrompt;
      if (!in_.parser.empty()) p.parser.load(in_.parser);
      msg_ = common_chat_parse(in_.text, in_.partial, p);
    } catch (const std::exception & e) {
      Fail("ERR_TOOL_PARSE", std::string("the model's output does not parse as its chat format: ") + e.what());
    }
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("content", msg_.content);
    o.Set("reasoningContent", msg_.reasoning_content);
    Napi::Array calls = Napi::Array::New(env, msg_.tool_calls.size());
    for (size_t i = 0; i < msg_.tool_calls.size(); i++) {
      Napi::Object c = Napi::Object::New(env);
      c.Set("name", msg_.tool_calls[i].name);
      c.Set("arguments", msg_.tool_calls[i].arguments);
      c.Set("id", msg_.tool_calls[i].id);
      calls.Set(i, c);
    }
    o.Set("toolCalls", calls);
    return o;
  }

 private:
  ParseInputs in_;
  common_chat_msg msg_;
};

}  // namespace

Napi::Value ApplyToolsTemplateAsync(const Napi::CallbackInfo & info, std::shared_ptr<ModelState> state) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || !info[1].IsString()) Throw(env, "ERR_INVALID_ARG", "messages and tools must be JSON text");
  Napi::Object opts = info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(env);
  ToolsInputs in;
  in.messages = info[0].As<Napi::String>().Utf8Value();
  in.tools = info[1].As<Napi::String>().Utf8Value();
  in.toolChoice = Str(opts, "toolChoice", "auto");
  in.parallel = opts.Get("parallelToolCalls").IsBoolean() && opts.Get("parallelToolCalls").As<Napi::Boolean>().Value();
  in.override_ = Str(opts, "template");
  return (new ApplyToolsWorker(env, std::move(state), std::move(in)))->Start();
}

Napi::Value ParseChatOutputAsync(const Napi::CallbackInfo & info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) Throw(env, "ERR_INVALID_ARG", "text must be a string");
  Napi::Object opts = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
  ParseInputs in;
  in.text = info[0].As<Napi::String>().Utf8Value();
  in.partial = opts.Get("partial").IsBoolean() && opts.Get("partial").As<Napi::Boolean>().Value();
  const double format = opts.Get("format").IsNumber() ? opts.Get("format").As<Napi::Number>().DoubleValue() : 0;
  if (!(format >= 0 && format < COMMON_CHAT_FORMAT_COUNT)) Throw(env, "ERR_INVALID_ARG", "format is not a chat format");
  in.format = static_cast<int>(format);
  in.generationPrompt = Str(opts, "generationPrompt");
  in.parser = Str(opts, "parser");
  return (new ParseWorker(env, std::move(in)))->Start();
}

}  // namespace vidlm
