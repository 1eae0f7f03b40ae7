#include "token_rows.h"

#include <algorithm>
#include <cstring>
#include <iterator>

#include "gguf.h"

namespace vidlm {

namespace {

// Architectures whose graph has no token-only step: the token path is exactly get_rows(tok_embd)
// (graphs checked in this llama.cpp, src/models/*.cpp: no `ubatch.token` branch). Gemma scales
// token rows by sqrt(n_embd), DeepSeek/GLM/Qwen3.5 keep token ids for other inputs... llama.h
// has no public query for this; a `llama_model_token_input_is_rows(model)` would replace the list.
bool ExactArchitecture(const std::string & arch) {
  static const char * const exact[] = {"llama", "qwen2", "qwen3", "mistral3"};
  return std::any_of(std::begin(exact), std::end(exact), [&](const char * a) { return arch == a; });
}

bool SeekTo(std::FILE * f, uint64_t offset) {
#ifdef _WIN32
  return _fseeki64(f, static_cast<__int64>(offset), SEEK_SET) == 0;
#else
  return fseeko(f, static_cast<off_t>(offset), SEEK_SET) == 0;
#endif
}

}  // namespace

std::unique_ptr<TokenRows> TokenRows::Open(const std::string & path, const std::string & architecture, int nEmbd) {
  if (!ExactArchitecture(architecture)) return nullptr;
  ggml_context * meta = nullptr;
  gguf_init_params params{/*no_alloc =*/true, /*ctx =*/&meta};
  gguf_context * g = gguf_init_from_file(path.c_str(), params);
  if (!g) return nullptr;
  std::unique_ptr<TokenRows> rows;
  const int64_t id = gguf_find_tensor(g, "token_embd.weight");
  const ggml_tensor * te = id >= 0 && meta ? ggml_get_tensor(meta, "token_embd.weight") : nullptr;
  // Gemma 3n's per-layer token inputs change the token path too
  const bool perLayer = gguf_find_tensor(g, "per_layer_token_embd.weight") >= 0;
  if (te && !perLayer && te->ne[0] == nEmbd && ggml_get_type_traits(te->type)->to_float != nullptr) {
    rows.reset(new TokenRows());
    rows->type_ = te->type;
    rows->n_ = te->ne[0];
    rows->rowBytes_ = te->nb[1];
    rows->rows_ = te->ne[1];
    rows->offset_ = gguf_get_data_offset(g) + gguf_get_tensor_offset(g, id);
    rows->file_ = std::fopen(path.c_str(), "rb");
    if (!rows->file_) rows.reset();
  }
  gguf_free(g);
  if (meta) ggml_free(meta);
  return rows;
}

TokenRows::~TokenRows() {
  if (file_) std::fclose(file_);
}

bool TokenRows::Row(llama_token t, int dim, float * out, std::vector<uint8_t> & scratch) const {
  if (t < 0 || t >= rows_) return false;
  scratch.resize(rowBytes_);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!SeekTo(file_, offset_ + static_cast<uint64_t>(t) * rowBytes_)) return false;
    if (std::fread(scratch.data(), 1, rowBytes_, file_) != rowBytes_) return false;
  }
  if (type_ == GGML_TYPE_F32) {
    std::memcpy(out, scratch.data(), n_ * sizeof(float));
  } else {
    // the same conversion ggml_get_rows applies in the token path
    ggml_get_type_traits(type_)->to_float(scratch.data(), out, n_);
  }
  if (dim > n_) std::fill(out + n_, out + dim, 0.0f);
  return true;
}

}  // namespace vidlm
