// Text tokens as embedding rows: the model's own token_embd rows, dequantized to f32, so a plan
// that interleaves text with visual embeddings (LITA's time tokens between frames) can go to
// llama_decode as a few large embedding batches instead of one small decode per item.
#pragma once
#include <cstdint>
#include <vector>

#include "llama.h"

namespace vidlm {

struct ModelState;

// True when feeding a token's row as an embedding is the same computation as feeding the token:
// architectures whose graph has no token-only step (Gemma scales token rows by sqrt(n_embd),
// DeepSeek/GLM/Qwen3.5 keep token ids for other inputs...) and no LoRA. Checked once at load.
bool TokenRowsExact(const ModelState & m);

// Writes token `t`'s row into out[0..dim): n_embd values, zero-padded up to dim (n_embd_inp).
// `scratch` holds the raw row between calls.
void TokenRow(const llama_model * model, llama_token t, int dim, float * out, std::vector<uint8_t> & scratch);

}  // namespace vidlm
