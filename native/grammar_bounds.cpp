#include "grammar_bounds.h"

#include <utility>
#include <vector>

#include "errors.h"
#include "json-schema-to-grammar.h"
#include "quiet_stderr.h"

namespace vidlm {

namespace {

// Deepest ( ) nesting outside string literals, character classes and comments.
int GrammarDepth(const std::string & s) {
  int depth = 0, deepest = 0;
  for (size_t i = 0; i < s.size(); i++) {
    const char c = s[i];
    if (c == '#') {
      while (i < s.size() && s[i] != '\n' && s[i] != '\r') i++;
    } else if (c == '"' || c == '[') {
      const char close = c == '"' ? '"' : ']';
      for (i++; i < s.size() && s[i] != close; i++) {
        if (s[i] == '\\') i++;
      }
    } else if (c == '(') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ')') {
      depth--;
    }
  }
  return deepest;
}

// Deepest nesting of objects and arrays, without recursion.
int JsonDepth(const common_json & root) {
  int deepest = 0;
  std::vector<std::pair<const common_json *, int>> todo{{&root, 1}};
  while (!todo.empty()) {
    auto [j, d] = todo.back();
    todo.pop_back();
    if (!j->is_object() && !j->is_array()) continue;
    deepest = std::max(deepest, d);
    if (d > kMaxSchemaDepth) return d;
    for (const auto & child : *j) todo.emplace_back(&child, d + 1);
  }
  return deepest;
}

}  // namespace

void CheckGrammar(Napi::Env env, const llama_vocab * vocab, const std::string & gbnf) {
  if (gbnf.size() > kMaxGrammarBytes) {
    Throw(env, "ERR_GRAMMAR", "the grammar has " + std::to_string(gbnf.size()) + " bytes; at most " + std::to_string(kMaxGrammarBytes));
  }
  const int depth = GrammarDepth(gbnf);
  if (depth > kMaxGrammarDepth) {
    Throw(env, "ERR_GRAMMAR", "the grammar nests groups " + std::to_string(depth) + " deep; at most " + std::to_string(kMaxGrammarDepth));
  }
  llama_sampler * parsed;
  {
    QuietStderr quiet;
    parsed = llama_sampler_init_grammar(vocab, gbnf.c_str(), "root");
  }
  if (!parsed) Throw(env, "ERR_GRAMMAR", "the grammar does not parse as GBNF with a root rule");
  llama_sampler_free(parsed);
}

std::string SchemaToGrammar(Napi::Env env, const std::string & json) {
  if (json.size() > kMaxSchemaBytes) {
    Throw(env, "ERR_GRAMMAR", "the JSON schema has " + std::to_string(json.size()) + " bytes; at most " + std::to_string(kMaxSchemaBytes));
  }
  common_json schema;
  try {
    schema = common_json::parse(json);
  } catch (const std::exception & e) {
    Throw(env, "ERR_GRAMMAR", std::string("the JSON schema is not JSON: ") + e.what());
  }
  const int depth = JsonDepth(schema);
  if (depth > kMaxSchemaDepth) {
    Throw(env, "ERR_GRAMMAR", "the JSON schema nests " + std::to_string(depth) + " levels; at most " + std::to_string(kMaxSchemaDepth));
  }
  try {
    QuietStderr quiet;
    return json_schema_to_grammar(schema);
  } catch (const std::exception & e) {
    Throw(env, "ERR_GRAMMAR", std::string("invalid JSON schema: ") + e.what());
  }
}

}  // namespace vidlm
