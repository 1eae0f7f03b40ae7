// Text tokens as embedding rows: the model's own token_embd rows, dequantized to f32, so a plan
// that interleaves text with visual embeddings (LITA's time tokens between frames) can go to
// llama_decode as a few large embedding batches instead of one small decode per item.
//
// llama.h has no public accessor for a model's token embedding matrix (llama_model::tok_embd is
// in the private llama-model.h). The rows are read instead where they are public: the model's
// GGUF file, through ggml's gguf.h (offset, type and row size of `token_embd.weight`). A public
// `llama_model_get_token_embd()` (or `llama_token_to_embd(model, token, float * out)`) would
// replace the file reads.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ggml.h"
#include "llama.h"

namespace vidlm {

// `token_embd.weight` as it lies in the model's GGUF file.
class TokenRows {
 public:
  // The rows of `path`, when feeding a token's row as an embedding is the same computation as
  // feeding the token, for this architecture and width; null otherwise (the caller decodes
  // tokens as tokens). Called once at load.
  static std::unique_ptr<TokenRows> Open(const std::string & path, const std::string & architecture, int nEmbd);
  ~TokenRows();

  // Writes token `t`'s row into out[0..dim): n_embd values, zero-padded up to dim (n_embd_inp).
  // `scratch` holds the raw row between calls. False when the file cannot be read.
  bool Row(llama_token t, int dim, float * out, std::vector<uint8_t> & scratch) const;

 private:
  TokenRows() = default;
  std::FILE * file_ = nullptr;
  mutable std::mutex mutex_;  // one file position, shared by the contexts of the model
  ggml_type type_ = GGML_TYPE_F32;
  int64_t n_ = 0;              // values per row
  size_t rowBytes_ = 0;
  uint64_t offset_ = 0;        // first row in the file
  int64_t rows_ = 0;
};

}  // namespace vidlm
