// Grammars and JSON schemas come from callers. llama.cpp's GBNF parser and its schema converter
// recurse once per nesting level and end the process when the stack runs out (about 20,000
// levels of "(" did), so both are bounded here before llama.cpp sees any of the text. Every
// failure is ERR_GRAMMAR.
#pragma once
#include <napi.h>

#include <string>

#include "llama.h"

namespace vidlm {

constexpr size_t kMaxGrammarBytes = 256 * 1024;
constexpr int kMaxGrammarDepth = 128;  // nested ( ) groups
constexpr size_t kMaxSchemaBytes = 256 * 1024;
constexpr int kMaxSchemaDepth = 64;    // nested objects and arrays

// Size and nesting of GBNF text, then llama.cpp's own parse of it (quietly).
void CheckGrammar(Napi::Env env, const llama_vocab * vocab, const std::string & gbnf);
// A JSON schema (JSON text) as GBNF, through llama.cpp's converter, after its size and depth.
std::string SchemaToGrammar(Napi::Env env, const std::string & json);

}  // namespace vidlm
