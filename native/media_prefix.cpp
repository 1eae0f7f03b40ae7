#include "media_prefix.h"

#include <algorithm>
#include <vector>

namespace vidlm {

int DecodeAudioPrefix(mtmd_context * mctx, llama_context * lctx, const mtmd_input_chunk * chunk, const float * embd, int keep,
                      llama_pos nPast, llama_seq_id seq, int nBatch, llama_pos * newNPast) {
  const int dim = llama_model_n_embd_inp(llama_get_model(lctx));
  const bool mrope = mtmd_decode_use_mrope(mctx);
  const bool nonCausal = mtmd_decode_use_non_causal(mctx, chunk);
  if (nonCausal) llama_set_causal_attn(lctx, false);
  int rc = 0;
  for (int off = 0; off < keep && rc == 0; off += nBatch) {
    const int m = std::min(nBatch, keep - off);
    // M-RoPE: four position rows (llama.cpp's layout: all of row 0, then row 1, …); audio has the same position on each
    std::vector<llama_pos> pos(static_cast<size_t>(m) * (mrope ? 4 : 1));
    for (size_t r = 0; r < (mrope ? 4u : 1u); r++)
      for (int i = 0; i < m; i++) pos[r * m + i] = nPast + off + i;
    std::vector<int32_t> nseq(m, 1);
    std::vector<llama_seq_id> seqv(1, seq);
    std::vector<llama_seq_id *> seqp(m, seqv.data());
    std::vector<int8_t> logits(m, 0);
    llama_batch b{};
    b.n_tokens = m;
    b.embd = const_cast<float *>(embd) + static_cast<size_t>(off) * dim;
    b.pos = pos.data();
    b.n_seq_id = nseq.data();
    b.seq_id = seqp.data();
    b.logits = logits.data();
    rc = llama_decode(lctx, b);
  }
  if (nonCausal) llama_set_causal_attn(lctx, true);
  *newNPast = nPast + keep;
  return rc;
}

}  // namespace vidlm
