#include "token_rows.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "ggml-backend.h"
#include "ggml.h"
#include "llama-model.h"  // llama_model::tok_embd (internal: same source tree as the library)
#include "model.h"

namespace vidlm {

bool TokenRowsExact(const ModelState & m) {
  // graphs checked in this llama.cpp (src/models/*.cpp): no `ubatch.token` branch
  static const char * const exact[] = {"llama", "qwen2", "qwen3", "mistral3"};
  const std::string & arch = m.info.architecture;
  if (!m.model || !m.model->tok_embd || m.model->per_layer_tok_embd) return false;
  if (m.model->tok_embd->ne[0] != m.info.nEmbd) return false;
  return std::any_of(std::begin(exact), std::end(exact), [&](const char * a) { return arch == a; });
}

void TokenRow(const llama_model * model, llama_token t, int dim, float * out, std::vector<uint8_t> & scratch) {
  const ggml_tensor * te = model->tok_embd;
  const int64_t n = te->ne[0];
  const size_t rowBytes = te->nb[1];
  scratch.resize(rowBytes);
  // works for host (mmap) and device buffers alike
  ggml_backend_tensor_get(te, scratch.data(), static_cast<size_t>(t) * te->nb[1], rowBytes);
  if (te->type == GGML_TYPE_F32) {
    std::memcpy(out, scratch.data(), n * sizeof(float));
  } else {
    // the same conversion ggml_get_rows applies in the token path
    ggml_get_type_traits(te->type)->to_float(scratch.data(), out, n);
  }
  if (dim > n) std::fill(out + n, out + dim, 0.0f);
}

}  // namespace vidlm
